"""The 主动救助 cross-check as a job (DOMAIN §7): candidates (candidates.py), estimates (estimate.py), leads
(leads.py), chunk by chunk of people (jobs.chunks). Requested after imports, nightly and on demand, per county or
for all; jobs of one county run one at a time, of different counties side by side (jobs.runner). A re-run
recomputes only the people whose inputs changed since the last complete run.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Q, Sum

from audit.models import AuditEvent
from recipients.models import Identity, Person
from settlements.models import SettlementImport

from ..jobs.chunks import chunk_details, chunk_progress, chunk_record, chunk_run, chunk_scope, job_close
from ..jobs.records import job_finish, job_progress
from ..jobs.runner import job_now, job_request, job_request_on_commit, job_request_per_county, job_run
from ..jobs.scope import EVERYBODY, PersonRange
from ..models import Job, JobChunk, Lead, LeadSettlement, LedgerEntry, PolicyVersion
from .candidates import Candidate, examined, find_candidates
from .estimate import ZERO, estimate
from .leads import write_leads

FAILURE = "比对时发生系统错误，未写入数据；请联系系统管理员。"


def crosscheck_request(
    *, user=None, year: int | None = None, reason: str = "", enqueue: bool = True, county_id: int | None = None
) -> Job:
    """Ask for a cross-check of a county (None: all). A request while one of that county is already waiting joins
    it (widened to all years if needed)."""
    return job_request(
        kind=Job.Kind.CROSSCHECK, user=user, year=year, reason=reason, enqueue=enqueue, county_id=county_id
    )


def crosscheck_nightly_requests(*, reason: str) -> list[Job]:
    """The scheduled run: one job per county, side by side."""
    return job_request_per_county(kind=Job.Kind.CROSSCHECK, reason=reason)


def crosscheck_after_commit(*, user=None, reason: str = "") -> None:
    """Request a cross-check once the current transaction commits; several imports committed together
    (a demo load, a script) ask only once."""
    job_request_on_commit(kind=Job.Kind.CROSSCHECK, user=user, reason=reason)


def crosscheck_run_job(*, job_id: int, inline: bool = True) -> Job | None:
    """Run a queued cross-check job, its chunks one after the other in this process; its Celery task
    (`inline=False`) sends the chunks to the workers instead."""
    return job_run(
        kind=Job.Kind.CROSSCHECK,
        job_id=job_id,
        prepare=_prepare,
        work=_chunk,
        finish=_finish,
        failure=FAILURE,
        inline=inline,
    )


def crosscheck_run_chunk(*, chunk_id: int) -> JobChunk | None:
    return chunk_run(chunk_id=chunk_id, work=_chunk, failure=FAILURE)


def crosscheck_close_job(*, job_id: int) -> Job | None:
    return job_close(job_id=job_id, finish=_finish)


def crosscheck_now(*, user=None, year: int | None = None, reason: str = "", county_id: int | None = None) -> Job:
    """Request and run a cross-check in this process (operator command), waiting while an overlapping one runs."""
    return job_now(
        kind=Job.Kind.CROSSCHECK,
        run=crosscheck_run_job,
        user=user,
        year=year,
        reason=reason,
        county_id=county_id,
    )


# Writes that were under way when the last run started carry timestamps from before it: look back
# this far behind its start (longer than any roster import or approval transaction takes).
LOOK_BACK = datetime.timedelta(minutes=15)
GLOBAL_ACTIONS = ["policy.activate", "policy.succeeded", "admin.add", "admin.change", "admin.delete"]


def changes_since(job: Job) -> datetime.datetime | None:
    """Since when the job's chunks look for changed people, or None to recompute everyone.

    Everyone when there is no earlier run covering this scope (its year or all, its county or all), or when
    something that moves every estimate happened since (a settlement import, a policy activated, a change in
    系统管理 such as an income standard).
    """
    last = Job.objects.filter(kind=Job.Kind.CROSSCHECK, status=Job.Status.DONE, started_at__isnull=False)
    last = last.filter(year__isnull=True) if job.year is None else last.filter(Q(year__isnull=True) | Q(year=job.year))
    if job.county_id is None:
        last = last.filter(county__isnull=True)
    else:
        last = last.filter(Q(county__isnull=True) | Q(county_id=job.county_id))
    last = last.exclude(pk=job.pk).order_by("-started_at").first()
    if last is None:
        return None
    since = last.started_at - LOOK_BACK
    if (
        SettlementImport.objects.filter(applied_at__gte=since).exists()
        or PolicyVersion.objects.filter(activated_at__gte=since).exists()
        or AuditEvent.objects.filter(created_at__gte=since, action__in=GLOBAL_ACTIONS).exists()
    ):
        return None
    return since


def affected_people(
    candidates: list[Candidate], *, year: int | None, since: datetime.datetime, scope: PersonRange = EVERYBODY
) -> set[int]:
    """Of the people in `scope`, those whose leads can differ from what the last completed run left: people
    whose identities, registry entry or ledger changed since, and people whose candidate settlements differ
    from what their open leads hold."""
    affected = set(
        Identity.objects.filter(scope.q("person"), updated_at__gte=since).values_list("person_id", flat=True)
    )
    affected |= set(Person.objects.filter(scope.q(""), updated_at__gte=since).values_list("pk", flat=True))
    affected |= set(
        LedgerEntry.objects.filter(scope.q("person"), updated_at__gte=since).values_list("person_id", flat=True)
    )
    held: dict[tuple[int, int], set[str]] = defaultdict(set)
    items = LeadSettlement.objects.filter(scope.q("lead__person"), active=True, lead__status=Lead.Status.OPEN)
    if year is not None:
        items = items.filter(lead__year=year)
    for pid, lead_year, number in items.values_list("lead__person_id", "lead__year", "settlement_number").iterator(
        chunk_size=5000
    ):
        held[(pid, lead_year)].add(number)
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    for c in candidates:
        found[(c.person_id, c.service_date.year)].add(c.number)
    for key in held.keys() | found.keys():
        if held.get(key) != found.get(key):
            affected.add(key[0])
    return affected


def _prepare(job: Job) -> None:
    """What every chunk shares: the settlements examined, and whether to recompute everyone or the changed."""
    rows = examined(job.year, job.county_id)
    since = changes_since(job)
    options = {**job.options, "since": since.isoformat() if since else None}
    job_progress(job, phase="划分人员", rows_examined=rows, options=options)


def _chunk(chunk: JobChunk) -> None:
    """One chunk's cross-check: its people's candidates, estimates and leads; the leads and the chunk's figures
    commit together."""
    if chunk.details.get("written"):
        return  # written by a run that died before it could report
    job = chunk.job
    scope = chunk_scope(chunk)
    since = job.options.get("since")
    chunk_progress(chunk, phase="查找符合条件的结算")
    with transaction.atomic():  # SET LOCAL and the server-side cursor need a transaction; the query only reads
        candidates = find_candidates(year=job.year, scope=scope)
    affected = None
    if since is not None:
        affected = affected_people(candidates, year=job.year, since=datetime.datetime.fromisoformat(since), scope=scope)
        candidates = [c for c in candidates if c.person_id in affected]
    people = len({c.person_id for c in candidates})
    chunk_progress(chunk, phase="按政策测算")
    groups = estimate(candidates)
    chunk_progress(chunk, phase="写入线索")
    with transaction.atomic():
        counts = write_leads(groups, year=job.year, job=job, only_people=affected, scope=scope)
        chunk_record(
            chunk,
            candidates=len(candidates),
            people=people,
            processed=people,
            created=counts.created,
            updated=counts.updated,
            closed=counts.closed,
            reopened=counts.reopened,
            details={
                "written": True,
                "closed_leads": counts.closed_numbers,
                "reopened_leads": counts.reopened_numbers,
            },
        )


def _finish(job: Job) -> None:
    """Every chunk done: the estimated total of the open leads in the job's scope, and the audit row."""
    scope = Lead.objects.filter(status=Lead.Status.OPEN)
    if job.year is not None:
        scope = scope.filter(year=job.year)
    if job.county_id is not None:
        scope = scope.filter(person__township__county_id=job.county_id)
    total = scope.aggregate(total=Sum("estimate"))["total"] or ZERO
    job_finish(
        job,
        audit_action="job.crosscheck",
        audit_after={
            "year": job.year,
            "county": job.county_id,
            "chunks": job.chunks_total,
            "examined": job.rows_examined,
            "candidates": job.candidates,
            "created": job.created,
            "updated": job.updated,
            "closed": job.closed,
            "reopened": job.reopened,
            "closed_leads": chunk_details(job, "closed_leads"),
            "reopened_leads": chunk_details(job, "reopened_leads"),
            "total": str(total),
        },
        total_amount=total,
    )
