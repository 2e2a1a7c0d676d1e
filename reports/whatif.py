"""政策测算 (what-if): rerun a past year's settlements through a draft policy and through the policies in force
that year, first round and secondary assistance (DOMAIN §5), and compare them by category.

What is counted, under each policy alike:

- the year's settlements of the people registered in the draft's region, each on a day the person held a valid
  identity (the others are counted as skipped); each person's year runs in service-date order with its own
  ledger under each policy, so deductibles and caps carry from one settlement to the next;
- first round: engine.best_first_round per settlement (就高不重复). Both sides are recomputed, the one-stop
  assistance the hospital actually paid is not used: the comparison is policy against policy, on one footing;
- secondary, per person-year: the burden is Σ (T − B − C − O − that policy's first round) over those same
  settlements (out-of-policy costs included), and engine.best_secondary gives what is due under that policy's
  secondary rules, nothing granted before. The policy in force is the one of the latest counted service date.
  A what-if assumes every first round decided: nothing waits for an open case;
- categories: a settlement counts under the first of the identities valid on its service date by precedence
  (recipients.categories, as the statistics report), a person-year's secondary under the first of all the
  identities of its counted settlements; both independent of the policy, so the two sides compare row by row.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from applications.policy import engine
from applications.policy.selectors import PolicyBook, engine_policy
from recipients.categories import most_favoured
from recipients.models import Person
from recipients.selectors import identity_windows, valid_categories
from settlements.models import Settlement

from .labels import category_rank

ZERO = Decimal("0")
SIDES = ("current", "draft")
FORMAT = 2  # results of format 1 (before 2026-12) held the first round only


@dataclass
class Side:
    first: Decimal = ZERO
    secondary: Decimal = ZERO
    secondary_people: int = 0

    @property
    def total(self) -> Decimal:
        return self.first + self.secondary

    def add(self, other: "Side") -> None:
        self.first += other.first
        self.secondary += other.secondary
        self.secondary_people += other.secondary_people

    def as_dict(self) -> dict:
        return {
            "first": str(engine.money(self.first)),
            "secondary": str(engine.money(self.secondary)),
            "total": str(engine.money(self.total)),
            "secondary_people": self.secondary_people,
        }


@dataclass
class Bucket:
    count: int = 0  # 人次: settlements counted
    people: int = 0
    sides: dict = field(default_factory=lambda: {side: Side() for side in SIDES})


@dataclass
class PersonYear:
    pid: int
    categories: set = field(default_factory=set)  # every identity valid on a counted service date
    rows: set = field(default_factory=set)  # the categories its settlements are counted under
    last_day: datetime.date | None = None
    burden: dict = field(default_factory=lambda: dict.fromkeys(SIDES, ZERO))
    pools: dict = field(default_factory=lambda: {side: {} for side in SIDES})


def percent_change(before: Decimal, after: Decimal) -> str | None:
    """(after − before) ÷ before as a ratio to 0.0001 (12.5% is "0.1250"); None when before is 0."""
    if not before:
        return None
    return str(((after - before) / before).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def whatif(*, version, year: int, progress=None) -> dict:
    """First round, secondary and total by category under the policies in force during `year` and under the
    draft `version`, for the settlements of the people of the draft's region (see the module docstring)."""
    draft = engine_policy(version, year=year)
    policies = PolicyBook(county_id=version.county_id)
    region = Person.objects.filter(township__county_id=version.county_id)
    people = dict(region.values_list("id_number", "pk").iterator(5000))
    windows = identity_windows()
    rows = (
        Settlement.objects.filter(
            service_date__gte=datetime.date(year, 1, 1),
            service_date__lte=datetime.date(year, 12, 31),
            id_number__in=region.values("id_number"),
        )
        .order_by("id_number", "service_date", "number")
        .values_list("id_number", "service_date", "visit_type", "total", "in_policy", "basic", "critical", "other")
    )
    buckets: dict[str, Bucket] = defaultdict(Bucket)
    skipped, unanswered = Counter(), Counter()
    person, people_counted, examined = None, 0, 0

    def close(py: PersonYear) -> None:
        for category in py.rows:
            buckets[category].people += 1
        secondary_row = buckets[most_favoured(py.categories)]
        for side, policy in (("current", policies.on(version.county_id, py.last_day)), ("draft", draft)):
            if policy is None:
                continue
            result = engine.best_secondary(policy, py.categories, engine.money(py.burden[side]), ZERO)
            if result.due > 0:
                secondary_row.sides[side].secondary += result.due
                secondary_row.sides[side].secondary_people += 1

    for id_number, day, visit_type, t, p, b, c, o in rows.iterator(10000):
        examined += 1
        if progress and examined % 100000 == 0:
            progress(f"已测算 {examined} 条结算")
        pid = people[id_number]
        categories = valid_categories(windows.get(pid, ()), day)
        if not categories:
            skipped["no_identity"] += 1
            continue
        try:
            amounts = engine.Amounts(total=t, in_policy=p, basic=b, critical=c, other=o)
        except engine.PolicyError:
            skipped["invalid"] += 1
            continue
        if person is None or person.pid != pid:
            if person is not None:
                close(person)
            person, people_counted = PersonYear(pid), people_counted + 1
        category = most_favoured(categories)
        bucket = buckets[category]
        bucket.count += 1
        person.categories.update(categories)
        person.rows.add(category)
        person.last_day = day
        for side, policy in (("current", policies.on(version.county_id, day)), ("draft", draft)):
            first = first_round(policy, categories, visit_type, amounts, person.pools[side])
            if first is None:
                unanswered[side] += 1
                first = ZERO
            bucket.sides[side].first += first
            person.burden[side] += max(ZERO, amounts.burden_after_insurance - first)
    if person is not None:
        close(person)
    return summarise(year, version, examined, people_counted, buckets, skipped, unanswered)


def first_round(policy, categories, visit_type, amounts, pools) -> Decimal | None:
    """The settlement's first round under the policy, posted to the person-year's pools; None when no policy
    was in force or it cannot answer (an income standard missing): nothing is granted then."""
    if policy is None:
        return None
    try:
        result = engine.best_first_round(policy, categories, visit_type, amounts, pools, explain=False)
    except engine.PolicyError:
        return None
    if result.pool is not None:
        engine.add_to_pool(pools, result.pool, result.ledger_change())
    return result.amount


def _row(bucket_sides: dict, **extra) -> dict:
    current, draft = bucket_sides["current"], bucket_sides["draft"]
    return {
        **extra,
        "current": current.as_dict(),
        "draft": draft.as_dict(),
        "difference": str(engine.money(draft.total - current.total)),
        "percent": percent_change(current.total, draft.total),
    }


def summarise(year, version, examined, people, buckets, skipped, unanswered) -> dict:
    total = {side: Side() for side in SIDES}
    by_category = []
    for category in sorted(buckets, key=category_rank):
        bucket = buckets[category]
        for side in SIDES:
            total[side].add(bucket.sides[side])
        by_category.append(_row(bucket.sides, category=category, count=bucket.count, people=bucket.people))
    count = sum(b.count for b in buckets.values())
    return {
        "format": FORMAT,
        "year": year,
        "policy": str(version),
        "examined": examined,
        "skipped": {"no_identity": skipped["no_identity"], "invalid": skipped["invalid"]},
        "unanswered": {side: unanswered[side] for side in SIDES},
        "by_category": by_category,
        "total": _row(total, count=count, people=people),
        # The grand totals (first round and secondary), as the page's first line says them.
        "current_total": str(engine.money(total["current"].total)),
        "draft_total": str(engine.money(total["draft"].total)),
        "difference": str(engine.money(total["draft"].total - total["current"].total)),
    }
