"""The 主动救助 cross-check as a job (DOMAIN §7): candidates (candidates.py), estimates (estimate.py), leads
(leads.py). Requested after imports, nightly and on demand; jobs of a kind run one at a time (jobs.runner).
A re-run recomputes only the people whose inputs changed since the last complete run.
"""

import datetime
import time
from collections import defaultdict

from django.db import transaction
from django.db.models import Q, Sum

from audit.models import AuditEvent
from recipients.models import Identity, Person
from settlements.models import SettlementImport

from ..jobs.runner import job_finish, job_now, job_progress, job_request, job_request_on_commit, job_run
from ..models import Job, Lead, LeadSettlement, LedgerEntry, PolicyVersion
from .candidates import Candidate, examined, find_candidates
from .estimate import ZERO, estimate
from .leads import write_leads


def crosscheck_request(*, user=None, year: int | None = None, reason: str = "", enqueue: bool = True) -> Job:
    """Ask for a cross-check. A request while one is already waiting joins it (widened to all years if needed)."""
    return job_request(kind=Job.Kind.CROSSCHECK, user=user, year=year, reason=reason, enqueue=enqueue)


def crosscheck_after_commit(*, user=None, reason: str = "") -> None:
    """Request a cross-check once the current transaction commits; several imports committed together
    (a demo load, a script) ask only once."""
    job_request_on_commit(kind=Job.Kind.CROSSCHECK, user=user, reason=reason)


def crosscheck_run_job(*, job_id: int) -> Job | None:
    """Run a queued cross-check job to the end. Waits while another one runs."""
    return job_run(
        kind=Job.Kind.CROSSCHECK,
        job_id=job_id,
        work=lambda job: crosscheck(job=job),
        failure="比对时发生系统错误，未写入数据；请联系系统管理员。",
    )


def crosscheck_now(*, user=None, year: int | None = None, reason: str = "") -> Job:
    """Request and run a cross-check in this process (operator command, nightly schedule)."""
    return job_now(kind=Job.Kind.CROSSCHECK, run=crosscheck_run_job, user=user, year=year, reason=reason)


# Writes that were under way when the last run started carry timestamps from before it: look back
# this far behind its start (longer than any roster import or approval transaction takes).
LOOK_BACK = datetime.timedelta(minutes=15)
GLOBAL_ACTIONS = ["policy.activate", "policy.succeeded", "admin.add", "admin.change", "admin.delete"]


def affected_people(candidates: list[Candidate], *, year: int | None) -> set[int] | None:
    """The people whose leads can differ from what the last completed run left, or None for everyone.

    Everyone when there is no earlier run covering this scope, or when something that moves every
    estimate happened since (a settlement import, a policy activated, a change in 系统管理 such as an
    income standard). Otherwise: people whose identities, registry entry or ledger changed, and people
    whose candidate settlements differ from what their open leads hold.
    """
    last = Job.objects.filter(kind=Job.Kind.CROSSCHECK, status=Job.Status.DONE, started_at__isnull=False)
    last = last.filter(year__isnull=True) if year is None else last.filter(Q(year__isnull=True) | Q(year=year))
    last = last.order_by("-started_at").first()
    if last is None:
        return None
    since = last.started_at - LOOK_BACK
    if (
        SettlementImport.objects.filter(applied_at__gte=since).exists()
        or PolicyVersion.objects.filter(activated_at__gte=since).exists()
        or AuditEvent.objects.filter(created_at__gte=since, action__in=GLOBAL_ACTIONS).exists()
    ):
        return None
    affected = set(Identity.objects.filter(updated_at__gte=since).values_list("person_id", flat=True))
    affected |= set(Person.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    affected |= set(LedgerEntry.objects.filter(updated_at__gte=since).values_list("person_id", flat=True))
    held: dict[tuple[int, int], set[str]] = defaultdict(set)
    items = LeadSettlement.objects.filter(active=True, lead__status=Lead.Status.OPEN)
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


def crosscheck(*, job: Job) -> Job:
    """The whole cross-check for the job's year (or all years): candidates, estimates, leads."""
    started = time.monotonic()
    rows = examined(job.year)
    job_progress(job, phase="查找符合条件的结算", rows_examined=rows)
    with transaction.atomic():  # SET LOCAL needs a transaction; the query only reads
        candidates = find_candidates(year=job.year)
    affected = affected_people(candidates, year=job.year)
    if affected is not None:
        candidates = [c for c in candidates if c.person_id in affected]
    job_progress(job, phase="按政策测算", candidates=len(candidates), people=len({c.person_id for c in candidates}))
    groups = estimate(candidates, job=job)
    job_progress(job, phase="写入线索", processed=job.people)
    # The leads and the job's result commit together: a run cut short leaves neither.
    with transaction.atomic():
        counts = write_leads(groups, year=job.year, job=job, only_people=affected)
        scope = Lead.objects.filter(status=Lead.Status.OPEN)
        if job.year is not None:
            scope = scope.filter(year=job.year)
        total = scope.aggregate(total=Sum("estimate"))["total"] or ZERO
        return job_finish(
            job,
            started=started,
            audit_action="job.crosscheck",
            audit_after={
                "year": job.year,
                "examined": rows,
                "candidates": len(candidates),
                "created": counts.created,
                "updated": counts.updated,
                "closed": counts.closed,
                "reopened": counts.reopened,
                "closed_leads": counts.closed_numbers,
                "reopened_leads": counts.reopened_numbers,
                "total": str(total),
            },
            created=counts.created,
            updated=counts.updated,
            closed=counts.closed,
            reopened=counts.reopened,
            total_amount=total,
        )
