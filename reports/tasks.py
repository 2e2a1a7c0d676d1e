"""Celery tasks of the reports: each takes ids, calls one service (services queue these by name)."""

from celery import shared_task

from . import services


@shared_task(name="reports.build_report")
def build_report(report_id: int) -> None:
    services.report_build(report_id=report_id)


@shared_task(name="reports.refresh_facts")
def refresh_facts_task(year: int) -> None:
    services.facts_refresh_run(year=year)


@shared_task(name="reports.nightly")
def nightly() -> None:
    services.reports_nightly()
