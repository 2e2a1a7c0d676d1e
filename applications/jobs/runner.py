"""Background jobs with a record the UI polls (the cross-check, the secondary trigger): queued at most once per
kind and county, run in chunks of people by as many workers as there are, and never stuck.

At most one job of a kind and county waits and one runs (database constraints); a job of all counties and a job of
one county overlap, so one waits for the other. A request while one waits joins it, widening its scope if needed.
The job's own task claims it, works out what its chunks share (`prepare`), cuts its people into chunks in SQL and
sends them to the workers as a Celery group (jobs.chunks); the last chunk to finish closes the job. Nothing holds
a lock for the whole job: each chunk holds a PostgreSQL advisory lock of its kind, county and number (released
by the database when the worker's connection ends, however it ends) and beats a heartbeat while it works:
- a task delivered again after its worker was lost (acks late, rejected on worker loss) finds its chunk 运行中,
  takes the lock — so the earlier run is gone — and runs the chunk again: a chunk writes its results in one
  transaction, so a restart neither duplicates nor loses anything; after MAX_ATTEMPTS the chunk fails instead,
  and so does the job once its other chunks are done;
- a chunk whose heartbeat stopped (nothing redelivered its task) is queued again by the periodic sweep, and a
  job that died before its chunks existed is marked 失败 within STALE_AFTER; its owner can run it again or
  cancel a job still waiting.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_record
from lib.heartbeat import heartbeat
from lib.locks import session_lock, xact_lock
from lib.tasks import enqueue_on_commit
from recipients.models import County, Person

from ..models import Job, JobChunk
from .chunks import WAITING, chunk_run, chunks_plan, chunks_send, chunks_sweep, job_close
from .records import INTERRUPTED, MAX_ATTEMPTS, RESEND_AFTER, STALE_AFTER, TASKS, overlapping

logger = logging.getLogger(__name__)

WAIT_SECONDS = 2  # a job run in this process polls this often while an overlapping one runs


def job_request(
    *,
    kind: str,
    user=None,
    year: int | None = None,
    reason: str = "",
    person_ids: list[int] | None = None,
    county_id: int | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue a job of this kind for a county (None: all), or join the one of that county already waiting (all
    years / everybody wins over a narrower scope).

    With `enqueue` the job's task is sent when the transaction commits; without, the caller runs it itself.
    """
    for _attempt in range(3):
        with transaction.atomic():
            waiting = (
                Job.objects.select_for_update().filter(kind=kind, county_id=county_id, status=Job.Status.QUEUED).first()
            )
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
                        kind=kind,
                        county_id=county_id,
                        year=year,
                        reason=reason[:200],
                        requested_by=user,
                        people_ids=person_ids,
                    )
            except IntegrityError:  # another request created the waiting job just now: join it
                continue
            after = {"year": year, "reason": reason}
            if county_id is not None:
                after["county"] = county_id
            audit_record(actor=user, action="job.request", obj=job, after=after)
            if enqueue:
                enqueue_on_commit(TASKS[kind], job.pk)
            return job
    raise RuntimeError(f"could not queue a {kind} job")


def job_request_on_commit(*, kind: str, reason: str, user=None, person_ids: list[int] | None = None) -> None:
    """Request a job once the current transaction commits. Requests of one kind made in one transaction (a demo
    load, a script, several approvals) become one request, for the union of their people (None: everybody, in
    one job of all counties); listed people are requested county by county, so that counties run side by side."""
    wanted = None if person_ids is None else set(person_ids)
    if wanted is not None and not wanted:
        return
    for _, func, _ in connection.run_on_commit:
        if getattr(func, "job_kind", None) == kind:
            if func.people is not None:
                func.people = None if wanted is None else func.people | wanted
            return

    def request():
        if request.people is None:
            job_request(kind=kind, user=user, reason=reason)
            return
        for county_id, people in people_by_county(request.people).items():
            job_request(kind=kind, user=user, reason=reason, person_ids=people, county_id=county_id)

    request.job_kind, request.people = kind, wanted
    transaction.on_commit(request)


def job_request_per_county(*, kind: str, reason: str) -> list[Job]:
    """One job per county that has townships, so that the counties run side by side (one of all counties when
    there is none yet)."""
    counties = County.objects.filter(townships__isnull=False).distinct().order_by("pk").values_list("pk", flat=True)
    return [job_request(kind=kind, reason=reason, county_id=pk) for pk in counties] or [
        job_request(kind=kind, reason=reason)
    ]


def people_by_county(person_ids) -> dict[int | None, list[int]]:
    """These people (ids) by the county of their township, each list sorted; ids of no one are left out."""
    found: dict[int | None, list[int]] = {}
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        for pk, county_id in Person.objects.filter(pk__in=part).values_list("pk", "township__county_id"):
            found.setdefault(county_id, []).append(pk)
    return {county_id: sorted(people) for county_id, people in found.items()}


def job_run(
    *,
    kind: str,
    job_id: int,
    prepare: Callable[[Job], None],
    work: Callable[[JobChunk], None],
    finish: Callable[[Job], None],
    failure: str,
    inline: bool = False,
) -> Job | None:
    """Run a queued job: claim it, let `prepare(job)` record what its chunks share, cut its people into chunks,
    and send them to the workers (each runs `work(chunk)`; the last one's close calls `finish(job)`).

    `inline` runs the chunks one after the other in this process and closes the job before returning, waiting
    first while an overlapping job runs (operator command, tests). Queued, a job that finds an overlapping one
    running stays queued and is sent again when that one closes. A job finished by an earlier delivery of the
    task is left as it is; one still 运行中 before its chunks existed is restarted.
    """
    with session_lock(f"applications.job.{kind}", job_id):  # against a copy of this task still planning
        while True:
            job, state = _claim(kind=kind, job_id=job_id)
            if state != "wait" or not inline:
                break
            time.sleep(WAIT_SECONDS)
        if state in ("gone", "wait"):
            return job
        if state in ("claimed", "restarted"):
            try:
                with heartbeat(Job, job.pk):
                    prepare(job)
                    chunks_plan(job, size=settings.JOB_CHUNK_PEOPLE)
            except Exception:
                logger.exception("%s job %s failed", kind, job_id)
                Job.objects.filter(pk=job_id).update(
                    status=Job.Status.FAILED, finished_at=timezone.now(), message=failure
                )
                raise
            job_progress_phase(job, f"分 {job.chunks_total} 块运行")
    if not inline:
        chunks_send(job)
        return Job.objects.filter(pk=job_id).first()
    for pk in job.chunks.order_by("number").values_list("pk", flat=True):
        chunk = chunk_run(chunk_id=pk, work=work, failure=failure, inline=True)
        while chunk is not None and chunk.status == JobChunk.Status.QUEUED:  # it raised: again, alone
            chunk = chunk_run(chunk_id=pk, work=work, failure=failure, inline=True)
    return job_close(job_id=job_id, finish=finish)


def job_progress_phase(job: Job, phase: str) -> None:
    Job.objects.filter(pk=job.pk).update(phase=phase, heartbeat_at=timezone.now())
    job.phase = phase


def _claim(*, kind: str, job_id: int) -> tuple[Job | None, str]:
    """Claim the job for running: "claimed", "restarted" (an earlier run died before its chunks existed),
    "planned" (its chunks exist: a copy of the task delivered again), "wait" (an overlapping job runs) or "gone"
    (finished, cancelled, or failed now after MAX_ATTEMPTS)."""
    with transaction.atomic():
        xact_lock(f"applications.job.{kind}")  # claims of a kind one at a time, and against job_close
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (Job.Status.QUEUED, Job.Status.RUNNING):
            return job, "gone"
        now = timezone.now()
        if job.status == Job.Status.RUNNING:
            if job.chunks_total:
                return job, "planned"
            if job.attempts >= MAX_ATTEMPTS:
                Job.objects.filter(pk=job_id).update(
                    status=Job.Status.FAILED, finished_at=now, message=f"任务已中断 {job.attempts} 次，不再自动重试"
                )
                job.refresh_from_db()
                return job, "gone"
        in_the_way = False
        for other in overlapping(job).filter(status=Job.Status.RUNNING):
            if _dead(other, now):
                Job.objects.filter(pk=other.pk, status=Job.Status.RUNNING).update(
                    status=Job.Status.FAILED, finished_at=now, message=INTERRUPTED
                )
                audit_record(actor=None, action="job.interrupted", obj=other, after={"by": job.pk})
            else:
                in_the_way = True
        if in_the_way:
            if job.status == Job.Status.QUEUED:
                Job.objects.filter(pk=job_id).update(phase=WAITING, heartbeat_at=now)
                job.phase = WAITING
            return job, "wait"
        restarted = job.status == Job.Status.RUNNING
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            phase="重新开始（上次运行中断）" if restarted else "开始",
        )
        job.refresh_from_db()
        if restarted:
            audit_record(actor=None, action="job.restart", obj=job, after={"attempt": job.attempts})
        return job, "restarted" if restarted else "claimed"


def _dead(job: Job, now) -> bool:
    """Whether a running job is left by a worker that died. On the embedded SQLite everything runs in one
    process, so any; on PostgreSQL one that died before its chunks existed (its chunks, once they exist, are
    looked after by the sweep, however long they wait for a worker)."""
    if connection.vendor != "postgresql":
        return True
    return not job.chunks_total and (job.heartbeat_at is None or job.heartbeat_at < now - STALE_AFTER)


def jobs_sweep() -> int:
    """Nothing stays stuck (periodic, config/schedules.py): running jobs whose heartbeat stopped before their
    chunks existed are marked 失败; chunks whose worker died are queued again, lost ones sent again, unclosed
    jobs closed (jobs.chunks); a waiting job whose task was lost is sent again. Returns how many jobs failed."""
    now = timezone.now()
    stale = now - STALE_AFTER
    dead = Job.objects.filter(status=Job.Status.RUNNING, chunks_total=0).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    with transaction.atomic():
        jobs = list(dead.select_for_update(skip_locked=True))
        for job in jobs:
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.FAILED, finished_at=timezone.now(), message=INTERRUPTED
            )
            audit_record(actor=None, action="job.interrupted", obj=job, after={"heartbeat_at": str(job.heartbeat_at)})
    chunks_sweep(now)
    lost = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(heartbeat_at__lt=now - RESEND_AFTER) | Q(heartbeat_at__isnull=True, requested_at__lt=now - RESEND_AFTER)
    )
    for pk, kind in lost.values_list("pk", "kind"):
        Job.objects.filter(pk=pk).update(heartbeat_at=now)
        enqueue_on_commit(TASKS[kind], pk)
    return len(jobs)


class JobRefused(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def job_retry(*, job: Job, user) -> Job:
    """Run a failed or cancelled job again, with the same scope (a new request, joined with any waiting one)."""
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise JobRefused("只有失败或已取消的任务可以重新运行")
    return job_request(
        kind=job.kind,
        user=user,
        year=job.year,
        person_ids=job.people_ids,
        county_id=job.county_id,
        reason=f"重新运行 #{job.pk}",
    )


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


def job_now(
    *,
    kind: str,
    run: Callable[..., Job | None],
    user=None,
    year: int | None = None,
    reason: str = "",
    county_id: int | None = None,
):
    """Request a job and run it in this process (operator command, nightly schedule)."""
    job = job_request(kind=kind, user=user, year=year, reason=reason, county_id=county_id, enqueue=False)
    return run(job_id=job.pk)
