"""Celery tasks of the monitoring: they take ids and call one service."""

from celery import shared_task
from django.utils import timezone

from .run import monitoring_request, monitoring_run


@shared_task(name="monitoring.run")
def run(run_id: int) -> None:
    monitoring_run(run_id=run_id)


@shared_task(name="monitoring.monthly")
def monthly() -> None:
    """The scheduled run (config/schedules.py): the current month, every county in one pass."""
    monitoring_request(month=timezone.localdate().replace(day=1), reason="定时任务（每月）")
