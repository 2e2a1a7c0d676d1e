"""Report jobs: the yearly workbook and the what-if run, kept for a configurable number of days."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from .models import ReportFile

logger = logging.getLogger(__name__)


class ReportRefused(ValueError):
    pass


def report_request(*, user, year: int, township=None, kind: str = ReportFile.Kind.YEAR, policy=None) -> ReportFile:
    """Queue a report. Township clerks get their township only; IDs are in full only for roles that may see them."""
    if user.township_scoped:
        township = user.township
    if kind == ReportFile.Kind.WHATIF and (policy is None or policy.status != "draft"):
        raise ReportRefused("请选择一个草稿状态的政策版本进行测算")
    with transaction.atomic():
        report = ReportFile.objects.create(
            kind=kind,
            year=year,
            township=township,
            policy=policy,
            masked=not user.has_perm("recipients.view_full_pii"),
            created_by=user,
        )
        audit_record(actor=user, action="report.request", obj=report, after={"kind": kind, "year": year})
        from .tasks import build_report

        transaction.on_commit(lambda: build_report.delay(report.pk))
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
    report = ReportFile.objects.filter(pk=report_id).select_related("township", "policy").first()
    if report is None or not claimed:
        return report
    try:
        if report.kind == ReportFile.Kind.WHATIF:
            from .whatif import whatif

            report.result = whatif(
                version=report.policy, year=report.year, progress=lambda phase: _progress(report_id, phase)
            )
        else:
            from .excel import report_workbook
            from .facts import refresh_facts

            _progress(report_id, "汇总救助数据", 10)
            refresh_facts(year=report.year)
            report.content = report_workbook(
                year=report.year,
                township=report.township,
                masked=report.masked,
                progress=lambda phase, pct: _progress(report_id, phase, pct),
            )
            scope = report.township.name if report.township else "全县"
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
