"""What every part of a job shares: the names of its Celery tasks, its time limits, and the writes of its progress
and results onto the Job row the page polls."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record

from ..models import Job

# The Celery tasks of each kind (applications/tasks.py), by name: the job's own (it splits the people), one chunk
# of people, and the close once every chunk is settled (the chord's callback).
TASKS = {Job.Kind.CROSSCHECK: "applications.run_crosscheck_job", Job.Kind.SECONDARY: "applications.run_secondary_job"}
CHUNK_TASKS = {
    Job.Kind.CROSSCHECK: "applications.run_crosscheck_chunk",
    Job.Kind.SECONDARY: "applications.run_secondary_chunk",
}
CLOSE_TASKS = {
    Job.Kind.CROSSCHECK: "applications.close_crosscheck_job",
    Job.Kind.SECONDARY: "applications.close_secondary_job",
}
STALE_AFTER = datetime.timedelta(minutes=3)  # no heartbeat for this long: the worker is gone
# A chunk or a waiting job whose task has not started for this long is sent again (a broker restarted). A copy
# of a task that did arrive does nothing: it finds its chunk running (under its lock) or finished.
RESEND_AFTER = datetime.timedelta(minutes=30)
MAX_ATTEMPTS = 3
INTERRUPTED = "任务中断：运行它的进程已停止响应。每一步写入都是完整的，重新运行即可补齐。"


def job_progress(job: Job, **fields) -> None:
    """Record progress the job page shows (outside the job's own transaction, so it is seen at once)."""
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), **fields)
    for name, value in fields.items():
        setattr(job, name, value)


def job_finish(job: Job, *, audit_action: str, audit_after: dict, **fields) -> Job:
    """Mark the job done with its results and audit the run (in the caller's transaction when there is one, so
    the results and the status commit together). The time taken runs from the job's start."""
    now = timezone.now()
    seconds = (now - job.started_at).total_seconds() if job.started_at else 0.0
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE, finished_at=now, phase="完成", message=f"用时 {seconds:.1f} 秒", **fields
        )
        job.refresh_from_db()
        audit_record(actor=None, action=audit_action, obj=job, after=audit_after)
    return job


def overlapping(job: Job):
    """The other jobs of its kind whose people may be the same: of the same county, or either of all counties."""
    others = Job.objects.filter(kind=job.kind).exclude(pk=job.pk)
    if job.county_id is None:
        return others
    return others.filter(Q(county_id=job.county_id) | Q(county__isnull=True))
