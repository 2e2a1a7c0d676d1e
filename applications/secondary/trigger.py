"""The 二次救助 trigger (DOMAIN §5, §8): each person's yearly burden (burden.py) and a ready-calculated secondary
case awaiting approval where the policy gives more than already granted.

The category is the most favourable among the identities valid on the counted dates; the policy is the one in
force on the latest counted date. Recomputation never pays twice: what is proposed is due − already granted;
a person-year never has two secondary cases in progress (a database constraint); a new figure lower than
what was already granted flags the last approved case for review instead of going negative. Cases are
created, revised and withdrawn through the case services, in bulk.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from lib.chunks import chunks
from recipients.models import Person
from settlements.models import Settlement

from ..cases.services import case_flag, cases_propose, cases_retract, cases_revise_proposals
from ..jobs.scope import EVERYBODY, PersonRange
from ..models import GRANTED_STATUSES, OPEN_STATUSES, Case, LedgerEntry, YearlyBurden
from ..policy import engine
from ..policy.selectors import DEFAULT_TIME_LIMIT, PolicyBook
from ..policy.workdays import add_working_days
from .burden import Burden, yearly_burdens

ZERO = Decimal("0")
S = Case.Status


@dataclass
class TriggerCounts:
    people: int = 0
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    flagged: int = 0
    total: Decimal = ZERO
    numbers: list[str] = field(default_factory=list)

    def add(self, other: "TriggerCounts") -> None:
        for name in ("people", "created", "updated", "withdrawn", "flagged", "total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.numbers += other.numbers[: max(0, 200 - len(self.numbers))]


def years_with_data() -> list[int]:
    first = Settlement.objects.order_by("service_date").values_list("service_date", flat=True).first()
    last = Settlement.objects.order_by("-service_date").values_list("service_date", flat=True).first()
    if first is None:
        return [timezone.localdate().year]
    return list(range(first.year, last.year + 1))


def secondary_run(
    *, year: int | None = None, person_ids: list[int] | None = None, scope: PersonRange = EVERYBODY
) -> TriggerCounts:
    """Recompute burdens and bring the secondary cases in line, for one year (or every year with data), for the
    people in `scope` (or the given people)."""
    counts = TriggerCounts()
    book = PolicyBook()
    for y in [year] if year else years_with_data():
        secondary_year(year=y, counts=counts, book=book, person_ids=person_ids, scope=scope)
    return counts


def secondary_year(
    *,
    year: int,
    counts: TriggerCounts,
    book: PolicyBook,
    person_ids: list[int] | None = None,
    scope: PersonRange = EVERYBODY,
    progress: Callable[[str], None] | None = None,
    written: Callable[[TriggerCounts], None] | None = None,
) -> None:
    """One year: the burdens are read, then the burden rows and the cases are written in one transaction, in
    which `written(counts of the year)` is called last (a job's chunk records its figures there)."""
    if progress is not None:
        progress(f"{year} 年：计算年度负担")
    burdens = yearly_burdens(year=year, person_ids=person_ids, scope=scope)
    if progress is not None:
        progress(f"{year} 年：写入二次救助案件")
    of_year = TriggerCounts()
    with transaction.atomic():
        _apply_year(year, burdens, of_year, book=book, person_ids=person_ids, scope=scope)
        if written is not None:
            written(of_year)
    counts.add(of_year)


def granted_secondary(person_ids, year: int) -> dict[int, Decimal]:
    """What the 二次救助 ledger holds for these people in the year."""
    granted: dict[int, Decimal] = {}
    for chunk in chunks(person_ids):
        granted.update(
            LedgerEntry.objects.filter(person_id__in=chunk, year=year, pool=LedgerEntry.SECONDARY).values_list(
                "person_id", "granted"
            )
        )
    return granted


def evaluate(book: PolicyBook, county_id, burden: Burden, granted: Decimal):
    """The person-year's secondary result and the policy rule behind it (None, None when nothing applies)."""
    if not (burden.items and burden.last_date and burden.categories):
        return None, None
    policy = book.on(county_id, burden.last_date)
    if policy is None:
        return None, None
    result = engine.best_secondary(policy, burden.categories, burden.burden, granted)
    return result, policy.secondary.get(result.category)


def _apply_year(year, burdens: dict[int, Burden], counts: TriggerCounts, *, book, person_ids, scope) -> None:
    now = timezone.now()
    county_of = {}
    for chunk in chunks(list(burdens)):
        county_of.update(Person.objects.filter(pk__in=chunk).values_list("pk", "township__county_id"))
    granted = granted_secondary(list(burdens), year)
    rows, results, deductibles = [], {}, {}
    for pid, b in burdens.items():
        result, rule = evaluate(book, county_of.get(pid), b, granted.get(pid, ZERO))
        threshold = None
        if rule is not None:
            threshold = max(rule.trigger, rule.deductible)
            deductibles[pid] = rule.deductible
        results[pid] = result
        rows.append(
            YearlyBurden(
                person_id=pid,
                township_id=b.township_id,
                year=year,
                burden=b.burden,
                items=b.items,
                pending=b.pending,
                category=(result.category if result else "") or "",
                threshold=threshold,
                due=result.due if result else ZERO,
                granted=granted.get(pid, ZERO),
                computed_at=now,
            )
        )
    with transaction.atomic():
        YearlyBurden.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["person", "year"],
            update_fields=[
                "township",
                "burden",
                "items",
                "pending",
                "category",
                "threshold",
                "due",
                "granted",
                "computed_at",
            ],
        )
        # People with nothing counted any more this year (a settlement corrected, an identity ended).
        stale = YearlyBurden.objects.filter(scope.q("person"), year=year, computed_at__lt=now)
        if person_ids is not None:
            stale = stale.filter(person_id__in=person_ids)
        stale.delete()
    _write_cases(year, burdens, results, deductibles, counts, book, person_ids=person_ids, scope=scope)


def secondary_calculation(result: engine.SecondaryResult, burden: Burden, deductible: Decimal | None = None) -> list:
    """The calculation kept on a secondary case (the case page and the secondary list read it)."""
    return [
        {
            "kind": "secondary",
            "year": burden.year,
            "category": result.category,
            "burden": str(burden.burden),
            "items": burden.items,
            "deductible": None if deductible is None else str(deductible),
            "due": str(result.due),
            "already_granted": str(result.already_granted),
            "amount": str(result.pay_now),
            "pool": LedgerEntry.SECONDARY,
            "steps": [[s.label, s.detail] for s in result.steps],
        }
    ]


def _write_cases(year, burdens, results, deductibles, counts: TriggerCounts, book, *, person_ids, scope) -> None:
    """Create, revise, withdraw and flag the year's secondary cases: in bulk, in one transaction, with the
    person-year's cases in progress locked so that an approval cannot interleave."""
    wanted = {pid: r for pid, r in results.items() if r is not None}
    paying = {pid for pid, r in wanted.items() if r.pay_now > 0}
    counts.people += len(results)
    today = timezone.localdate()
    with transaction.atomic():
        open_cases: dict[int, Case] = {}
        serial: dict[int, int] = defaultdict(int)
        for chunk in chunks(list(wanted)):
            for case in Case.objects.select_for_update().filter(
                person_id__in=chunk, year=year, source=Case.Source.SECONDARY, status__in=OPEN_STATUSES
            ):
                open_cases[case.person_id] = case
            for pid, n in (
                Case.objects.filter(person_id__in=chunk, year=year, source=Case.Source.SECONDARY)
                .values_list("person_id")
                .annotate(n=Count("pk"))
            ):
                serial[pid] = n
        people = {}
        for chunk in chunks([pid for pid in paying if pid not in open_cases]):
            people.update(Person.objects.filter(pk__in=chunk).select_related("township").in_bulk())
        new_cases, revised, before, retract = [], [], {}, []
        due_on: dict[int, object] = {}  # time limit → due date (one calendar walk per distinct limit)
        for pid, result in wanted.items():
            burden = burdens[pid]
            case = open_cases.get(pid)
            if pid in paying:
                calculation = secondary_calculation(result, burden, deductibles.get(pid))
                if case is None:
                    person = people[pid]
                    version = book.version_on(person.township.county_id, today)
                    limit = version.time_limit_working_days if version else DEFAULT_TIME_LIMIT
                    if limit not in due_on:
                        due_on[limit] = add_working_days(today, limit)
                    new_cases.append(
                        Case(
                            number=f"EC{year}{pid:08d}{serial[pid]:02d}",
                            person=person,
                            township_id=person.township_id,
                            source=Case.Source.SECONDARY,
                            year=year,
                            accepted_on=today,
                            due_on=due_on[limit],
                            payee_name=person.name,
                            payee_bank=person.bank_name,
                            payee_account=person.bank_account,
                            proposed_amount=result.pay_now,
                            calculation=calculation,
                        )
                    )
                    counts.total += result.pay_now
                elif case.status == S.APPROVAL and (
                    case.proposed_amount != result.pay_now or case.calculation != calculation
                ):
                    before[case.pk] = case.proposed_amount
                    case.proposed_amount, case.calculation = result.pay_now, calculation
                    revised.append(case)
                    counts.total += result.pay_now
            elif case is not None and case.status == S.APPROVAL:
                retract.append(case)
            if result.due < result.already_granted:
                counts.flagged += _flag(pid, year, result)
        # People with a proposal in progress who no longer get a result at all (identity ended, settlement
        # corrected away): their proposal is withdrawn too.
        dropped = (
            Case.objects.select_for_update()
            .filter(scope.q("person"), year=year, source=Case.Source.SECONDARY, status=S.APPROVAL)
            .exclude(person_id__in=list(paying))
        )
        if person_ids is not None:
            dropped = dropped.filter(person_id__in=person_ids)
        retract += [case for case in dropped if case.person_id not in wanted]
        created = cases_propose(
            new_cases,
            comment="年度个人负担达到标准，系统测算生成",
            audit_action="secondary.create",
            audit_after=lambda c: {
                "year": year,
                "burden": c.calculation[0]["burden"],
                "proposed_amount": str(c.proposed_amount),
            },
        )
        counts.numbers += [c.number for c in created][: max(0, 200 - len(counts.numbers))]
        counts.created += len(created)
        cases_revise_proposals(
            revised,
            audit_action="secondary.update",
            before=lambda c: {"proposed_amount": str(before[c.pk])},
            after=lambda c: {"proposed_amount": str(c.proposed_amount)},
            comment="二次救助重新测算",
        )
        counts.updated += len(revised)
        cases_retract(retract, reason="重新测算后无需再救助", audit_action="secondary.withdraw")
        counts.withdrawn += len(retract)


def _flag(pid, year, result) -> int:
    last = (
        Case.objects.select_for_update()
        .filter(person_id=pid, year=year, source=Case.Source.SECONDARY, status__in=GRANTED_STATUSES)
        .order_by("-decided_at")
        .first()
    )
    if last is None:
        return 0
    flag = (
        f"重新测算的年度应救助金额 {engine.yuan(result.due)} 低于已救助 {engine.yuan(result.already_granted)}，"
        "不会扣减，请复核"
    )
    return int(case_flag(last, flag=flag, audit_action="secondary.flag"))
