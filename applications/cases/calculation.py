"""The calculation of an application's bills (审核 and 批准): the policy engine over the bills in service-date
order, on top of the person's year as the ledger and the one-stop settlements leave it."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from recipients.selectors import identities_valid_on

from ..models import Case
from ..policy import engine
from ..policy.ledger import person_year_pools
from ..policy.selectors import PolicyBook
from .workflow import TransitionRefused


@dataclass
class CaseCalculation:
    amount: Decimal
    lines: list[dict]  # one per bill: bill id, service date, category, amount, steps


def case_calculate(case: Case) -> CaseCalculation:
    """Run the policy engine over the case's bills in service-date order, on top of the person's year."""
    bills = sorted(case.bills.all(), key=lambda b: (b.service_date or datetime.date.min, b.pk))
    county_id = case.township.county_id
    book = PolicyBook(county_id=county_id)
    years: dict[int, dict[str, engine.PoolState]] = {}
    total = Decimal("0")
    lines = []
    for bill in bills:
        day = bill.service_date
        if day is None:
            raise TransitionRefused(f"就诊记录 {bill} 缺少就诊或出院日期")
        policy = book.on(county_id, day)
        if policy is None:
            raise TransitionRefused(f"{day} 没有生效的救助政策")
        if day.year not in years:
            # Approved applications, then what hospitals already paid one-stop this year (DOMAIN §5).
            years[day.year] = person_year_pools(person=case.person, year=day.year, book=book)
        pools = years[day.year]
        categories = [i.category for i in identities_valid_on(person=case.person_id, day=day)]
        try:
            result = engine.best_first_round(policy, categories, bill.visit_type, engine.Amounts.of(bill), pools)
        except engine.PolicyError as exc:
            raise TransitionRefused(f"就诊记录 {bill}：{exc}") from None
        if result.pool is not None:
            engine.add_to_pool(pools, result.pool, result.ledger_change())
        total += result.amount
        lines.append(
            {
                "bill": bill.pk,
                "service_date": day.isoformat(),
                "year": day.year,
                "category": result.category,
                "pool": result.pool,
                "amount": str(result.amount),
                "deductible_applied": str(result.deductible_applied),
                "cap": str(policy.rule(result.category, bill.visit_type).cap) if result.category else None,
                "steps": [[s.label, s.detail] for s in result.steps],
            }
        )
    return CaseCalculation(amount=total, lines=lines)


def review_preview(case: Case) -> tuple[CaseCalculation | None, str]:
    """What 审核通过 would propose now (read-only), or None and the reason it cannot be calculated: shown to
    the reviewer, who then confirms the amount."""
    try:
        return case_calculate(case), ""
    except TransitionRefused as exc:
        return None, str(exc)
