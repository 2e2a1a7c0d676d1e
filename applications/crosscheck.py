"""The 主动救助 cross-check (DOMAIN §7): settlements of people who held a valid identity on the service
date but received no assistance, and for which nobody has applied, become leads for their township.

1. Candidates, in one set-based query: no one-stop assistance (A0 = 0), E > 0, a valid identity on the
   service date whose category has a first-round benefit for the visit type under the policy in force,
   not claimed by a live case's bill (by settlement number), not already handled through a lead.
   Bills that name no settlement number are matched by person, visit type, service date and hospital.
2. Estimates from the policy engine, per person and year in service-date order, on top of the
   person-year ledger: approved cases (LedgerEntry) and one-stop assistance already paid use up cap
   and deductible first.
3. Leads, one per person and year: new settlements join the open lead, claimed ones leave it, a lead
   left with nothing closes itself; a lead the township closed or converted reopens only for
   settlements it never held. Written in one transaction.

Jobs run one at a time (a PostgreSQL advisory lock, and database constraints on the job table).
"""

import datetime
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from audit.services import audit_record
from recipients.models import Identity, Person

from . import policy_engine as engine
from .jobs import job_request, job_run
from .models import Bill, Case, Job, Lead, LeadSettlement, LedgerEntry, PolicyVersion
from .policy_services import engine_policy

logger = logging.getLogger(__name__)
ZERO = Decimal("0")
DEAD_CASE_STATUSES = (Case.Status.REJECTED, Case.Status.WITHDRAWN)
CHUNK = 1000

_CANDIDATES_SQL = """
SELECT s.number, p.id, p.township_id, s.service_date, s.visit_type, s.hospital,
       s.total, s.in_policy, s.basic, s.critical, s.other
FROM settlements_settlement s
JOIN recipients_person p ON p.id_number = s.id_number
JOIN recipients_township t ON t.id = p.township_id
WHERE s.onestop = 0
  AND s.in_policy - s.basic - s.critical - s.other > 0
  AND s.service_date >= %(start)s AND s.service_date < %(end)s
  AND EXISTS (
      SELECT 1
      FROM recipients_identity i
      JOIN applications_firstroundrule r ON r.category = i.category
      JOIN applications_policyversion v ON v.id = r.version_id
      WHERE i.person_id = p.id
        AND i.valid_from <= s.service_date AND (i.valid_to IS NULL OR i.valid_to >= s.service_date)
        AND r.visit_type = s.visit_type AND r.eligible AND r.ratio > 0
        AND v.county_id = t.county_id AND v.status = 'active'
        AND v.effective_from <= s.service_date AND (v.effective_to IS NULL OR v.effective_to >= s.service_date))
  AND NOT EXISTS (
      SELECT 1 FROM applications_bill b JOIN applications_case c ON c.id = b.case_id
      WHERE b.settlement_number = s.number AND c.status NOT IN ('rejected', 'withdrawn'))
  AND NOT EXISTS (
      SELECT 1 FROM applications_leadsettlement ls
      WHERE ls.settlement_number = s.number AND ls.handled)
"""

_EXAMINED_SQL = """
SELECT count(*) FROM settlements_settlement s WHERE s.service_date >= %(start)s AND s.service_date < %(end)s
"""


@dataclass
class Candidate:
    number: str
    person_id: int
    township_id: int
    service_date: datetime.date
    visit_type: str
    hospital: str
    amounts: engine.Amounts
    estimate: Decimal = ZERO
    category: str | None = None


@dataclass
class PersonYear:
    person_id: int
    township_id: int
    year: int
    items: list[Candidate] = field(default_factory=list)

    @property
    def estimate(self) -> Decimal:
        return sum((c.estimate for c in self.items), ZERO)

    @property
    def self_pay(self) -> Decimal:
        return sum((c.amounts.in_policy_self_pay for c in self.items), ZERO)

    @property
    def category(self) -> str:
        best = max(self.items, key=lambda c: c.estimate)
        return best.category or ""


# --- requesting and running -------------------------------------------------------------------


def crosscheck_request(*, user=None, year: int | None = None, reason: str = "", enqueue: bool = True) -> Job:
    """Ask for a cross-check. A request while one is already waiting joins it (widened to all years if needed)."""
    from .tasks import run_crosscheck_job

    return job_request(
        kind=Job.Kind.CROSSCHECK, user=user, year=year, reason=reason, task=run_crosscheck_job if enqueue else None
    )


def crosscheck_after_commit(*, user=None, reason: str = "") -> None:
    """Request a cross-check once the current transaction commits; several imports committed together
    (a demo load, a script) ask only once."""
    for _, func, _ in connection.run_on_commit:
        if getattr(func, "requests_crosscheck", False):
            return

    def request():
        crosscheck_request(user=user, reason=reason)

    request.requests_crosscheck = True
    transaction.on_commit(request)


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
    job = crosscheck_request(user=user, year=year, reason=reason, enqueue=False)
    return crosscheck_run_job(job_id=job.pk)


def _progress(job: Job, **fields) -> None:
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


# --- the check itself -------------------------------------------------------------------------


def _window(year: int | None) -> tuple[datetime.date, datetime.date]:
    if year is None:
        return datetime.date(1900, 1, 1), datetime.date(9999, 1, 1)
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def find_candidates(*, year: int | None = None) -> list[Candidate]:
    """The candidate settlements of DOMAIN §7, by one set-based query (plus a filter on the few bills
    that carry no settlement number)."""
    start, end = _window(year)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Whole-table joins: hash joins whatever the (possibly stale) statistics say.
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(_CANDIDATES_SQL, {"start": start, "end": end})
        rows = cursor.fetchall()
    billed = _bills_without_settlement_number()
    candidates = []
    for number, person_id, township_id, day, visit_type, hospital, total, in_policy, basic, critical, other in rows:
        if billed and (person_id, day, visit_type, _hospital_key(hospital)) in billed:
            continue
        candidates.append(
            Candidate(
                number=number,
                person_id=person_id,
                township_id=township_id,
                service_date=day,
                visit_type=visit_type,
                hospital=hospital,
                amounts=engine.Amounts(
                    total=_dec(total),
                    in_policy=_dec(in_policy),
                    basic=_dec(basic),
                    critical=_dec(critical),
                    other=_dec(other),
                ),
            )
        )
    return candidates


def _dec(value) -> Decimal:
    # SQLite hands numeric columns to a raw cursor as float or int; their repr is the stored amount.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _hospital_key(name: str) -> str:
    return Bill.make_invoice_key(name, "").rstrip("|")


def _bills_without_settlement_number() -> set[tuple]:
    """Live bills entered from paper without a settlement number, keyed for matching settlements."""
    bills = (
        Bill.objects.filter(settlement_number="")
        .exclude(case__status__in=DEAD_CASE_STATUSES)
        .values_list("case__person_id", "visit_type", "discharged_on", "visit_on", "hospital")
    )
    keys = set()
    for person_id, visit_type, discharged_on, visit_on, hospital in bills.iterator():
        day = discharged_on if visit_type == "住院" else visit_on
        keys.add((person_id, day, visit_type, _hospital_key(hospital)))
    return keys


def _chunks(items, size=CHUNK):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(slots=True)
class _OneStop:
    service_date: datetime.date
    visit_type: str
    amounts: engine.Amounts


class _Policies:
    """The policy in force on a date for a county, as the engine sees it (cached per version and year)."""

    def __init__(self):
        self.versions: dict[int, list[PolicyVersion]] = defaultdict(list)
        for v in PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).prefetch_related(
            "first_round_rules", "secondary_rules"
        ):
            self.versions[v.county_id].append(v)
        self.cache: dict[tuple[int, int], engine.Policy] = {}

    def on(self, county_id: int, day: datetime.date) -> engine.Policy | None:
        for v in self.versions.get(county_id, ()):
            if v.effective_from <= day and (v.effective_to is None or v.effective_to >= day):
                key = (v.pk, day.year)
                if key not in self.cache:
                    self.cache[key] = engine_policy(v, year=day.year)
                return self.cache[key]
        return None

    @staticmethod
    def first_eligible(policy: engine.Policy, categories: list[str], visit_type: str) -> str | None:
        order = {c: i for i, c in enumerate(policy.category_order)}
        for category in sorted(categories, key=lambda c: order.get(c, len(order))):
            if policy.rule(category, visit_type).eligible:
                return category
        return None


def onestop_usage(*, person: Person, year: int) -> dict[str, engine.PoolState]:
    """What a person's one-stop settlements of the year (A0 > 0) have used of each pool's deductible and cap.

    DOMAIN §5: assistance paid at the hospital counts against the same year's cap. Used by the review of
    applications, which starts from the approved-case ledger and adds this.
    """
    from settlements.models import Settlement

    settlements = Settlement.objects.filter(
        id_number=person.id_number, onestop__gt=0, service_date__year=year
    ).order_by("service_date", "number")
    pools: dict[str, engine.PoolState] = {}
    if not settlements.exists():
        return pools
    policies = _Policies()
    county_id = person.township.county_id
    identities = list(Identity.objects.filter(person=person).values_list("category", "valid_from", "valid_to"))
    for s in settlements:
        day = s.service_date
        policy = policies.on(county_id, day)
        categories = [c for c, f, t in identities if f <= day and (t is None or t >= day)]
        category = policies.first_eligible(policy, categories, s.visit_type) if policy and categories else None
        if category is None:
            continue
        pool = policy.rule(category, s.visit_type).pool
        state = pools.get(pool, engine.EMPTY_POOL)
        try:
            change = engine.onestop_ledger_change(policy, category, s.visit_type, s.amounts(), state)
        except engine.PolicyError:  # its deductible cannot be worked out: count what was paid
            change = engine.PoolState(engine.ZERO, s.onestop)
        pools[pool] = engine.PoolState(state.deductible_used + change.deductible_used, state.granted + change.granted)
    return pools


def estimate(candidates: list[Candidate], *, job: Job | None = None) -> list[PersonYear]:
    """Run the engine per person and year in service-date order, on top of what the year already used."""
    groups: dict[tuple[int, int], PersonYear] = {}
    for c in candidates:
        key = (c.person_id, c.service_date.year)
        if key not in groups:
            groups[key] = PersonYear(c.person_id, c.township_id, c.service_date.year)
        groups[key].items.append(c)
    if not groups:
        return []
    person_ids = sorted({p for p, _ in groups})
    years = sorted({y for _, y in groups})

    people = {}
    identities: dict[int, list[tuple]] = defaultdict(list)
    ledger: dict[tuple[int, int], dict[str, engine.PoolState]] = defaultdict(dict)
    onestop: dict[tuple[int, int], list] = defaultdict(list)
    for chunk in _chunks(person_ids):
        for pid, id_number, county_id in Person.objects.filter(pk__in=chunk).values_list(
            "pk", "id_number", "township__county_id"
        ):
            people[pid] = (id_number, county_id)
        for pid, category, valid_from, valid_to in Identity.objects.filter(person_id__in=chunk).values_list(
            "person_id", "category", "valid_from", "valid_to"
        ):
            identities[pid].append((category, valid_from, valid_to))
        for pid, year, pool, used, granted in LedgerEntry.objects.filter(
            person_id__in=chunk, year__in=years
        ).values_list("person_id", "year", "pool", "deductible_used", "granted"):
            ledger[(pid, year)][pool] = engine.PoolState(used, granted)
    by_number = {people[p][0]: p for p in people}
    from settlements.models import Settlement

    first_day, last_day = datetime.date(years[0], 1, 1), datetime.date(years[-1], 12, 31)
    for chunk in _chunks(by_number):
        rows = Settlement.objects.filter(
            id_number__in=chunk, onestop__gt=0, service_date__gte=first_day, service_date__lte=last_day
        ).values_list(
            "id_number", "service_date", "visit_type", "total", "in_policy", "basic", "critical", "other", "onestop"
        )
        for id_number, day, visit_type, total, in_policy, basic, critical, other, paid in rows:
            key = (by_number[id_number], day.year)
            if key in groups:
                amounts = engine.Amounts(
                    total=total,
                    in_policy=in_policy,
                    basic=basic,
                    critical=critical,
                    other=other,
                    onestop_assistance=paid,
                )
                onestop[key].append(_OneStop(day, visit_type, amounts))

    policies = _Policies()
    results = []
    for done, (key, group) in enumerate(sorted(groups.items()), start=1):
        if job is not None and done % 5000 == 0:
            _progress(job, processed=done)
        pid, year = key
        county_id = people[pid][1]
        pools = dict(ledger.get(key, {}))
        events = [(s.service_date, 0, s) for s in onestop.get(key, ())] + [(c.service_date, 1, c) for c in group.items]
        # One-stop assistance first, then the candidates in service-date order: the same order the review of
        # an application uses, so that a lead's estimate is what the application will propose.
        events.sort(key=lambda e: (e[1], e[0], getattr(e[2], "number", "")))
        for day, is_candidate, item in events:
            policy = policies.on(county_id, day)
            if policy is None:
                continue
            categories = [cat for cat, f, t in identities.get(pid, ()) if f <= day and (t is None or t >= day)]
            if not categories:
                continue
            if is_candidate:
                try:
                    result = engine.best_first_round(
                        policy, categories, item.visit_type, item.amounts, pools, explain=False
                    )
                except engine.PolicyError:
                    continue
                if result.pool is None:
                    continue
                item.estimate, item.category = result.amount, result.category
                pool, change = result.pool, result.ledger_change()
            else:
                # What the hospital paid counts against the pool of the most favoured category valid that
                # day (the policy's order, as 就高 would choose); which one it used is not in the extract.
                category = policies.first_eligible(policy, categories, item.visit_type)
                if category is None:
                    continue
                pool = policy.rule(category, item.visit_type).pool
                try:
                    change = engine.onestop_ledger_change(
                        policy, category, item.visit_type, item.amounts, pools.get(pool, engine.EMPTY_POOL)
                    )
                except engine.PolicyError:  # its deductible cannot be worked out: count what was paid
                    change = engine.PoolState(engine.ZERO, item.amounts.onestop_assistance)
            state = pools.get(pool, engine.EMPTY_POOL)
            pools[pool] = engine.PoolState(
                state.deductible_used + change.deductible_used, state.granted + change.granted
            )
        if group.estimate > 0:
            results.append(group)
    return results


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    closed: int = 0
    reopened: int = 0
    closed_numbers: list[str] = field(default_factory=list)
    reopened_numbers: list[str] = field(default_factory=list)


def write_leads(
    groups: list[PersonYear], *, year: int | None, job: Job | None, only_people: set[int] | None = None
) -> WriteCounts:
    """Bring the leads in line with this run's person-years, in one transaction.

    `only_people` limits the run to the people recomputed (the others' leads are left as they are)."""
    counts = WriteCounts()
    now = timezone.now()
    wanted = {(g.person_id, g.year): g for g in groups}
    with transaction.atomic():
        scope = Lead.objects.all() if year is None else Lead.objects.filter(year=year)
        existing: dict[tuple[int, int], Lead] = {}
        # Open leads in scope (they may close) and any lead of a person-year found now.
        open_ids = [
            pk
            for pk, pid in scope.filter(status=Lead.Status.OPEN).values_list("pk", "person_id")
            if only_people is None or pid in only_people
        ]
        for chunk in _chunks(open_ids):
            for lead in Lead.objects.select_for_update().filter(pk__in=chunk):
                existing[(lead.person_id, lead.year)] = lead
        missing = [k for k in wanted if k not in existing]
        for chunk in _chunks(missing):
            q = Q()
            for pid, y in chunk:
                q |= Q(person_id=pid, year=y)
            for lead in Lead.objects.select_for_update().filter(q):
                existing[(lead.person_id, lead.year)] = lead
        items: dict[int, dict[str, LeadSettlement]] = defaultdict(dict)
        for chunk in _chunks([lead.pk for lead in existing.values()]):
            for item in LeadSettlement.objects.filter(lead_id__in=chunk):
                items[item.lead_id][item.settlement_number] = item
        # The candidates were read before these locks: a township may have converted or closed a lead, or
        # filed an application, since. Settlements dealt with meanwhile are left out of this run.
        gone = _dealt_with_since([c.number for g in groups for c in g.items])
        if gone:
            for key, group in list(wanted.items()):
                group.items = [c for c in group.items if c.number not in gone]
                if not group.items or group.estimate <= 0:
                    del wanted[key]

        new_leads, changed_leads = [], []
        new_items, changed_items = [], []
        for key, group in wanted.items():
            lead = existing.get(key)
            numbers = {c.number for c in group.items}
            if lead is None:
                lead = Lead(
                    number=f"XS{group.year}{group.person_id:08d}",
                    person_id=group.person_id,
                    township_id=group.township_id,
                    year=group.year,
                    last_job=job,
                )
                _fill(lead, group)
                new_leads.append((lead, group))
                continue
            held = items[lead.pk]
            reopened = False
            if lead.status != Lead.Status.OPEN:
                closed_by_itself = lead.status == Lead.Status.CLOSED and lead.close_reason == Lead.CloseReason.RESOLVED
                if not closed_by_itself and not numbers - set(held):
                    continue  # the township has dealt with these; nothing it has not seen
                lead.status = Lead.Status.OPEN
                lead.close_reason, lead.close_note, lead.closed_at = "", "", None
                lead.outcome = ""  # the last contact was about settlements already dealt with
                reopened = True
                if len(counts.reopened_numbers) < 200:
                    counts.reopened_numbers.append(lead.number)
                counts.reopened += 1
            before = (lead.estimate, lead.settlement_count, lead.self_pay_total, lead.category, lead.township_id)
            _fill(lead, group)
            lead.township_id = group.township_id
            dirty = reopened or before != (
                lead.estimate,
                lead.settlement_count,
                lead.self_pay_total,
                lead.category,
                lead.township_id,
            )
            for c in group.items:
                item = held.get(c.number)
                if item is None:
                    new_items.append(_item(lead, c))
                    dirty = True
                elif item.handled:
                    continue  # dealt with by the township: never back in a lead
                elif (not item.active) or item.estimate != c.estimate or item.category != (c.category or ""):
                    item.active, item.estimate, item.category = True, c.estimate, c.category or ""
                    item.self_pay = c.amounts.in_policy_self_pay
                    changed_items.append(item)
                    dirty = True
            for number, item in held.items():
                if number not in numbers and item.active:
                    item.active = False
                    changed_items.append(item)
                    dirty = True
            if dirty:
                lead.last_job = job
                changed_leads.append(lead)
                if not reopened:
                    counts.updated += 1

        for key, lead in existing.items():
            if key in wanted or lead.status != Lead.Status.OPEN:
                continue
            lead.status = Lead.Status.CLOSED
            lead.close_reason = Lead.CloseReason.RESOLVED
            lead.closed_at = now
            lead.estimate = ZERO
            lead.last_job = job
            changed_leads.append(lead)
            counts.closed += 1
            if len(counts.closed_numbers) < 200:
                counts.closed_numbers.append(lead.number)
            for item in items[lead.pk].values():
                if item.active:
                    item.active = False
                    changed_items.append(item)

        Lead.objects.bulk_create([lead for lead, _ in new_leads], batch_size=CHUNK)
        counts.created = len(new_leads)
        if new_leads:
            created = {}
            for chunk in _chunks([lead.number for lead, _ in new_leads]):
                created.update(Lead.objects.filter(number__in=chunk).values_list("number", "pk"))
            for lead, group in new_leads:
                lead.pk = created[lead.number]
                new_items.extend(_item(lead, c) for c in group.items)
        for lead in changed_leads:
            lead.updated_at = now
        Lead.objects.bulk_update(
            changed_leads,
            [
                "status",
                "category",
                "settlement_count",
                "self_pay_total",
                "estimate",
                "township_id",
                "close_reason",
                "close_note",
                "outcome",
                "closed_at",
                "last_job",
                "updated_at",
            ],
            batch_size=CHUNK,
        )
        LeadSettlement.objects.bulk_create(new_items, batch_size=CHUNK)
        LeadSettlement.objects.bulk_update(
            changed_items, ["active", "estimate", "category", "self_pay"], batch_size=CHUNK
        )
    return counts


def _dealt_with_since(numbers: list[str]) -> set[str]:
    """Of these settlement numbers, those now handled through a lead or claimed by a live application."""
    gone: set[str] = set()
    for chunk in _chunks(numbers, 5000):
        gone.update(
            LeadSettlement.objects.filter(handled=True, settlement_number__in=chunk).values_list(
                "settlement_number", flat=True
            )
        )
        gone.update(
            Bill.objects.filter(settlement_number__in=chunk)
            .exclude(case__status__in=DEAD_CASE_STATUSES)
            .values_list("settlement_number", flat=True)
        )
    return gone


def _fill(lead: Lead, group: PersonYear) -> None:
    lead.estimate = group.estimate
    lead.settlement_count = len(group.items)
    lead.self_pay_total = group.self_pay
    lead.category = group.category


def _item(lead: Lead, c: Candidate) -> LeadSettlement:
    return LeadSettlement(
        lead_id=lead.pk,
        settlement_number=c.number,
        service_date=c.service_date,
        self_pay=c.amounts.in_policy_self_pay,
        estimate=c.estimate,
        category=c.category or "",
    )


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
    from audit.models import AuditEvent
    from settlements.models import SettlementImport

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
    start, end = _window(job.year)
    with connection.cursor() as cursor:
        cursor.execute(_EXAMINED_SQL, {"start": start, "end": end})
        (examined,) = cursor.fetchone()
    _progress(job, phase="查找符合条件的结算", rows_examined=examined)
    with transaction.atomic():  # SET LOCAL needs a transaction; the query only reads
        candidates = find_candidates(year=job.year)
    affected = affected_people(candidates, year=job.year)
    if affected is not None:
        candidates = [c for c in candidates if c.person_id in affected]
    _progress(job, phase="按政策测算", candidates=len(candidates), people=len({c.person_id for c in candidates}))
    groups = estimate(candidates, job=job)
    _progress(job, phase="写入线索", processed=job.people)
    counts = write_leads(groups, year=job.year, job=job, only_people=affected)
    scope = Lead.objects.filter(status=Lead.Status.OPEN)
    if job.year is not None:
        scope = scope.filter(year=job.year)
    total = scope.aggregate(total=Sum("estimate"))["total"] or ZERO
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE,
            finished_at=timezone.now(),
            phase="完成",
            created=counts.created,
            updated=counts.updated,
            closed=counts.closed,
            reopened=counts.reopened,
            total_amount=total,
            message=f"用时 {time.monotonic() - started:.1f} 秒",
        )
        job.refresh_from_db()
        audit_record(
            actor=None,
            action="job.crosscheck",
            obj=job,
            after={
                "year": job.year,
                "examined": examined,
                "candidates": len(candidates),
                "created": counts.created,
                "updated": counts.updated,
                "closed": counts.closed,
                "reopened": counts.reopened,
                "closed_leads": counts.closed_numbers,
                "reopened_leads": counts.reopened_numbers,
                "total": str(total),
            },
        )
    return job
