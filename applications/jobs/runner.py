"""Background jobs with a record the UI polls (the cross-check, the secondary trigger): queued at most once, run
one at a time per kind, and never stuck.

At most one job of a kind waits and one runs (database constraints on Job). A request while one waits joins it,
widening its scope if needed. The runner holds a PostgreSQL advisory lock (released by the database when the
worker's connection ends, however it ends) and beats a heartbeat on the job while it works:
- a task delivered again after its worker was lost (acks late, rejected on worker loss) finds its job 运行中,
  takes the lock — so the earlier run is gone — and runs it again from the start: each step of the work writes
  complete, idempotent results, so a restart neither duplicates nor loses anything; after MAX_ATTEMPTS the job
  fails instead;
- a job whose heartbeat stopped (the worker was killed and nothing redelivered its task) is marked 失败 by the
  periodic sweep within STALE_AFTER, and its owner can run it again or cancel a job still waiting.
"""

import datetime
import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_record
from lib.heartbeat import heartbeat
from lib.locks import session_lock
from lib.tasks import enqueue_on_commit

from ..models import Job

logger = logging.getLogger(__name__)

# The Celery task that runs a queued job of each kind (applications/tasks.py), by name.
TASKS = {Job.Kind.CROSSCHECK: "applications.run_crosscheck_job", Job.Kind.SECONDARY: "applications.run_secondary_job"}
STALE_AFTER = datetime.timedelta(minutes=3)  # no heartbeat for this long: the worker is gone
MAX_ATTEMPTS = 3
INTERRUPTED = "任务中断：运行它的进程已停止响应。每一步写入都是完整的，重新运行即可补齐。"


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
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), **fields)
    for name, value in fields.items():
        setattr(job, name, value)


def job_finish(job: Job, *, started: float, audit_action: str, audit_after: dict, **fields) -> Job:
    """Mark the job done with its results and audit the run (in the caller's transaction when there is one, so
    the results and the status commit together)."""
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

    A job finished by an earlier delivery of the task is left as it is; one still 运行中 is restarted (see the
    module's docstring).
    """
    with session_lock(f"applications.job.{kind}"):
        now = timezone.now()
        # Holding the lock, any other job still marked running belongs to a worker that died.
        Job.objects.filter(kind=kind, status=Job.Status.RUNNING).exclude(pk=job_id).update(
            status=Job.Status.FAILED, finished_at=now, message=INTERRUPTED
        )
        job = Job.objects.filter(pk=job_id).first()
        if job is None or job.status not in (Job.Status.QUEUED, Job.Status.RUNNING):
            return job
        if job.status == Job.Status.RUNNING and job.attempts >= MAX_ATTEMPTS:
            Job.objects.filter(pk=job_id).update(
                status=Job.Status.FAILED, finished_at=now, message=f"任务已中断 {job.attempts} 次，不再自动重试"
            )
            return Job.objects.get(pk=job_id)
        restarted = job.status == Job.Status.RUNNING
        claimed = Job.objects.filter(pk=job_id, status=job.status).update(
            status=Job.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            phase="重新开始（上次运行中断）" if restarted else "开始",
        )
        if not claimed:
            return Job.objects.filter(pk=job_id).first()
        job.refresh_from_db()
        if restarted:
            audit_record(actor=None, action="job.restart", obj=job, after={"attempt": job.attempts})
        try:
            with heartbeat(Job, job_id):
                work(job)
        except Exception:
            logger.exception("%s job %s failed", kind, job_id)
            Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), message=failure)
            raise
        job.refresh_from_db()
    return job


def jobs_sweep() -> int:
    """Mark 失败 the running jobs whose heartbeat stopped (periodic, config/schedules.py). Returns how many."""
    stale = timezone.now() - STALE_AFTER
    dead = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    with transaction.atomic():
        jobs = list(dead.select_for_update(skip_locked=True))
        for job in jobs:
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.FAILED, finished_at=timezone.now(), message=INTERRUPTED
            )
            audit_record(actor=None, action="job.interrupted", obj=job, after={"heartbeat_at": str(job.heartbeat_at)})
    return len(jobs)


class JobRefused(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def job_retry(*, job: Job, user) -> Job:
    """Run a failed or cancelled job again, with the same scope (a new request, joined with any waiting one)."""
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise JobRefused("只有失败或已取消的任务可以重新运行")
    return job_request(kind=job.kind, user=user, year=job.year, person_ids=job.people_ids, reason=f"重新运行 #{job.pk}")


def job_cancel(*, job: Job, user) -> Job:
    """Cancel a job still waiting; its task, when delivered, then does nothing."""
    with transaction.atomic():
        cancelled = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), message="已取消"
        )
        if not cancelled:
            raise JobRefused("任务已开始或已结束，不能取消")
        job.refresh_from_db()
        audit_record(actor=user, action="job.cancel", obj=job)
    return job


def job_now(*, kind: str, run: Callable[..., Job | None], user=None, year: int | None = None, reason: str = ""):
    """Request a job and run it in this process (operator command, nightly schedule)."""
    job = job_request(kind=kind, user=user, year=year, reason=reason, enqueue=False)
    return run(job_id=job.pk)
