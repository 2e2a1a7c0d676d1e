"""Pages of the follow-up plans and calls: thin views over followups.plans and followups.calls."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import audit_record
from lib.pages import paginate
from lib.spreadsheet import xlsx_response
from recipients.idnumber import mask_phone
from recipients.models import Township

from .calls import CallRefused, call_record, may_record, phones_reveal
from .callsheet import call_sheet, calls_of
from .forms import ATTEMPTS_HELP, CallForm, PlanForm
from .models import FollowupCall, FollowupPlan, Ticket
from .plans import PlanRefused, plan_cancel, plan_create, plan_scope, plan_townships
from .selectors import in_other_plans, plans_for

VIEW = "followups.view_followupplan"


def _plan(request, pk) -> FollowupPlan:
    return get_object_or_404(
        FollowupPlan.objects.visible_to(request.user).select_related("batch", "created_by", "county"), pk=pk
    )


def _township(request, plan: FollowupPlan, township_pk) -> Township:
    township = Township.objects.visible_to(request.user).filter(pk=township_pk).first()
    if township is None or not plan.calls.filter(township=township).exists():
        raise Http404
    return township


@permission_required(VIEW, raise_exception=True)
def plan_list(request):
    page, _ = paginate(request, plans_for(request.user), 30)
    return render(request, "followups/plan_list.html", {"page": page})


@permission_required("followups.manage_followupplan", raise_exception=True)
def plan_new(request):
    form = PlanForm(request.POST or None, user=request.user, initial={"basis": FollowupPlan.Basis.BATCH})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        basis_batch = data["basis"] == FollowupPlan.Basis.BATCH
        try:
            scope = plan_scope(
                user=request.user,
                batch=data["batch"] if basis_batch else None,
                month="" if basis_batch else data["month"],
            )
            plan = plan_create(user=request.user, scope=scope, **form.plan_options())
        except PlanRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"已生成回访计划 {plan.number}：{plan.scope_text}，发放成功 {plan.population:,} 笔，"
                f"{plan.method_text}，共 {plan.call_count:,} 笔（随机种子 {plan.seed}）",
            )
            repeated = in_other_plans(plan, plan.calls.values_list("line_id", flat=True))
            if repeated:
                numbers = sorted({c.plan.number for calls in repeated.values() for c in calls})
                messages.warning(
                    request,
                    f"其中 {len(repeated):,} 笔此前已列入回访计划 {'、'.join(numbers[:5])}{'等' if len(numbers) > 5 else ''}；"
                    "回访清单上会注明，窗口可参照已有结果，避免重复打扰",
                )
            return redirect("followups:plan_detail", pk=plan.pk)
    return render(request, "followups/plan_new.html", {"form": form})


@permission_required(VIEW, raise_exception=True)
def plan_detail(request, pk):
    plan = _plan(request, pk)
    townships = plan_townships(plan, user=request.user)
    totals = {key: sum(row[key] for row in townships) for key in ("calls", "done", "reached", "unreachable", "tickets")}
    return render(
        request,
        "followups/plan_detail.html",
        {
            "plan": plan,
            "townships": townships,
            "totals": totals,
            "can_import": request.user.has_perm("followups.record_followupcall") and not plan.cancelled,
            "can_cancel": request.user.has_perm("followups.manage_followupplan")
            and not plan.cancelled
            and not totals["done"],
            "full_phones": request.user.has_perm("recipients.view_full_pii"),
        },
    )


@require_POST
@permission_required("followups.manage_followupplan", raise_exception=True)
def plan_cancel_view(request, pk):
    plan = _plan(request, pk)
    try:
        plan = plan_cancel(plan=plan, user=request.user, reason=request.POST.get("reason", ""))
    except PlanRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"回访计划 {plan.number} 已作废，{plan.call_count:,} 笔回访不再列入乡镇窗口的待回访")
    return redirect("followups:plan_detail", pk=plan.pk)


@permission_required(VIEW, raise_exception=True)
def call_list(request, pk, township_pk):
    """One township's call list: phones masked; a user holding the personal-data permission may show the page's
    phones in full, and each such view is audited."""
    plan = _plan(request, pk)
    township = _township(request, plan, township_pk)
    calls = (
        plan.calls.filter(township=township)
        .select_related("person", "called_by")
        .prefetch_related(Prefetch("ticket", queryset=Ticket.objects.only("pk", "number", "call_id")))
        .order_by("number")
    )
    status = request.GET.get("status", "")
    if status == "todo":
        calls = calls.filter(receipt__in=["", "unreachable"])
    elif status == "done":
        calls = calls.exclude(receipt="")
    page, query = paginate(request, calls, 50)
    phones = {}
    if request.method == "POST" and request.POST.get("do") == "reveal":
        try:
            phones = phones_reveal(
                user=request.user,
                calls=list(page.object_list),
                what=f"回访计划 {plan.number} {township.name} 第 {page.number} 页",
                request=request,
            )
        except CallRefused as exc:
            messages.error(request, str(exc))
    rows = [(call, phones.get(call.pk) or mask_phone(call.person.phone)) for call in page.object_list]
    elsewhere = in_other_plans(plan, [call.line_id for call in page.object_list])
    for call in page.object_list:
        call.elsewhere = elsewhere.get(call.line_id, [])
    return render(
        request,
        "followups/call_list.html",
        {
            "plan": plan,
            "township": township,
            "page": page,
            "rows": rows,
            "revealed": bool(phones),
            "status": status,
            "pagination_query": query,
            "can_record": request.user.has_perm("followups.record_followupcall") and not plan.cancelled,
            "can_reveal": request.user.has_perm("recipients.view_full_pii"),
        },
    )


@permission_required(VIEW, raise_exception=True)
def call_sheet_download(request, pk):
    """The call list to fill in (DATA-FORMATS §11): a township's, or the whole plan's for county staff. Phones in
    full for users holding the personal-data permission, masked for the others; every download is audited."""
    plan = _plan(request, pk)
    township = None
    if request.user.township_scoped:
        township = _township(request, plan, request.user.township_id)
    elif request.GET.get("township"):
        township = _township(request, plan, request.GET["township"])
    calls = calls_of(plan, township)
    masked = not request.user.has_perm("recipients.view_full_pii")
    count = calls.count()
    audit_record(
        actor=request.user,
        action="followup.export",
        obj=plan,
        after={"township": township.name if township else "全部", "calls": count, "masked": masked},
        comment="" if masked else "含完整联系电话",
        request=request,
    )
    content = call_sheet(plan, calls, masked=masked, township_name=township.name if township else "")
    suffix = f"-{township.code or township.pk}" if township else ""
    return xlsx_response(content, f"huifang-{plan.number}{suffix}.xlsx")


@permission_required(VIEW, raise_exception=True)
def call_detail(request, pk):
    call = get_object_or_404(
        FollowupCall.objects.visible_to(request.user).select_related(
            "plan", "township", "person", "line__batch", "called_by"
        ),
        pk=pk,
    )
    list_url = reverse("followups:call_list", args=[call.plan_id, call.township_id])
    can_record = may_record(request.user, call)
    phone = mask_phone(call.person.phone)
    initial = {
        "receipt": call.receipt,
        "satisfaction": call.satisfaction,
        "aware": {True: "yes", False: "no"}.get(call.aware, ""),
        "note": call.note,
    }
    form = CallForm(initial=initial)
    if request.method == "POST" and request.POST.get("do") == "reveal":
        try:
            phone = phones_reveal(user=request.user, calls=[call], what=f"回访 {call.number}", request=request)[call.pk]
        except CallRefused as exc:
            messages.error(request, str(exc))
    elif request.method == "POST":
        form = CallForm(request.POST)
        if not can_record:
            messages.error(request, "没有记录该回访的权限")
        elif form.is_valid():
            try:
                call, ticket = call_record(call=call, user=request.user, result=form.result(), request=request)
            except CallRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"已记录回访 {call.number}（{call.get_receipt_display()}，第 {call.attempts} 次拨打）"
                )
                if ticket is not None:
                    messages.warning(
                        request,
                        f"回访发现{call.get_receipt_display()}，已自动生成投诉工单 {ticket.number}，由{call.township.name}承办",
                    )
                return redirect(list_url)
    ticket = Ticket.objects.filter(call=call).first()
    return render(
        request,
        "followups/call_detail.html",
        {
            "call": call,
            "form": form,
            "phone": phone,
            "list_url": list_url,
            "can_record": can_record,
            "can_reveal": request.user.has_perm("recipients.view_full_pii"),
            "ticket": ticket,
            "attempts_help": ATTEMPTS_HELP,
        },
    )
