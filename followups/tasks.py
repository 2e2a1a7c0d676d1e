from celery import shared_task

from . import tickets


@shared_task(name="followups.escalate_overdue")
def escalate_overdue() -> None:
    """Every hour (config/schedules.py): township tickets unanswered past their time limit go to the county."""
    tickets.tickets_escalate()
