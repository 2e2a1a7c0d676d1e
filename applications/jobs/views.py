"""The jobs page: runs of the cross-check and the secondary trigger, running one now, and the nightly time."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_celery_beat.models import PeriodicTask

from audit.services import audit_record
from config.schedules import NIGHTLY_CROSSCHECK, NIGHTLY_SECONDARY
from lib.pages import paginate
from recipients.models import County

from ..models import Job
from ..proactive.crosscheck import crosscheck_request
from ..secondary.services import secondary_request
from .forms import RunForm, ScheduleForm
from .runner import JobRefused, job_cancel, job_retry

NIGHTLY_TASK = NIGHTLY_CROSSCHECK
JOBS_PAGE = 30


def _clock(task) -> str:
    """A periodic task's daily time as 02:00 (the crontab keeps hour and minute as text)."""
    if task is None or task.crontab is None:
        return ""
    try:
        return f"{int(task.crontab.hour):02d}:{int(task.crontab.minute):02d}"
    except ValueError:  # an expression (every hour …) entered in 系统管理
        return f"{task.crontab.hour} 时 {task.crontab.minute} 分"


@permission_required("applications.view_job", raise_exception=True)
def job_list(request):
    jobs, _ = paginate(
        request, Job.objects.visible_to(request.user).select_related("requested_by", "county"), JOBS_PAGE
    )
    task = PeriodicTask.objects.select_related("crontab").filter(name=NIGHTLY_TASK).first()
    secondary_task = PeriodicTask.objects.select_related("crontab").filter(name=NIGHTLY_SECONDARY).first()
    schedule_form = None
    if task is not None and task.crontab is not None:
        schedule_form = ScheduleForm(
            initial={"enabled": task.enabled, "hour": task.crontab.hour, "minute": task.crontab.minute}
        )
    context = {
        "task_time": _clock(task),
        "secondary_time": _clock(secondary_task),
        "jobs": jobs,
        "any_active": any(j.is_active for j in jobs),
        "run_form": RunForm(user=request.user),
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
    form = RunForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "年度或县（区）填写不正确")
        return redirect("applications:job_list")
    county = form.cleaned_data.get("county")
    county_id = county.pk if county else None
    if not request.user.prefecture_wide:
        county_id = request.user.scope_county_id
        if county_id is None:
            messages.error(request, "账户尚未指定所属县（区），请联系系统管理")
            return redirect("applications:job_list")
    scope = {"year": form.cleaned_data.get("year"), "county_id": county_id}
    if request.POST.get("kind") == Job.Kind.SECONDARY:
        job = secondary_request(user=request.user, reason="手动运行", **scope)
    else:
        job = crosscheck_request(user=request.user, reason="手动运行", **scope)
    messages.success(request, f"已提交{job.get_kind_display()}任务 #{job.pk}，完成后此页会显示结果")
    return redirect("applications:job_list")


def _own_jobs(user):
    """The jobs the user may retry or cancel: their county's (a run over every county is the prefecture's)."""
    jobs = Job.objects.visible_to(user)
    return jobs if user.prefecture_wide or _one_county() else jobs.filter(county_id=user.scope_county_id)


def _one_county() -> bool:
    return County.objects.count() <= 1


@require_POST
@permission_required("django_celery_beat.change_periodictask", raise_exception=True)
def job_schedule(request):
    if not (request.user.prefecture_wide or _one_county()):
        messages.error(request, "各县共用每晚的比对时间，由市级管理设置")
        return redirect("applications:job_list")
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


@require_POST
@permission_required("applications.run_job", raise_exception=True)
def job_retry_view(request, pk):
    job = get_object_or_404(_own_jobs(request.user), pk=pk)
    try:
        again = job_retry(job=job, user=request.user)
        messages.success(request, f"已重新提交{again.get_kind_display()}任务 #{again.pk}")
    except JobRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:job_list")


@require_POST
@permission_required("applications.run_job", raise_exception=True)
def job_cancel_view(request, pk):
    job = get_object_or_404(_own_jobs(request.user), pk=pk)
    try:
        job_cancel(job=job, user=request.user)
        messages.success(request, f"已取消任务 #{job.pk}")
    except JobRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:job_list")
