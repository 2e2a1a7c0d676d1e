"""A job's work in chunks of people (JobChunk): cut in SQL by county and person-id range, run one by one by any
worker, each under its own lock, and closed when the last one settles — the chord's callback, counted on the Job
row rather than in a result store, so that a chunk retried alone (after an error, or sent again by the sweep)
still counts once.

- `chunk_run` runs one chunk: its work writes its people's results and the chunk's figures in one transaction
  (`chunk_record`), so a chunk is done or not at all; a chunk that raises is queued again alone, up to
  MAX_ATTEMPTS runs; a chunk found running under its free lock was left by a dead worker and restarts.
- `job_close` totals the chunks' figures onto the job once every chunk is done or failed, and hands a job with
  every chunk done to its kind's `finish` (results and audit row).
- `chunks_sweep` (periodic) queues again the chunks whose heartbeat stopped and the ones never started, and closes
  jobs whose close was lost.
"""

import logging
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from audit.services import audit_record
from lib.chunks import chunks
from lib.heartbeat import heartbeat
from lib.locks import session_lock, xact_lock
from lib.tasks import enqueue_on_commit, send_group, send_task
from recipients.models import Person, Township

from ..models import Job, JobChunk
from .records import CHUNK_TASKS, CLOSE_TASKS, INTERRUPTED, MAX_ATTEMPTS, RESEND_AFTER, STALE_AFTER, TASKS, overlapping
from .scope import PersonRange

logger = logging.getLogger(__name__)

C = JobChunk.Status
UNSETTLED = [C.QUEUED, C.RUNNING]
FIGURES = ["candidates", "people", "processed", "created", "updated", "closed", "reopened", "total_amount"]
RETRY_SECONDS = 10  # a chunk that raised waits this long × its runs before the next run
WAITING = "等待同一范围的任务结束"  # a job queued behind an overlapping one (jobs.runner); sent again at its close

# Person-id boundaries of chunks of `size` people, per county, by one query (only the boundaries come back).
_BOUNDARIES_SQL = f"""
SELECT county_id, MAX(id) FROM (
    SELECT t.county_id AS county_id, p.id AS id,
           (ROW_NUMBER() OVER (PARTITION BY t.county_id ORDER BY p.id) - 1) / %(size)s AS piece
    FROM {Person._meta.db_table} p JOIN {Township._meta.db_table} t ON t.id = p.township_id
    {{where}}
) people
GROUP BY county_id, piece
ORDER BY county_id, piece
"""


def chunk_scope(chunk: JobChunk) -> PersonRange:
    return PersonRange(county_id=chunk.county_id, after_id=chunk.after_id, upto_id=chunk.upto_id)


def chunks_plan(job: Job, *, size: int) -> int:
    """Cut the job's people into chunks of about `size` people and record them with their count, in one
    transaction. A job of listed people is cut along its list; the others by county and person-id range, the
    first and last range of a county left open (people registered meanwhile still belong to one). Returns the
    count (at least one: a county without people still closes the leads it had)."""
    size = max(1, int(size))
    pieces: list[JobChunk] = []
    if job.people_ids is not None:
        for part in chunks(sorted(set(job.people_ids)), size):
            pieces.append(JobChunk(county_id=job.county_id, person_ids=part))
    else:
        where = "" if job.county_id is None else f"WHERE t.county_id = {int(job.county_id)}"
        with connection.cursor() as cursor:
            cursor.execute(_BOUNDARIES_SQL.format(where=where), {"size": size})
            rows = cursor.fetchall()
        for i, (county_id, upto) in enumerate(rows):
            first = i == 0 or rows[i - 1][0] != county_id
            last = i == len(rows) - 1 or rows[i + 1][0] != county_id
            after = None if first else rows[i - 1][1]
            pieces.append(JobChunk(county_id=county_id, after_id=after, upto_id=None if last else upto))
    if not pieces:
        pieces.append(JobChunk(county_id=job.county_id, person_ids=[] if job.people_ids is not None else None))
    now = timezone.now()
    with transaction.atomic():
        for number, piece in enumerate(pieces, start=1):
            piece.job, piece.number, piece.sent_at = job, number, now
        JobChunk.objects.bulk_create(pieces, batch_size=1000)
        Job.objects.filter(pk=job.pk).update(chunks_total=len(pieces), chunks_done=0, chunks_failed=0)
    job.chunks_total, job.chunks_done, job.chunks_failed = len(pieces), 0, 0
    return len(pieces)


def chunks_send(job: Job) -> int:
    """Send the job's unsettled chunks to the workers as one Celery group. Returns how many."""
    pending = list(job.chunks.filter(status__in=UNSETTLED).values_list("pk", flat=True))
    if pending:
        JobChunk.objects.filter(pk__in=pending).update(sent_at=timezone.now())
        send_group(CHUNK_TASKS[job.kind], [(pk,) for pk in pending])
    return len(pending)


def chunk_progress(chunk: JobChunk, *, phase: str | None = None, **fields) -> None:
    """Record a chunk's progress (outside its transaction, so the page sees it at once); the phase also on the
    job."""
    now = timezone.now()
    if fields:
        JobChunk.objects.filter(pk=chunk.pk).update(heartbeat_at=now, **fields)
    if phase is not None:
        Job.objects.filter(pk=chunk.job_id).update(phase=phase[:100], heartbeat_at=now)


def chunk_record(chunk: JobChunk, *, details: dict | None = None, **figures) -> None:
    """Add figures to the chunk and merge `details` into its record. Call it inside the transaction that writes
    the results they count, as its last statement: the results and their figures commit together."""
    changes = {name: F(name) + value for name, value in figures.items()}
    if details:
        chunk.details = {**chunk.details, **details}
        changes["details"] = chunk.details
    if changes:
        JobChunk.objects.filter(pk=chunk.pk).update(**changes)


def chunk_run(*, chunk_id: int, work: Callable[[JobChunk], None], failure: str, inline: bool = False):
    """Run one chunk of a running job with `work(chunk)`. Returns the chunk as it is left.

    Queued (not `inline`): a chunk that raised is sent again after a pause, and the last chunk to settle sends
    the job's close when it commits. Inline, the caller runs it again and closes the job itself.
    """
    chunk = JobChunk.objects.select_related("job").filter(pk=chunk_id).first()
    if chunk is None:
        return None
    job = chunk.job
    outcome = None
    with session_lock(f"applications.job.{job.kind}.{job.county_id or 0}", chunk.number):
        chunk.refresh_from_db()
        job.refresh_from_db()
        if chunk.status not in UNSETTLED or job.status != Job.Status.RUNNING:
            return chunk  # done by an earlier copy of the task, or its job has ended
        restarted = chunk.status == C.RUNNING  # holding the lock: the run that left it so is gone
        if restarted and chunk.attempts >= MAX_ATTEMPTS:
            outcome = _settle(chunk, C.FAILED, f"分块已中断 {chunk.attempts} 次，不再自动重试")
        else:
            now = timezone.now()
            JobChunk.objects.filter(pk=chunk.pk).update(
                status=C.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
            )
            chunk.refresh_from_db()
            if restarted:
                Job.objects.filter(pk=job.pk, attempts__lt=chunk.attempts).update(attempts=chunk.attempts)
                audit_record(
                    actor=None, action="job.restart", obj=job, after={"attempt": chunk.attempts, "chunk": chunk.number}
                )
            outcome = _work(chunk, work, failure)
    chunk.refresh_from_db()
    if not inline:
        if outcome == "retry":
            send_task(CHUNK_TASKS[job.kind], chunk.pk, countdown=RETRY_SECONDS * chunk.attempts)
        elif outcome == "last":
            enqueue_on_commit(CLOSE_TASKS[job.kind], job.pk)
    return chunk


def _work(chunk: JobChunk, work, failure: str) -> str | None:
    try:
        with heartbeat(Job, chunk.job_id), heartbeat(JobChunk, chunk.pk):
            work(chunk)
    except Exception:
        logger.exception("%s chunk %s of job %s failed", chunk.job.kind, chunk.number, chunk.job_id)
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a broken connection is replaced for the writes below
        if chunk.attempts < MAX_ATTEMPTS:
            JobChunk.objects.filter(pk=chunk.pk).update(status=C.QUEUED, message=failure, sent_at=timezone.now())
            return "retry"
        return _settle(chunk, C.FAILED, failure)
    return _settle(chunk, C.DONE, "")


def _settle(chunk: JobChunk, status: str, message: str) -> str | None:
    """Mark the chunk done or failed and count the job's chunks ("last" when none is left to run)."""
    now = timezone.now()
    with transaction.atomic():
        Job.objects.select_for_update().filter(pk=chunk.job_id).first()  # settlements of one job one at a time
        JobChunk.objects.filter(pk=chunk.pk).update(status=status, finished_at=now, message=message)
        states = dict(JobChunk.objects.filter(job_id=chunk.job_id).values_list("status").annotate(n=Count("pk")))
        sums = _sums(chunk.job_id)
        Job.objects.filter(pk=chunk.job_id).update(
            chunks_done=states.get(C.DONE, 0), chunks_failed=states.get(C.FAILED, 0), heartbeat_at=now, **sums
        )
    return "last" if not states.get(C.QUEUED) and not states.get(C.RUNNING) else None


def _sums(job_id: int) -> dict:
    done = JobChunk.objects.filter(job_id=job_id, status=C.DONE)
    found = done.aggregate(**{name: Sum(name) for name in FIGURES})
    return {name: value or 0 for name, value in found.items()}


def chunk_details(job: Job, key: str, limit: int = 200) -> list:
    """The first `limit` items of a list kept in the details of the job's done chunks, in chunk order."""
    found: list = []
    for details in job.chunks.filter(status=C.DONE).order_by("number").values_list("details", flat=True):
        found += (details or {}).get(key, [])[: max(0, limit - len(found))]
    return found


def job_close(*, job_id: int, finish: Callable[[Job], None]) -> Job | None:
    """Close a running job once every chunk has settled: totals its chunks' figures, then `finish(job)` records
    the kind's results and audit row when every chunk is done; a job with a failed chunk fails (the other
    chunks' results stay written). Jobs waiting behind it are sent again. Does nothing before the last chunk,
    or twice."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    with transaction.atomic():
        xact_lock(f"applications.job.{job.kind}")  # against a claim that would wait for this job
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.RUNNING or not job.chunks_total:
            return job
        if job.chunks.filter(status__in=UNSETTLED).exists():
            return job
        states = dict(job.chunks.values_list("status").annotate(n=Count("pk")))
        Job.objects.filter(pk=job.pk).update(
            chunks_done=states.get(C.DONE, 0), chunks_failed=states.get(C.FAILED, 0), **_sums(job.pk)
        )
        job.refresh_from_db()
        if job.chunks_failed:
            first = job.chunks.filter(status=C.FAILED).order_by("number").first()
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.FAILED,
                finished_at=timezone.now(),
                message=f"{job.chunks_failed} / {job.chunks_total} 个分块失败（{first.message}）；"
                "其余分块的结果已写入，重新运行即可补齐。",
            )
            job.refresh_from_db()
            audit_record(
                actor=None,
                action="job.failed",
                obj=job,
                after={"chunks_failed": list(job.chunks.filter(status=C.FAILED).values_list("number", flat=True))},
            )
        else:
            finish(job)
            job.refresh_from_db()
        for waiting in overlapping(job).filter(status=Job.Status.QUEUED, phase=WAITING).values_list("pk", flat=True):
            enqueue_on_commit(TASKS[job.kind], waiting)
    return job


def chunks_sweep(now) -> dict[str, int]:
    """Chunks whose worker died are queued again (or fail after MAX_ATTEMPTS runs), chunks never started are
    sent again, and jobs whose close was lost are closed. Returns what it did."""
    found = {"requeued": 0, "failed": 0, "resent": 0, "closing": 0}
    stale = now - STALE_AFTER
    dead = JobChunk.objects.filter(status=C.RUNNING, job__status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    for chunk in dead.select_related("job"):
        audit_record(actor=None, action="job.interrupted", obj=chunk.job, after={"chunk": chunk.number})
        if chunk.attempts >= MAX_ATTEMPTS:
            found["failed"] += 1
            if _settle(chunk, C.FAILED, INTERRUPTED) == "last":
                enqueue_on_commit(CLOSE_TASKS[chunk.job.kind], chunk.job_id)
            continue
        JobChunk.objects.filter(pk=chunk.pk, status=C.RUNNING).update(status=C.QUEUED, sent_at=now, message=INTERRUPTED)
        enqueue_on_commit(CHUNK_TASKS[chunk.job.kind], chunk.pk)
        found["requeued"] += 1
    lost = JobChunk.objects.filter(status=C.QUEUED, job__status=Job.Status.RUNNING, sent_at__lt=now - RESEND_AFTER)
    for pk, kind in lost.values_list("pk", "job__kind"):
        JobChunk.objects.filter(pk=pk).update(sent_at=now)
        enqueue_on_commit(CHUNK_TASKS[kind], pk)
        found["resent"] += 1
    unclosed = Job.objects.filter(status=Job.Status.RUNNING, chunks_total__gt=0, heartbeat_at__lt=stale).exclude(
        chunks__status__in=UNSETTLED
    )
    for pk, kind in unclosed.values_list("pk", "kind").distinct():
        enqueue_on_commit(CLOSE_TASKS[kind], pk)
        found["closing"] += 1
    return found
