"""Pages of the 主动救助 work: leads for the townships."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import audit_record
from lib.pages import paginate
from lib.searches import filter_by, post_search, search_data, valid_filters
from lib.spreadsheet import xlsx_response
from settlements.models import Settlement

from ..cases.workflow import TransitionRefused
from ..models import Lead
from . import services as lead_services
from .exports import leads_workbook
from .forms import CloseForm, ContactForm, LeadFilterForm


def _filtered_leads(request):
    form = LeadFilterForm(search_data(request) or None, user=request.user)
    leads = Lead.objects.visible_to(request.user).select_related("person", "township", "person__village")
    if not request.GET.get("status") and "status" not in request.GET:
        leads = leads.filter(status=Lead.Status.OPEN)
    data = valid_filters(form)
    leads = filter_by(leads, data, "status", "year", "township")
    q = (data.get("q") or "").strip()
    if q:
        leads = leads.search(q)
    return form, leads


@permission_required("applications.view_lead", raise_exception=True)
def lead_list(request):
    if request.method == "POST":
        return post_search(request)
    form, leads = _filtered_leads(request)
    totals = leads.aggregate(n=Count("pk"), estimate=Sum("estimate"))
    page, query = paginate(request, leads.order_by("-estimate", "id"), 30)
    return render(
        request,
        "applications/lead_list.html",
        {"form": form, "page": page, "totals": totals, "pagination_query": query},
    )


@permission_required("applications.view_lead", raise_exception=True)
def lead_export(request):
    """The filtered list as DATA-FORMATS §3; IDs and phones in full only for roles that may see them."""
    _, leads = _filtered_leads(request)
    leads = leads.order_by("township__name", "-estimate", "id")
    masked = not request.user.has_perm("recipients.view_full_pii")
    content = leads_workbook(leads.iterator(chunk_size=2000), masked=masked)
    audit_record(
        actor=request.user,
        action="lead.export",
        object_type="applications.lead",
        object_repr="线索清单",
        after={"rows": leads.count(), "masked": masked, "filter": request.GET.urlencode()},
        comment="" if masked else "含完整身份证号和联系电话",
        request=request,
    )
    return xlsx_response(content, f"leads-{timezone.localtime():%Y%m%d%H%M}.xlsx")


def _visible_lead(request, pk) -> Lead:
    return get_object_or_404(
        Lead.objects.visible_to(request.user).select_related("person", "township", "case", "person__village"), pk=pk
    )


@permission_required("applications.view_lead", raise_exception=True)
def lead_detail(request, pk):
    lead = _visible_lead(request, pk)
    items = list(lead.items.all())
    settlements = Settlement.objects.in_bulk([i.settlement_number for i in items])
    rows = [(item, settlements.get(item.settlement_number)) for item in items]
    return render(
        request,
        "applications/lead_detail.html",
        {
            "lead": lead,
            "rows": rows,
            "contacts": lead.contacts.select_related("recorded_by"),
            "contact_form": ContactForm(),
            "close_form": CloseForm(),
            "can_work": request.user.has_perm("applications.work_lead") and lead.status == Lead.Status.OPEN,
        },
    )


def _work(request, pk, action):
    if not request.user.has_perm("applications.work_lead"):
        raise PermissionDenied
    lead = _visible_lead(request, pk)
    try:
        result = action(lead)
    except TransitionRefused as exc:
        messages.error(request, str(exc))
        return redirect("applications:lead_detail", pk=lead.pk)
    return result or redirect("applications:lead_detail", pk=lead.pk)


@require_POST
def lead_contact(request, pk):
    def action(lead):
        form = ContactForm(request.POST)
        if not form.is_valid():
            messages.error(
                request, "联系记录填写不完整：" + "；".join(e for errs in form.errors.values() for e in errs)
            )
            return None
        lead_services.lead_record_contact(lead=lead, user=request.user, **form.cleaned_data)
        messages.success(request, "已记录联系情况")
        return None

    return _work(request, pk, action)


@require_POST
def lead_close_view(request, pk):
    def action(lead):
        form = CloseForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请选择关闭原因")
            return None
        lead_services.lead_close(lead=lead, user=request.user, **form.cleaned_data)
        messages.success(request, "线索已关闭")
        return None

    return _work(request, pk, action)


@require_POST
def lead_convert_view(request, pk):
    def action(lead):
        case = lead_services.lead_convert(lead=lead, user=request.user)
        messages.success(request, f"已转为申请 {case.number}：请核对就诊记录、收集材料后受理")
        return redirect("applications:case_detail", pk=case.pk)

    return _work(request, pk, action)
