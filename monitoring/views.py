"""Pages of the 监测预警: the month's list (with its run, export and push), the 因病致贫 applications."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from lib.pages import paginate
from lib.spreadsheet import xlsx_response
from recipients.models import Township

from .exports import listing_push
from .forms import PushForm, ZbDecideForm, ZbOpenForm, ZbScanForm, ZbVerifyForm
from .models import Listing, MonitoringRun, Population, Push, Watch, ZbApplication, ZbScan
from .run import MonitoringRefused, monitoring_request, month_of
from .selectors import latest_month, month_listings
from .services import AssignRefused, watch_assign
from .zb import ZbRefused, identity_holders, zb_attach, zb_decide, zb_open, zb_verify


def _int(value) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _filters(request):
    try:
        month = month_of(request.GET.get("month")) if request.GET.get("month") else None
    except MonitoringRefused:
        month = None
    month = month or latest_month(request.user) or timezone.localdate().replace(day=1)
    township = None
    if not request.user.township_scoped:
        township = Township.objects.visible_to(request.user).filter(pk=_int(request.GET.get("township"))).first()
    population = request.GET.get("population", "")
    new_only = request.GET.get("new") == "1"
    rows = month_listings(
        user=request.user,
        month=month,
        township_id=township.pk if township else None,
        population=population,
        new_only=new_only,
    )
    return rows, {"month": month, "township": township, "population": population, "new_only": new_only}


@permission_required("monitoring.view_listing", raise_exception=True)
def listing_list(request):
    rows, params = _filters(request)
    page, query = paginate(request, rows, 50)
    lines = list(page.object_list)
    today = timezone.localdate()
    open_ids = set(
        ZbApplication.objects.filter(
            id_number__in=[line.watch.id_number for line in lines],
            status__in=[ZbApplication.Status.OPEN, ZbApplication.Status.VERIFIED],
        ).values_list("id_number", flat=True)
    )
    can_open = request.user.has_perm("monitoring.open_zbapplication") and request.user.township_scoped
    holding = identity_holders([line.watch.id_number for line in lines], today) if can_open else set()
    for line in lines:
        line.zb_open = line.watch.id_number in open_ids
        line.may_open = can_open and not line.zb_open and line.watch.id_number not in holding
    page.object_list = lines
    visible_months = Listing.objects.visible_to(request.user).values_list("month", flat=True).distinct()
    return render(
        request,
        "monitoring/listing_list.html",
        {
            "page": page,
            **params,
            "months": sorted(set(visible_months), reverse=True)[:24],
            "populations": Population.choices,
            "townships": None if request.user.township_scoped else Township.objects.visible_to(request.user),
            "assign_townships": Township.objects.visible_to(request.user)
            if request.user.has_perm("monitoring.change_watch")
            else None,
            "pagination_query": query,
            "runs": _runs(request.user),
            "pushes": Push.objects.visible_to(request.user).select_related("pushed_by")[:5],
            "push_form": PushForm(),
            "this_month": today.replace(day=1),
        },
    )


def _runs(user) -> list[MonitoringRun]:
    """The latest runs the user sees; `own_scope` False for a run over more than the user's scope (every county for
    a county role, any run for a township window), whose head counts are not the user's to see."""
    runs = list(MonitoringRun.objects.visible_to(user).select_related("requested_by")[:5])
    for run in runs:
        run.own_scope = not user.township_scoped and (run.county_id is not None or user.prefecture_wide)
    return runs


@require_POST
@permission_required("monitoring.run_monitoring", raise_exception=True)
def run_request(request):
    try:
        month = month_of(request.POST.get("month"), begun=True)
    except MonitoringRefused as exc:
        messages.error(request, str(exc))
        return redirect("monitoring:listing_list")
    county_id = None if request.user.prefecture_wide else request.user.scope_county_id
    monitoring_request(month=month, user=request.user, county_id=county_id, reason="手动运行")
    messages.success(request, f"已请求运行 {month:%Y-%m} 的监测，完成后名单自动更新。")
    return redirect(f"{reverse('monitoring:listing_list')}?month={month:%Y-%m}")


@permission_required("monitoring.push_listing", raise_exception=True)
def listing_export(request):
    rows, params = _filters(request)
    form = PushForm(request.GET)
    if not form.is_valid():
        messages.error(request, "请选择推送部门")
        return redirect("monitoring:listing_list")
    masked = not request.user.has_perm("recipients.view_full_pii")
    county = None if request.user.prefecture_wide else request.user.county
    department = form.cleaned_data["department"]
    name = f"monitoring-{params['month']:%Y%m}-{department}"
    push, content = listing_push(
        listings=rows,
        month=params["month"],
        department=department,
        user=request.user,
        county=county,
        new_only=params["new_only"],
        masked=masked,
        file_name=name,
    )
    return xlsx_response(content, f"{name}-{timezone.localtime():%Y%m%d%H%M}.xlsx")


@require_POST
@permission_required("monitoring.change_watch", raise_exception=True)
def watch_assign_view(request, pk):
    watch = get_object_or_404(Watch.objects.visible_to(request.user), pk=pk)
    township = get_object_or_404(Township.objects.visible_to(request.user), pk=_int(request.POST.get("township")))
    try:
        watch_assign(watch=watch, township=township, user=request.user)
        messages.success(request, f"已分派到 {township.name}")
    except AssignRefused as exc:
        messages.error(request, str(exc))
    month = f"{watch.last_listed:%Y-%m}"
    return redirect(f"{reverse('monitoring:listing_list')}?month={month}")


@permission_required("monitoring.view_zbapplication", raise_exception=True)
def zb_list(request):
    applications = ZbApplication.objects.visible_to(request.user).select_related("township", "opened_by")
    status = request.GET.get("status", "")
    if status in ZbApplication.Status.values:
        applications = applications.filter(status=status)
    page, query = paginate(request, applications, 50)
    return render(
        request,
        "monitoring/zb_list.html",
        {"page": page, "status": status, "statuses": ZbApplication.Status.choices, "pagination_query": query},
    )


@permission_required("monitoring.open_zbapplication", raise_exception=True)
def zb_new(request, listing_pk):
    listing = get_object_or_404(Listing.objects.visible_to(request.user).select_related("watch"), pk=listing_pk)
    form = ZbOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = zb_open(
                listing=listing,
                user=request.user,
                phone=form.cleaned_data["phone"],
                household=form.household(),
                household_size=form.cleaned_data["household_size"],
                declared_income=form.cleaned_data["declared_income"],
                declared_assets=form.cleaned_data["declared_assets"],
            )
        except ZbRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"已受理 {application.number}，请入户核查后录入核查情况。")
            return redirect("monitoring:zb_detail", application.pk)
    return render(request, "monitoring/zb_new.html", {"listing": listing, "form": form})


@permission_required("monitoring.view_zbapplication", raise_exception=True)
def zb_detail(request, pk):
    application = get_object_or_404(
        ZbApplication.objects.visible_to(request.user).select_related(
            "township", "opened_by", "verified_by", "decided_by", "identity"
        ),
        pk=pk,
    )
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "verify":
                form = ZbVerifyForm(request.POST)
                if not form.is_valid():
                    raise ZbRefused("请完整填写入户核查日期、核查人员和核查情况")
                zb_verify(application=application, user=request.user, **form.cleaned_data)
                messages.success(request, "已录入入户核查，申请已提交县局认定。")
            elif step == "scan":
                form = ZbScanForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise ZbRefused("请选择扫描件")
                upload = form.cleaned_data["file"]
                zb_attach(application=application, user=request.user, name=upload.name, content=upload.read())
                messages.success(request, "已上传扫描件。")
            elif step == "decide":
                form = ZbDecideForm(request.POST)
                if not form.is_valid():
                    raise ZbRefused("请选择认定结果并填写认定意见")
                decided = zb_decide(
                    application=application,
                    user=request.user,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                    decided_on=form.cleaned_data["decided_on"],
                )
                messages.success(request, f"已{decided.get_status_display()}。")
        except ZbRefused as exc:
            messages.error(request, str(exc))
        return redirect("monitoring:zb_detail", application.pk)
    user = request.user
    at_window = user.has_perm("monitoring.open_zbapplication") and user.township_id == application.township_id
    return render(
        request,
        "monitoring/zb_detail.html",
        {
            "a": application,
            "scans": application.scans.all(),
            "verify_form": ZbVerifyForm(initial={"visited_on": timezone.localdate()}) if at_window else None,
            "scan_form": ZbScanForm() if at_window else None,
            "decide_form": ZbDecideForm() if user.has_perm("monitoring.decide_zbapplication") else None,
            "separated": user.pk not in (application.opened_by_id, application.verified_by_id),
            "today": datetime.date.today(),
        },
    )


@permission_required("monitoring.view_zbapplication", raise_exception=True)
def zb_scan(request, pk):
    visible = ZbApplication.objects.visible_to(request.user)
    scan = get_object_or_404(ZbScan.objects.filter(application__in=visible), pk=pk)
    return FileResponse(scan.file.open("rb"), content_type=scan.content_type, filename=f"scan{scan.extension}")
