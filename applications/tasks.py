"""Background work of the applications: the cross-check. Tasks take ids, re-fetch, and call one service."""

from celery import shared_task

from . import crosscheck, secondary


@shared_task(name="applications.run_crosscheck_job")
def run_crosscheck_job(job_id: int) -> None:
    crosscheck.crosscheck_run_job(job_id=job_id)


@shared_task(name="applications.crosscheck_nightly")
def crosscheck_nightly() -> None:
    """The scheduled run (django-celery-beat): every year, all townships."""
    crosscheck.crosscheck_request(reason="定时任务")


@shared_task(name="applications.run_secondary_job")
def run_secondary_job(job_id: int) -> None:
    secondary.secondary_run_job(job_id=job_id)


@shared_task(name="applications.secondary_nightly")
def secondary_nightly() -> None:
    """The scheduled run: every person, every year with settlements."""
    secondary.secondary_request(reason="定时任务")
