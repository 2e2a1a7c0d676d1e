"""Background work of 基金监管. Tasks take ids and call one service; services and receivers queue them by name
(lib.tasks), never by importing this module."""

from celery import shared_task

from recipients.models import County

from .sampling import previous_month, sample_draw
from .suggestions import suggest


@shared_task(name="supervision.suggest")
def suggest_recoveries(rules: list[str], county_id: int | None = None, found_by: str = "") -> None:
    """The suggestion rules after an import (receivers.py): the reviewer's queue brought up to date."""
    suggest(rules=rules, county_id=county_id, found_by=found_by)


@shared_task(name="supervision.monthly_sample")
def monthly_sample() -> None:
    """The scheduled draw (config/schedules.py): last month's 抽查 of every county; a county already drawn keeps its
    sample."""
    month = previous_month()
    for county in County.objects.order_by("pk"):
        sample_draw(county=county, month=month)
