"""Pages of the complaint tickets: the queues, a ticket opened at a window or from a call, its reply and closing."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from applications.models import Case
from lib.pages import paginate
from lib.params import query_pk
from lib.searches import valid_filters
from payouts.models import PayoutLine
from recipients.idnumber import mask_phone
from recipients.models import Person

from .forms import CloseForm, ReplyForm, TicketFilterForm, TicketForm
from .models import Ticket
from .selectors import tickets_for
from .tickets import TicketRefused, may_handle, ticket_close, ticket_open, ticket_reply

VIEW = "followups.view_ticket"


def _ticket(request, pk) -> Ticket:
    return get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related(
            "person", "township", "county", "case", "line__batch", "call__plan", "opened_by", "replied_by", "closed_by"
        ),
        pk=pk,
    )


@permission_required(VIEW, raise_exception=True)
def ticket_list(request):
    form = TicketFilterForm(request.GET or None, user=request.user)
    filters = valid_filters(form)
    today = timezone.localdate()
    tickets = tickets_for(
        request.user,
        queue=filters.get("queue") or "",
        category=filters.get("category") or "",
        channel=filters.get("channel") or "",
        township=filters.get("township"),
        day=today,
    )
    page, query = paginate(request, tickets, 30)
    return render(
        request,
        "followups/ticket_list.html",
        {"form": form, "page": page, "pagination_query": query, "today": today},
    )


@permission_required("followups.handle_ticket", raise_exception=True)
def ticket_new(request):
    person = None
    person_pk = request.GET.get("person") or request.POST.get("person")
    if person_pk:
        pk = query_pk(person_pk)
        if pk is None:
            raise Http404
        person = get_object_or_404(Person.objects.visible_to(request.user).select_related("township"), pk=pk)
    form = TicketForm(request.POST or None, user=request.user, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if person is None:
            person = (
                Person.objects.visible_to(request.user)
                .select_related("township")
                .filter(id_number=data["id_number"])
                .first()
            )
            if person is None:
                form.add_error("id_number", "本辖区的救助对象中没有这个身份证号")
        case = line = None
        if person is not None and data.get("case_number"):
            case = (
                Case.objects.visible_to(request.user)
                .filter(number=data["case_number"].strip().upper(), person=person)
                .first()
            )
            if case is None:
                form.add_error("case_number", "没有找到该救助对象的这个案件")
        if person is not None and data.get("line_reference"):
            line = PayoutLine.objects.filter(
                reference=data["line_reference"].strip().upper(), case__person=person
            ).first()
            if line is None:
                form.add_error("line_reference", "没有找到该救助对象的这笔支付明细")
        if not form.errors:
            try:
                ticket = ticket_open(
                    user=request.user,
                    person=person,
                    kind=data["kind"],
                    channel=data["channel"],
                    category=data["category"],
                    content=data["content"],
                    owner=data.get("owner") or Ticket.Owner.TOWNSHIP,
                    case=case,
                    line=line,
                )
            except TicketRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"已登记工单 {ticket.number}，答复期限 {ticket.due_on:%Y-%m-%d}（{ticket.time_limit} 个工作日）",
                )
                return redirect("followups:ticket_detail", pk=ticket.pk)
    return render(request, "followups/ticket_new.html", {"form": form, "person": person})


@permission_required(VIEW, raise_exception=True)
def ticket_detail(request, pk):
    ticket = _ticket(request, pk)
    today = timezone.localdate()
    return render(
        request,
        "followups/ticket_detail.html",
        {
            "ticket": ticket,
            "phone": mask_phone(ticket.person.phone),
            "overdue": ticket.is_overdue(today),
            "can_handle": may_handle(request.user, ticket),
            "reply_form": ReplyForm(),
            "close_form": CloseForm(),
            "today": today,
        },
    )


@require_POST
@permission_required("followups.handle_ticket", raise_exception=True)
def ticket_reply_view(request, pk):
    ticket = _ticket(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写答复内容")
        return redirect("followups:ticket_detail", pk=ticket.pk)
    try:
        ticket = ticket_reply(ticket=ticket, user=request.user, reply=form.cleaned_data["reply"], request=request)
    except TicketRefused as exc:
        messages.error(request, str(exc))
    else:
        on_time = "按时答复" if ticket.answered_on_time else "已超过答复期限"
        messages.success(request, f"已答复工单 {ticket.number}（{on_time}），请在办结后点“办结”")
    return redirect("followups:ticket_detail", pk=ticket.pk)


@require_POST
@permission_required("followups.handle_ticket", raise_exception=True)
def ticket_close_view(request, pk):
    ticket = _ticket(request, pk)
    form = CloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        ticket = ticket_close(ticket=ticket, user=request.user, note=note, request=request)
    except TicketRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"工单 {ticket.number} 已办结")
    return redirect("followups:ticket_detail", pk=ticket.pk)
