"""The person-year ledger (LedgerEntry): what approved cases have used of each cap pool's deductible and cap,
plus what hospitals already paid one-stop, as the calculator sees a person's year.

`ledger_post` adds, under a row lock and the cap; `ledger_give_back` takes back what a recovery (追回) returned,
under the same lock; nothing else writes. `year_pools` is the one reader that the review
of an application, the cross-check's estimates and the what-if run share, so that they agree.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from lib.chunks import chunks
from recipients.selectors import identity_windows, valid_categories
from settlements.models import Settlement

from ..models import LedgerEntry
from . import engine


class CapExceeded(ValueError):
    """Posting would take a person-year past its cap; nothing was posted."""


def ledger_post(
    *,
    person_id: int,
    year: int,
    pool: str,
    granted: Decimal,
    deductible_used: Decimal = Decimal("0"),
    cap: Decimal | None = None,
) -> LedgerEntry:
    """Add to a person-year-pool's totals with the row locked; refuse to pass the cap.

    Call inside the transaction that records the grant. The row is created if missing (a
    conflict-ignoring insert, so two first postings cannot both create it), then locked.
    """
    LedgerEntry.objects.bulk_create([LedgerEntry(person_id=person_id, year=year, pool=pool)], ignore_conflicts=True)
    entry = LedgerEntry.objects.select_for_update().get(person_id=person_id, year=year, pool=pool)
    if cap is not None and entry.granted + granted > cap:
        raise CapExceeded(
            f"超过年度封顶线：已救助 {engine.yuan(entry.granted)}，本次 {engine.yuan(granted)}，封顶 {engine.yuan(cap)}"
        )
    entry.granted += granted
    entry.deductible_used += deductible_used
    entry.save(update_fields=["granted", "deductible_used", "updated_at"])
    return entry


def ledger_give_back(
    *, person_id: int, year: int, pool: str, granted: Decimal, deductible_used: Decimal = Decimal("0")
) -> LedgerEntry | None:
    """Take back from a person-year-pool's totals what a recovery returned (DOMAIN §12.2: the ledger gives back
    what was recovered, cap and deductible), with the row locked; never below zero. Call inside the transaction
    that records the repayment."""
    entry = LedgerEntry.objects.select_for_update().filter(person_id=person_id, year=year, pool=pool).first()
    if entry is None:
        return None
    entry.granted = max(Decimal("0"), entry.granted - granted)
    entry.deductible_used = max(Decimal("0"), entry.deductible_used - deductible_used)
    entry.save(update_fields=["granted", "deductible_used", "updated_at"])
    return entry


def ledger_pools(
    *, person_ids: Iterable[int], years: Iterable[int]
) -> dict[tuple[int, int], dict[str, engine.PoolState]]:
    """The stored ledger per (person, year): pool → state."""
    pools: dict[tuple[int, int], dict[str, engine.PoolState]] = {}
    rows = LedgerEntry.objects.filter(person_id__in=list(person_ids), year__in=list(years)).values_list(
        "person_id", "year", "pool", "deductible_used", "granted"
    )
    for pid, year, pool, used, granted in rows:
        pools.setdefault((pid, year), {})[pool] = engine.PoolState(used, granted)
    return pools


@dataclass(slots=True)
class OneStop:
    """A one-stop settlement already assisted (A0 > 0), as the ledger arithmetic needs it."""

    number: str
    service_date: datetime.date
    visit_type: str
    amounts: engine.Amounts


def year_pools(
    *,
    stored: dict[str, engine.PoolState],
    onestop: Iterable[OneStop],
    policy_on,
    categories_on,
) -> dict[str, engine.PoolState]:
    """A person-year's pools before a claim: the approved cases' ledger, then the year's one-stop assistance in
    service-date order on top (DOMAIN §5: it counts against the same deductible and cap).

    `policy_on(day)` gives the engine policy in force, `categories_on(day)` the categories valid that day.
    """
    pools = dict(stored)
    for s in sorted(onestop, key=lambda s: (s.service_date, s.number)):
        policy = policy_on(s.service_date)
        categories = categories_on(s.service_date) if policy is not None else []
        if not categories:
            continue
        posting = engine.onestop_posting(policy, categories, s.visit_type, s.amounts, pools)
        if posting is not None:
            engine.add_to_pool(pools, *posting)
    return pools


def onestop_by_person_year(people: dict[int, str], years: Iterable[int]) -> dict[tuple[int, int], list[OneStop]]:
    """The one-stop settlements with assistance (A0 > 0) of these people (id → ID number) in these years."""
    years = sorted(set(years))
    found: dict[tuple[int, int], list[OneStop]] = {}
    if not years or not people:
        return found
    by_number = {number: pid for pid, number in people.items()}
    first, last = datetime.date(years[0], 1, 1), datetime.date(years[-1], 12, 31)
    for chunk in chunks(by_number, 1000):
        # Plain rows, not model instances: a job's chunk reads tens of thousands of them.
        rows = Settlement.objects.filter(
            id_number__in=chunk, onestop__gt=0, service_date__gte=first, service_date__lte=last
        ).values_list(
            "number", "id_number", "service_date", "visit_type", "total", "in_policy", "basic", "critical", "other",
            "onestop",
        )  # fmt: skip
        for number, id_number, day, visit_type, total, in_policy, basic, critical, other, onestop in rows:
            if day.year not in years:
                continue
            amounts = engine.Amounts(
                total=total,
                in_policy=in_policy,
                basic=basic,
                critical=critical,
                other=other,
                onestop_assistance=onestop,
            )
            found.setdefault((by_number[id_number], day.year), []).append(OneStop(number, day, visit_type, amounts))
    return found


def person_year_pools(*, person, year: int, book) -> dict[str, engine.PoolState]:
    """One person's pools for a year before a new claim: the stored ledger plus one-stop assistance (see
    year_pools). `book` is a PolicyBook covering the person's region."""
    county_id = person.township.county_id
    stored = ledger_pools(person_ids=[person.pk], years=[year]).get((person.pk, year), {})
    onestop = onestop_by_person_year({person.pk: person.id_number}, [year]).get((person.pk, year), [])
    windows = identity_windows([person.pk]).get(person.pk, [])
    return year_pools(
        stored=stored,
        onestop=onestop,
        policy_on=lambda day: book.on(county_id, day),
        categories_on=lambda day: valid_categories(windows, day),
    )
