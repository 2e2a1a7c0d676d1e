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


@shared_task(name="reports.dashboard_figures")
def dashboard_figures_task(year: int, township_id, county_id, month_from: int, month_to: int) -> None:
    services.dashboard_figures_refresh(
        year=year, township_id=township_id, county_id=county_id, month_from=month_from, month_to=month_to
    )
