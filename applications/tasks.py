"""Background work of the applications. Tasks take ids, re-fetch, and call one service; services queue them by
name (lib.tasks), never by importing this module."""

from celery import shared_task

from .jobs.runner import jobs_sweep
from .proactive.crosscheck import (
    crosscheck_close_job,
    crosscheck_nightly_requests,
    crosscheck_run_chunk,
    crosscheck_run_job,
)
from .secondary.services import (
    secondary_close_job,
    secondary_nightly_requests,
    secondary_run_chunk,
    secondary_run_job,
)


@shared_task(name="applications.run_crosscheck_job")
def run_crosscheck_job(job_id: int) -> None:
    """Claims the job and sends its chunks to the workers."""
    crosscheck_run_job(job_id=job_id, inline=False)


@shared_task(name="applications.run_crosscheck_chunk")
def run_crosscheck_chunk(chunk_id: int) -> None:
    crosscheck_run_chunk(chunk_id=chunk_id)


@shared_task(name="applications.close_crosscheck_job")
def close_crosscheck_job(job_id: int) -> None:
    """Sent when the last chunk settles: totals and closes the job."""
    crosscheck_close_job(job_id=job_id)


@shared_task(name="applications.crosscheck_nightly")
def crosscheck_nightly() -> None:
    """The scheduled run (config/schedules.py): every year, one job per county."""
    crosscheck_nightly_requests(reason="定时任务")


@shared_task(name="applications.run_secondary_job")
def run_secondary_job(job_id: int) -> None:
    secondary_run_job(job_id=job_id, inline=False)


@shared_task(name="applications.run_secondary_chunk")
def run_secondary_chunk(chunk_id: int) -> None:
    secondary_run_chunk(chunk_id=chunk_id)


@shared_task(name="applications.close_secondary_job")
def close_secondary_job(job_id: int) -> None:
    secondary_close_job(job_id=job_id)


@shared_task(name="applications.secondary_nightly")
def secondary_nightly() -> None:
    """The scheduled run: every person, every year with settlements, one job per county."""
    secondary_nightly_requests(reason="定时任务")


@shared_task(name="applications.sweep_jobs")
def sweep_jobs() -> None:
    """Every few minutes (config/schedules.py): jobs whose worker died are marked failed, their chunks queued
    again."""
    jobs_sweep()
