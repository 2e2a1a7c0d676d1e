"""Writing the cross-check's findings as leads, one per person and year, in one transaction: new settlements
join the open lead, claimed ones leave it, a lead left with nothing closes itself; a lead the township closed or
converted reopens only for settlements it never held."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from lib.chunks import chunks
from lib.stats import refresh_statistics

from ..jobs.scope import EVERYBODY, PersonRange
from ..models import Job, Lead, LeadSettlement
from .candidates import Candidate, dealt_with_since
from .estimate import PersonYear

ZERO = Decimal("0")
CHUNK = 1000


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    closed: int = 0
    reopened: int = 0
    closed_numbers: list[str] = field(default_factory=list)
    reopened_numbers: list[str] = field(default_factory=list)


def write_leads(
    groups: list[PersonYear],
    *,
    year: int | None,
    job: Job | None,
    only_people: set[int] | None = None,
    scope: PersonRange = EVERYBODY,
) -> WriteCounts:
    """Bring the leads of the people in `scope` in line with this run's person-years, in one transaction.

    `only_people` limits the run to the people recomputed (the others' leads are left as they are)."""
    counts = WriteCounts()
    now = timezone.now()
    wanted = {(g.person_id, g.year): g for g in groups}
    with transaction.atomic():
        in_year = Lead.objects.all() if year is None else Lead.objects.filter(year=year)
        existing: dict[tuple[int, int], Lead] = {}
        # Open leads in scope (they may close) and any lead of a person-year found now. Only the leads are
        # locked (their ordering joins the township and county, whose rows every chunk of the county shares).
        open_ids = [
            pk
            for pk, pid in in_year.filter(status=Lead.Status.OPEN)
            .filter(scope.q("person"))
            .values_list("pk", "person_id")
            if only_people is None or pid in only_people
        ]
        for chunk in chunks(open_ids):
            for lead in Lead.objects.select_for_update(of=("self",)).filter(pk__in=chunk):
                existing[(lead.person_id, lead.year)] = lead
        missing: dict[int, list[int]] = defaultdict(list)  # year → people
        for pid, y in wanted:
            if (pid, y) not in existing:
                missing[y].append(pid)
        for y, people in missing.items():  # (by year: an OR of 1,000 pairs took a second to build)
            for chunk in chunks(people):
                for lead in Lead.objects.select_for_update(of=("self",)).filter(year=y, person_id__in=chunk):
                    existing[(lead.person_id, lead.year)] = lead
        items: dict[int, dict[str, LeadSettlement]] = defaultdict(dict)
        for chunk in chunks([lead.pk for lead in existing.values()]):
            for item in LeadSettlement.objects.filter(lead_id__in=chunk):
                items[item.lead_id][item.settlement_number] = item
        # The candidates were read before these locks: a township may have converted or closed a lead, or
        # filed an application, since. Settlements dealt with meanwhile are left out of this run.
        gone = dealt_with_since([c.number for g in groups for c in g.items])
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
            for chunk in chunks([lead.number for lead, _ in new_leads]):
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
        if connection.vendor == "postgresql":
            # The next chunks look up every candidate in these tables: statistics still saying "empty" (a first run,
            # or the benchmark's) planned a scan of the whole lead table per candidate, longer with every chunk.
            with connection.cursor() as cursor:
                refresh_statistics(cursor, Lead._meta.db_table, rows_written=len(new_leads))
                refresh_statistics(cursor, LeadSettlement._meta.db_table, rows_written=len(new_items))
    return counts


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
