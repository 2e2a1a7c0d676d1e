"""The supervisor dashboard, report downloads and the what-if page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from applications.models import PolicyVersion
from audit.services import audit_record
from recipients.categories import Category
from recipients.models import County, Township

from . import services
from .labels import scope_name
from .models import Channel, FactRefresh, ReportFile
from .panels import dashboard_panels

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int(value, default, low, high):
    try:
        return min(high, max(low, int(value)))
    except (TypeError, ValueError):
        return default


def _place(user, params):
    """(township, county) the user asked for and may see: a clerk their township; a county role their county or
    one of its townships; a prefecture role any county or township, or neither (the whole prefecture)."""
    if user.township_scoped:
        return user.township, user.township.county
    township = Township.objects.visible_to(user).filter(pk=_int(params.get("township"), 0, 0, 10**9)).first()
    if user.prefecture_wide:
        county = County.objects.filter(pk=_int(params.get("county"), 0, 0, 10**9)).first()
    else:
        county = County.objects.filter(pk=user.scope_county_id).first()
    if township is not None:
        county = township.county
    return township, county


def _scope(request):
    year = _int(request.GET.get("year"), timezone.localdate().year, 2000, 2100)
    township, county = _place(request.user, request.GET)
    month_from = _int(request.GET.get("from"), 1, 1, 12)
    month_to = _int(request.GET.get("to"), 12, 1, 12)
    return year, township, county, month_from, max(month_from, month_to)


@permission_required("reports.view_dashboard", raise_exception=True)
def dashboard_view(request):
    year, township, county, month_from, month_to = _scope(request)
    if county is None and not request.user.prefecture_wide:
        messages.error(request, "账户尚未指定所属县（区），请联系系统管理")
    now = timezone.now()
    state = FactRefresh.objects.filter(year=year).first()
    queued = (state is None or not state.summarised) and year <= timezone.localdate().year
    if queued:
        # A year nobody has summarised yet: queue its summary (a worker builds it); the page says so meanwhile.
        services.facts_refresh_on_commit(years=[year])
    data = services.dashboard_figures(
        year=year, township=township, county=county, month_from=month_from, month_to=month_to
    )
    data["refreshed"] = state = FactRefresh.objects.filter(year=year).first()
    categories = dict(Category.choices)
    channels = dict(Channel.choices)
    charts = {
        "month": {
            "labels": [f"{r['month']}月" for r in data["by_month"]],
            "values": [float(r["amount"]) for r in data["by_month"]],
        },
        "category": {
            "labels": [categories.get(r["category"], "无有效身份（未识别）") for r in data["by_category"]],
            "values": [float(r["amount"]) for r in data["by_category"]],
        },
        "township": {
            "labels": [r["label"] for r in data["by_township"]],
            "values": [float(r["amount"]) for r in data["by_township"]],
        },
        "channel": {
            "keys": [r["channel"] for r in data["by_channel"]],
            "labels": [channels.get(r["channel"], r["channel"]) for r in data["by_channel"]],
            "values": [r["count"] for r in data["by_channel"]],
        },
    }
    reports = ReportFile.objects.filter(created_by=request.user).select_related("policy")[:10]
    return render(
        request,
        "reports/dashboard.html",
        {
            "d": data,
            "year": year,
            "township": township,
            "county": county,
            "counties": County.objects.order_by("code", "name") if request.user.prefecture_wide else None,
            "scope_name": scope_name(township=township, county=county),
            "month_from": month_from,
            "month_to": month_to,
            "months": range(1, 13),
            "townships": None
            if request.user.township_scoped
            else Township.objects.visible_to(request.user).filter(**({"county": county} if county else {})),
            "charts": charts,
            "reports": reports,
            "any_active": any(r.is_active for r in reports),
            "drafts": PolicyVersion.objects.filter(status=PolicyVersion.Status.DRAFT).filter(
                **({"county": county} if county else {})
            ),
            "categories": categories,
            "channels": channels,
            "summarised": state is not None and state.summarised,
            "refresh_pending": state is not None and state.pending,
            "now": now,
            "queued": queued,
            "panels": dashboard_panels(request=request, year=year, county=county, township=township),
        },
    )


@require_POST
@permission_required("reports.view_dashboard", raise_exception=True)
def refresh_view(request):
    year, *_ = _scope(request)
    services.facts_refresh_on_commit(years=[year])
    messages.success(request, f"已提交刷新 {year} 年统计数据，通常一分钟内完成，请稍后刷新页面查看")
    return redirect(request.META.get("HTTP_REFERER") or "reports:dashboard")


@require_POST
@permission_required("reports.view_dashboard", raise_exception=True)
def report_new(request):
    year = _int(request.POST.get("year"), timezone.localdate().year, 2000, 2100)
    township, county = _place(request.user, request.POST)
    kind = request.POST.get("kind", ReportFile.Kind.YEAR)
    policy = None
    if kind == ReportFile.Kind.WHATIF:
        policy = (
            PolicyVersion.objects.visible_to(request.user)
            .filter(pk=_int(request.POST.get("policy"), 0, 0, 10**9))
            .first()
        )
    try:
        services.report_request(
            user=request.user, year=year, township=township, county=county, kind=kind, policy=policy
        )
    except services.ReportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已提交，生成后可在下方下载或查看")
    return redirect(f"{request.META.get('HTTP_REFERER') or '/reports/'}")


@permission_required("reports.view_dashboard", raise_exception=True)
def report_status(request):
    reports = ReportFile.objects.filter(created_by=request.user).select_related("policy")[:10]
    return render(
        request,
        "reports/_reports.html",
        {"reports": reports, "any_active": any(r.is_active for r in reports), "categories": dict(Category.choices)},
    )


@permission_required("reports.view_dashboard", raise_exception=True)
def report_download(request, pk):
    report = get_object_or_404(ReportFile, pk=pk, created_by=request.user, status=ReportFile.Status.DONE)
    if not report.content:
        return redirect("reports:dashboard")
    audit_record(
        actor=request.user,
        action="report.download",
        obj=report,
        after={"masked": report.masked},
        comment="" if report.masked else "含完整身份证号",
        request=request,
    )
    response = HttpResponse(bytes(report.content), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=report-{report.year}-{report.pk}.xlsx"
    return response


@permission_required("reports.view_dashboard", raise_exception=True)
def whatif_view(request, pk):
    report = get_object_or_404(ReportFile, pk=pk, created_by=request.user, kind=ReportFile.Kind.WHATIF)
    return render(request, "reports/whatif.html", {"report": report, "categories": dict(Category.choices)})
