from celery import shared_task

from . import services
from .facts import refresh_facts


@shared_task(name="reports.build_report")
def build_report(report_id: int) -> None:
    services.report_build(report_id=report_id)


@shared_task(name="reports.refresh_facts")
def refresh_facts_task(year: int) -> None:
    refresh_facts(year=year)


@shared_task(name="reports.nightly")
def nightly() -> None:
    """Refresh this year's and last year's summary; drop expired report files."""
    from django.utils import timezone

    year = timezone.localdate().year
    for y in (year - 1, year):
        refresh_facts(year=y)
    services.reports_expire()
