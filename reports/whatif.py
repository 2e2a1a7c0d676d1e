"""政策测算 (what-if): rerun a past year's settlements through a draft policy and compare with the policy that was
in force. Each person's year runs in service-date order with its own ledger under each policy."""

import datetime
from collections import defaultdict
from decimal import Decimal

from applications.policy import engine
from applications.policy.selectors import PolicyBook, engine_policy
from recipients.models import Person
from recipients.selectors import identity_windows, valid_categories
from settlements.models import Settlement

ZERO = Decimal("0")


def whatif(*, version, year: int, progress=None) -> dict:
    """Totals by category under the version in force and under `version`, for the year's settlements of
    registered people who held an identity on the service date."""
    draft = engine_policy(version, year=year)
    policies = PolicyBook()
    people = {
        n: (pk, county)
        for pk, n, county in Person.objects.values_list("pk", "id_number", "township__county_id").iterator(5000)
    }
    windows = identity_windows()
    rows = (
        Settlement.objects.filter(
            service_date__gte=datetime.date(year, 1, 1), service_date__lte=datetime.date(year, 12, 31)
        )
        .order_by("id_number", "service_date", "number")
        .values_list("id_number", "service_date", "visit_type", "total", "in_policy", "basic", "critical", "other")
    )
    totals = defaultdict(lambda: {"count": 0, "current": ZERO, "draft": ZERO})
    current_pools, draft_pools, person = {}, {}, None
    examined = 0
    for id_number, day, visit_type, t, p, b, c, o in rows.iterator(10000):
        examined += 1
        if progress and examined % 100000 == 0:
            progress(f"已测算 {examined} 条结算")
        known = people.get(id_number)
        if known is None:
            continue
        pid, county = known
        if pid != person:
            person, current_pools, draft_pools = pid, {}, {}
        categories = valid_categories(windows.get(pid, ()), day)
        if not categories:
            continue
        try:
            amounts = engine.Amounts(total=t, in_policy=p, basic=b, critical=c, other=o)
        except engine.PolicyError:
            continue
        current_policy = policies.on(county, day)
        results = {}
        for label, policy, pools in (("current", current_policy, current_pools), ("draft", draft, draft_pools)):
            if policy is None:
                continue
            try:
                result = engine.best_first_round(policy, categories, visit_type, amounts, pools, explain=False)
            except engine.PolicyError:
                continue
            results[label] = result
            if result.pool is not None:
                engine.add_to_pool(pools, result.pool, result.ledger_change())
        category = (results.get("draft") or results.get("current")).category if results else None
        bucket = totals[category or ""]
        bucket["count"] += 1
        for label, result in results.items():
            bucket[label] += result.amount
    by_category = [
        {
            "category": cat,
            "count": v["count"],
            "current": str(v["current"]),
            "draft": str(v["draft"]),
            "difference": str(v["draft"] - v["current"]),
        }
        for cat, v in sorted(totals.items())
    ]
    current_total = sum((v["current"] for v in totals.values()), ZERO)
    draft_total = sum((v["draft"] for v in totals.values()), ZERO)
    return {
        "year": year,
        "policy": str(version),
        "examined": examined,
        "current_total": str(current_total),
        "draft_total": str(draft_total),
        "difference": str(draft_total - current_total),
        "by_category": by_category,
    }
