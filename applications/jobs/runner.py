"""Background jobs with a record the UI polls (the cross-check, the secondary trigger): queued at most once, run
one at a time per kind.

At most one job of a kind waits and one runs (database constraints on Job). A request while one waits joins it,
widening its scope if needed; the runner holds a PostgreSQL advisory lock, so a job left 'running' by a worker
that died is recognised and marked failed by the next one.
"""

import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import audit_record
from lib.locks import session_lock
from lib.tasks import enqueue_on_commit

from ..models import Job

logger = logging.getLogger(__name__)

# The Celery task that runs a queued job of each kind (applications/tasks.py), by name.
TASKS = {Job.Kind.CROSSCHECK: "applications.run_crosscheck_job", Job.Kind.SECONDARY: "applications.run_secondary_job"}


def job_request(
    *,
    kind: str,
    user=None,
    year: int | None = None,
    reason: str = "",
    person_ids: list[int] | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue a job of this kind, or join the one already waiting (all years / everybody wins over a narrower scope).

    With `enqueue` the job's task is sent when the transaction commits; without, the caller runs it itself.
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
            if enqueue:
                enqueue_on_commit(TASKS[kind], job.pk)
            return job
    raise RuntimeError(f"could not queue a {kind} job")


def job_request_on_commit(*, kind: str, reason: str, user=None, person_ids: list[int] | None = None) -> None:
    """Request a job once the current transaction commits. Requests of one kind made in one transaction (a demo
    load, a script, several approvals) become one request, for the union of their people (None: everybody)."""
    wanted = None if person_ids is None else set(person_ids)
    if wanted is not None and not wanted:
        return
    for _, func, _ in connection.run_on_commit:
        if getattr(func, "job_kind", None) == kind:
            if func.people is not None:
                func.people = None if wanted is None else func.people | wanted
            return

    def request():
        people = None if request.people is None else sorted(request.people)
        job_request(kind=kind, user=user, reason=reason, person_ids=people)

    request.job_kind, request.people = kind, wanted
    transaction.on_commit(request)


def job_progress(job: Job, **fields) -> None:
    """Record progress the job page shows (outside the job's own transaction, so it is seen at once)."""
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def job_finish(job: Job, *, started: float, audit_action: str, audit_after: dict, **fields) -> Job:
    """Mark the job done with its results and audit the run."""
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE,
            finished_at=timezone.now(),
            phase="完成",
            message=f"用时 {time.monotonic() - started:.1f} 秒",
            **fields,
        )
        job.refresh_from_db()
        audit_record(actor=None, action=audit_action, obj=job, after=audit_after)
    return job


def job_run(*, kind: str, job_id: int, work: Callable[[Job], None], failure: str) -> Job | None:
    """Run a queued job to the end with `work(job)`, which records the results; waits while another one runs.

    A job already run by an earlier delivery of the task is left as it is.
    """
    with session_lock(f"applications.job.{kind}"):
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


def job_now(*, kind: str, run: Callable[..., Job | None], user=None, year: int | None = None, reason: str = ""):
    """Request a job and run it in this process (operator command, nightly schedule)."""
    job = job_request(kind=kind, user=user, year=year, reason=reason, enqueue=False)
    return run(job_id=job.pk)
