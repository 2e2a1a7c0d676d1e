"""政策测算 (what-if): rerun a past year's settlements through a draft policy and compare with the policy that was
in force. Each person's year runs in service-date order with its own ledger under each policy."""

import datetime
from collections import defaultdict
from decimal import Decimal

from applications import policy_engine as engine
from applications.crosscheck import _Policies
from applications.policy_services import engine_policy
from recipients.models import Identity, Person

ZERO = Decimal("0")


def whatif(*, version, year: int, progress=None) -> dict:
    """Totals by category under the version in force and under `version`, for the year's settlements of
    registered people who held an identity on the service date."""
    from settlements.models import Settlement

    draft = engine_policy(version, year=year)
    policies = _Policies()
    people = {
        n: (pk, county)
        for pk, n, county in Person.objects.values_list("pk", "id_number", "township__county_id").iterator(5000)
    }
    windows = defaultdict(list)
    for pid, category, f, t in Identity.objects.values_list("person_id", "category", "valid_from", "valid_to").iterator(
        5000
    ):
        windows[pid].append((category, f, t))
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
        categories = [cat for cat, f, u in windows[pid] if f <= day and (u is None or u >= day)]
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
                state = pools.get(result.pool, engine.EMPTY_POOL)
                pools[result.pool] = engine.PoolState(
                    state.deductible_used + result.deductible_applied, state.granted + result.amount
                )
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
