"""Report jobs (the yearly workbook and the what-if run, kept for a configurable number of days) and the
refreshes of the assistance summary. Tasks are queued by name (reports/tasks.py calls in here, never the reverse)."""

import datetime
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from lib.cached import keep_value, remembered
from lib.locks import session_lock
from lib.tasks import enqueue_on_commit, send_task
from recipients.models import County, Township

from .excel import report_workbook
from .facts import refresh_facts
from .labels import scope_name
from .models import FactRefresh, ReportFile
from .selectors import dashboard
from .whatif import whatif

logger = logging.getLogger(__name__)


class ReportRefused(ValueError):
    pass


def report_request(
    *, user, year: int, township=None, county=None, kind: str = ReportFile.Kind.YEAR, policy=None
) -> ReportFile:
    """Queue a report. Township clerks get their township only, county roles their county only, the prefecture
    roles any county or all of them; IDs are in full only for roles that may see them."""
    if user.township_scoped:
        township = user.township
    if not user.prefecture_wide:
        if user.scope_county_id is None:
            raise ReportRefused("账户尚未指定所属县（区），请联系系统管理")
        county = County.objects.get(pk=user.scope_county_id)
    if township is not None:
        if county is not None and township.county_id != county.pk:
            raise ReportRefused("只能统计本县（区）的乡镇")
        county = township.county
    if policy is not None and county is not None and policy.county_id != county.pk:
        raise ReportRefused("只能测算本县（区）的政策")
    if kind == ReportFile.Kind.WHATIF and (policy is None or policy.status != "draft"):
        raise ReportRefused("请选择一个草稿状态的政策版本进行测算")
    with transaction.atomic():
        report = ReportFile.objects.create(
            kind=kind,
            year=year,
            township=township,
            county=county,
            policy=policy,
            masked=not user.has_perm("recipients.view_full_pii"),
            created_by=user,
        )
        audit_record(actor=user, action="report.request", obj=report, after={"kind": kind, "year": year})
        enqueue_on_commit("reports.build_report", report.pk)
    return report


def _progress(report_id: int, phase: str, percent: int | None = None) -> None:
    fields = {"phase": phase}
    if percent is not None:
        fields["progress"] = percent
    ReportFile.objects.filter(pk=report_id).update(**fields)


def report_build(*, report_id: int) -> ReportFile | None:
    claimed = ReportFile.objects.filter(pk=report_id, status=ReportFile.Status.QUEUED).update(
        status=ReportFile.Status.RUNNING, phase="开始", progress=5
    )
    report = ReportFile.objects.filter(pk=report_id).select_related("township", "county", "policy").first()
    if report is None or not claimed:
        return report
    try:
        if report.kind == ReportFile.Kind.WHATIF:
            report.result = whatif(
                version=report.policy, year=report.year, progress=lambda phase: _progress(report_id, phase)
            )
        else:
            _progress(report_id, "汇总救助数据", 10)
            refresh_facts(year=report.year)
            report.content = report_workbook(
                year=report.year,
                township=report.township,
                county=report.county,
                masked=report.masked,
                progress=lambda phase, pct: _progress(report_id, phase, pct),
            )
            scope = scope_name(township=report.township, county=report.county)
            report.file_name = f"{report.year}年医疗救助统计-{scope}.xlsx"
    except Exception:
        logger.exception("report %s failed", report_id)
        ReportFile.objects.filter(pk=report_id).update(status=ReportFile.Status.FAILED, message="生成时发生系统错误")
        raise
    now = timezone.now()
    report.status, report.finished_at, report.progress, report.phase = ReportFile.Status.DONE, now, 100, "完成"
    report.expires_at = now + datetime.timedelta(days=settings.REPORT_KEEP_DAYS)
    report.save()
    return report


def reports_expire() -> int:
    """Delete reports past their keeping time (nightly)."""
    deleted, _ = ReportFile.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


# --- the summary's refreshes ----------------------------------------------------------------------

REFRESH_TASK = "reports.refresh_facts"
# A request older than this whose task never started (a lost message, a broker restart) is sent again.
STALE_REQUEST = datetime.timedelta(minutes=15)


def facts_refresh_on_commit(*, years: Iterable[int] = (), find: Callable[[], Iterable[int]] | None = None) -> None:
    """Ask for the summary of these years (and of those `find()` names, asked after the commit) to be rebuilt once
    the current transaction commits. Requests made in one transaction (1,000 approvals in a bulk action, a
    roster and a settlement file loaded together) are merged into one."""
    years = {int(y) for y in years}
    for _, func, _ in connection.run_on_commit:
        if getattr(func, "facts_years", None) is not None and not func.facts_done:
            func.facts_years |= years
            if find is not None:
                func.facts_finders.append(find)
            return

    def request():
        request.facts_done = True
        wanted = set(request.facts_years)
        for finder in request.facts_finders:
            wanted.update(int(y) for y in finder())
        for year in sorted(wanted):
            facts_request_refresh(year=year)

    request.facts_years, request.facts_finders, request.facts_done = years, [] if find is None else [find], False
    # Robust: the change itself has committed; a failure to queue must not turn it into an error page.
    transaction.on_commit(request, robust=True)


def facts_request_refresh(*, year: int) -> bool:
    """Queue a rebuild of the year unless one is already queued: a conditional update of the year's row, so a
    burst of changes sends one task. Call it after the changes have committed (facts_refresh_on_commit): a
    request that finds one queued relies on that task not having started yet. Returns whether a task was sent."""
    now = timezone.now()
    with transaction.atomic():
        if not FactRefresh.objects.filter(year=year).exists():
            FactRefresh.objects.bulk_create([FactRefresh(year=year)], ignore_conflicts=True)
        queued = (
            FactRefresh.objects.filter(year=year)
            .filter(Q(requested_at__isnull=True) | Q(requested_at__lt=now - STALE_REQUEST))
            .update(requested_at=now)
        )
        if queued:
            enqueue_on_commit(REFRESH_TASK, year)
    return bool(queued)


def facts_refresh_run(*, year: int) -> int | None:
    """Run the queued rebuild of the year (the task): waits while another rebuild of the year runs, then claims
    the request, so changes committed while it waited are included. None when there was nothing to claim (an
    earlier delivery did it)."""
    with session_lock("reports.facts.run", year):
        # Holding the lock, a started_at still set belongs to a worker that died mid-way: run again.
        claimed = (
            FactRefresh.objects.filter(year=year)
            .filter(Q(requested_at__isnull=False) | Q(started_at__isnull=False))
            .update(requested_at=None, started_at=timezone.now())
        )
        if not claimed:
            return None
        try:
            return refresh_facts(year=year)
        finally:
            FactRefresh.objects.filter(year=year).update(started_at=None)


def facts_refresh_now(*, year: int) -> int:
    """Rebuild the year in this process (the nightly schedule, operator scripts), taking any queued request."""
    with transaction.atomic():
        if not FactRefresh.objects.filter(year=year).exists():
            FactRefresh.objects.bulk_create([FactRefresh(year=year)], ignore_conflicts=True)
        FactRefresh.objects.filter(year=year, requested_at__isnull=True).update(requested_at=timezone.now())
    rows = facts_refresh_run(year=year)
    return refresh_facts(year=year) if rows is None else rows


def reports_nightly() -> None:
    """Rebuild this year's and last year's summary; drop expired report files."""
    year = timezone.localdate().year
    for y in (year - 1, year):
        facts_refresh_now(year=y)
    reports_expire()


# --- the dashboard's figures, kept -----------------------------------------------------------------

# Figures older than DASHBOARD_CACHE_SECONDS are still shown, up to this long, while a worker computes them again.
DASHBOARD_STALE_SECONDS = 6 * 3600


def _dashboard_key(year, township_id, county_id, month_from, month_to) -> tuple:
    # A summary refresh changes the key, so that it is shown at once; so does a new day (overdue cases).
    refreshed = FactRefresh.objects.filter(year=year).values_list("refreshed_at", flat=True).first()
    return ("reports.dashboard", year, township_id, county_id, month_from, month_to, timezone.localdate(), refreshed)


def dashboard_figures(*, year: int, township=None, county=None, month_from: int = 1, month_to: int = 12) -> dict:
    """The dashboard's figures for a scope and period (reports.selectors.dashboard), kept (lib.cached): they read a
    county's year of cases and leads. Figures older than DASHBOARD_CACHE_SECONDS are shown while a worker
    computes them again (reports.dashboard_figures), so that only the first viewer of a scope waits for them."""
    scope = (year, township and township.pk, county and county.pk, month_from, month_to)
    return remembered(
        _dashboard_key(*scope),
        lambda: dashboard(year=year, township=township, county=county, month_from=month_from, month_to=month_to),
        seconds=settings.DASHBOARD_CACHE_SECONDS,
        refresh=lambda: send_task("reports.dashboard_figures", *scope),
        keep=DASHBOARD_STALE_SECONDS,
    )


def dashboard_figures_refresh(*, year: int, township_id, county_id, month_from: int, month_to: int) -> None:
    """Compute a scope's dashboard figures again and keep them (asked for when the kept ones grew old)."""
    township = Township.objects.filter(pk=township_id).first() if township_id else None
    county = County.objects.filter(pk=county_id).first() if county_id else None
    figures = dashboard(year=year, township=township, county=county, month_from=month_from, month_to=month_to)
    keep_value(
        _dashboard_key(year, township_id, county_id, month_from, month_to), figures, seconds=DASHBOARD_STALE_SECONDS
    )
