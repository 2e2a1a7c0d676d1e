"""Background work of the applications. Tasks take ids, re-fetch, and call one service; services queue them by
name (lib.tasks), never by importing this module."""

from celery import shared_task

from .jobs.runner import jobs_sweep
from .proactive.crosscheck import crosscheck_request, crosscheck_run_job
from .secondary.services import secondary_request, secondary_run_job


@shared_task(name="applications.run_crosscheck_job")
def run_crosscheck_job(job_id: int) -> None:
    crosscheck_run_job(job_id=job_id)


@shared_task(name="applications.crosscheck_nightly")
def crosscheck_nightly() -> None:
    """The scheduled run (config/schedules.py): every year, all townships."""
    crosscheck_request(reason="定时任务")


@shared_task(name="applications.run_secondary_job")
def run_secondary_job(job_id: int) -> None:
    secondary_run_job(job_id=job_id)


@shared_task(name="applications.secondary_nightly")
def secondary_nightly() -> None:
    """The scheduled run: every person, every year with settlements."""
    secondary_request(reason="定时任务")


@shared_task(name="applications.sweep_jobs")
def sweep_jobs() -> None:
    """Every few minutes (config/schedules.py): jobs whose worker died are marked failed."""
    jobs_sweep()
