"""Estimates of the cross-check's candidates: the policy engine per person and year in service-date order, on
top of what the year already used (the approved cases' ledger and the one-stop assistance), exactly as the
review of the application the lead becomes will calculate (policy.ledger.year_pools)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from lib.chunks import chunks
from recipients.models import Person
from recipients.selectors import identity_windows, valid_categories

from ..policy import engine
from ..policy.ledger import ledger_pools, onestop_by_person_year, year_pools
from ..policy.selectors import PolicyBook
from .candidates import Candidate

ZERO = Decimal("0")


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


def estimate(candidates: list[Candidate], *, progress: Callable[[int], None] | None = None) -> list[PersonYear]:
    """The person-years with something to estimate, each candidate carrying its amount and category.
    `progress(n)` hears every 5,000 person-years."""
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
    people: dict[int, tuple[str, int]] = {}
    windows, stored, onestop = {}, {}, {}
    for chunk in chunks(person_ids):
        found = {
            pid: (id_number, county_id)
            for pid, id_number, county_id in Person.objects.filter(pk__in=chunk).values_list(
                "pk", "id_number", "township__county_id"
            )
        }
        people.update(found)
        windows.update(identity_windows(chunk))
        stored.update(ledger_pools(person_ids=chunk, years=years))
        onestop.update(onestop_by_person_year({pid: v[0] for pid, v in found.items()}, years))

    book = PolicyBook()
    results = []
    for done, (key, group) in enumerate(sorted(groups.items()), start=1):
        if progress is not None and done % 5000 == 0:
            progress(done)
        pid, year = key
        county_id = people[pid][1]
        person_windows = windows.get(pid, ())

        def policy_on(day, county_id=county_id):
            return book.on(county_id, day)

        def categories_on(day, person_windows=person_windows):
            return valid_categories(person_windows, day)

        pools = year_pools(
            stored=stored.get(key, {}), onestop=onestop.get(key, ()), policy_on=policy_on, categories_on=categories_on
        )
        for item in sorted(group.items, key=lambda c: (c.service_date, c.number)):
            policy = policy_on(item.service_date)
            categories = categories_on(item.service_date) if policy is not None else []
            if not categories:
                continue
            try:
                result = engine.best_first_round(
                    policy, categories, item.visit_type, item.amounts, pools, explain=False
                )
            except engine.PolicyError:
                continue
            if result.pool is None:
                continue
            item.estimate, item.category = result.amount, result.category
            engine.add_to_pool(pools, result.pool, result.ledger_change())
        if group.estimate > 0:
            results.append(group)
    return results
