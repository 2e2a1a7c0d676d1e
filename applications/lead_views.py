"""Pages of the 主动救助 work: leads for the townships, and the cross-check jobs for the county."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_celery_beat.models import PeriodicTask

from audit.services import audit_record

from . import lead_services
from .case_services import TransitionRefused
from .crosscheck import crosscheck_request
from .exports import leads_workbook
from .lead_forms import CloseForm, ContactForm, LeadFilterForm, RunForm, ScheduleForm
from .models import Job, Lead

NIGHTLY_TASK = "主动救助比对（每晚）"
NIGHTLY_SECONDARY = "二次救助测算（每晚）"


def _filtered_leads(request):
    form = LeadFilterForm(request.GET or None, user=request.user)
    leads = Lead.objects.visible_to(request.user).select_related("person", "township", "person__village")
    if not request.GET.get("status") and "status" not in request.GET:
        leads = leads.filter(status=Lead.Status.OPEN)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            leads = leads.filter(status=data["status"])
        if data.get("year"):
            leads = leads.filter(year=data["year"])
        if data.get("township"):
            leads = leads.filter(township=data["township"])
        q = (data.get("q") or "").strip()
        if q:
            leads = leads.filter(Q(number=q.upper()) | Q(person__id_number=q.upper()) | Q(person__name__contains=q))
    return form, leads


@permission_required("applications.view_lead", raise_exception=True)
def lead_list(request):
    form, leads = _filtered_leads(request)
    totals = leads.aggregate(n=Count("pk"), estimate=Sum("estimate"))
    page = Paginator(leads.order_by("-estimate", "id"), 30).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "applications/lead_list.html",
        {"form": form, "page": page, "totals": totals, "pagination_query": params.urlencode()},
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
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f"attachment; filename=leads-{stamp}.xlsx"
    return response


def _visible_lead(request, pk) -> Lead:
    return get_object_or_404(
        Lead.objects.visible_to(request.user).select_related("person", "township", "case", "person__village"), pk=pk
    )


@permission_required("applications.view_lead", raise_exception=True)
def lead_detail(request, pk):
    from settlements.models import Settlement

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


# --- jobs -------------------------------------------------------------------------------------


@permission_required("applications.view_job", raise_exception=True)
def job_list(request):
    jobs = Job.objects.select_related("requested_by")[:50]
    task = PeriodicTask.objects.select_related("crontab").filter(name=NIGHTLY_TASK).first()
    secondary_task = PeriodicTask.objects.select_related("crontab").filter(name=NIGHTLY_SECONDARY).first()
    schedule_form = None
    if task is not None and task.crontab is not None:
        schedule_form = ScheduleForm(
            initial={"enabled": task.enabled, "hour": task.crontab.hour, "minute": task.crontab.minute}
        )
    context = {
        "jobs": jobs,
        "any_active": any(j.is_active for j in jobs),
        "run_form": RunForm(),
        "task": task,
        "secondary_task": secondary_task,
        "schedule_form": schedule_form,
    }
    if request.htmx:
        return render(request, "applications/_job_table.html", context)
    return render(request, "applications/job_list.html", context)


@require_POST
@permission_required("applications.run_job", raise_exception=True)
def job_run(request):
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "年度填写不正确")
        return redirect("applications:job_list")
    if request.POST.get("kind") == Job.Kind.SECONDARY:
        from .secondary import secondary_request

        job = secondary_request(user=request.user, year=form.cleaned_data.get("year"), reason="手动运行")
    else:
        job = crosscheck_request(user=request.user, year=form.cleaned_data.get("year"), reason="手动运行")
    messages.success(request, f"已提交{job.get_kind_display()}任务 #{job.pk}，完成后此页会显示结果")
    return redirect("applications:job_list")


@require_POST
@permission_required("django_celery_beat.change_periodictask", raise_exception=True)
def job_schedule(request):
    form = ScheduleForm(request.POST)
    task = get_object_or_404(PeriodicTask.objects.select_related("crontab"), name=NIGHTLY_TASK)
    if not form.is_valid() or task.crontab is None:
        messages.error(request, "时间填写不正确：时为 0–23，分为 0–59")
        return redirect("applications:job_list")
    data = form.cleaned_data
    before = {"enabled": task.enabled, "hour": task.crontab.hour, "minute": task.crontab.minute}
    with transaction.atomic():
        crontab = task.crontab
        crontab.hour, crontab.minute = str(data["hour"]), str(data["minute"])
        crontab.save()
        task.enabled = data["enabled"]
        task.save()  # saving the task tells celery beat that the schedule changed
        audit_record(
            actor=request.user,
            action="job.schedule",
            obj=task,
            before=before,
            after={"enabled": task.enabled, "hour": crontab.hour, "minute": crontab.minute},
            request=request,
        )
    messages.success(request, "定时比对计划已保存")
    return redirect("applications:job_list")
