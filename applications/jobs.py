"""Background jobs with a record the UI polls (the cross-check, the secondary trigger): queued at most once, run
one at a time per kind.

At most one job of a kind waits and one runs (database constraints on Job). A request while one waits joins it,
widening its scope if needed; the runner holds a PostgreSQL advisory lock, so a job left 'running' by a worker
that died is recognised and marked failed by the next one.
"""

import logging
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import audit_record

from .models import Job

logger = logging.getLogger(__name__)


def job_request(
    *,
    kind: str,
    user=None,
    year: int | None = None,
    reason: str = "",
    person_ids: list[int] | None = None,
    task=None,
) -> Job:
    """Queue a job of this kind, or join the one already waiting (all years / everybody wins over a narrower scope).

    `task` is the Celery task to run it, sent when the transaction commits; None for a caller that runs it itself.
    """
    for _attempt in range(3):
        with transaction.atomic():
            waiting = Job.objects.select_for_update().filter(kind=kind, status=Job.Status.QUEUED).first()
            if waiting is not None:
                changed = []
                if waiting.year != year and waiting.year is not None:
                    waiting.year = None
                    changed.append("year")
                if waiting.people_ids is not None:
                    waiting.people_ids = (
                        None if person_ids is None else sorted(set(waiting.people_ids) | set(person_ids))
                    )
                    changed.append("people_ids")
                if changed:
                    waiting.save(update_fields=changed)
                return waiting
            try:
                with transaction.atomic():
                    job = Job.objects.create(
                        kind=kind, year=year, reason=reason[:200], requested_by=user, people_ids=person_ids
                    )
            except IntegrityError:  # another request created the waiting job just now: join it
                continue
            audit_record(actor=user, action="job.request", obj=job, after={"year": year, "reason": reason})
            if task is not None:
                transaction.on_commit(lambda job_id=job.pk: task.delay(job_id))
            return job
    raise RuntimeError(f"could not queue a {kind} job")


class JobLock:
    """Session-level advisory lock on PostgreSQL: released even if the worker dies."""

    def __init__(self, kind: str):
        self.key = f"applications.job.{kind}"

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [self.key])
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [self.key])
        return False


def job_run(*, kind: str, job_id: int, work: Callable[[Job], None], failure: str) -> Job | None:
    """Run a queued job to the end with `work(job)`, which records the results; waits while another one runs.

    A job already run by an earlier delivery of the task is left as it is.
    """
    with JobLock(kind):
        # Holding the lock, any job still marked running belongs to a worker that died.
        Job.objects.filter(kind=kind, status=Job.Status.RUNNING).exclude(pk=job_id).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), message="任务中断（运行它的进程已退出），未写入数据"
        )
        claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started_at=timezone.now(), phase="开始"
        )
        job = Job.objects.filter(pk=job_id).first()
        if job is None or not claimed:
            return job
        try:
            work(job)
        except Exception:
            logger.exception("%s job %s failed", kind, job_id)
            Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), message=failure)
            raise
        job.refresh_from_db()
    return job
