"""The policy in force: for one region and date (`policy_in_force`), and for jobs that ask many times
(`PolicyBook`, every active version loaded once). Both follow one rule: an active version of the region
whose window 生效日期 .. 失效日期 (inclusive, open-ended when empty) contains the date; active versions of a
region never overlap (policy_activate refuses it).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from recipients.categories import CATEGORY_ORDER, Category
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql

from ..models import FirstRoundRule, PolicyVersion, RegionIncome
from . import engine

DEFAULT_TIME_LIMIT = 30  # working days, when no policy is in force (DOMAIN §6: Taishan's limit)
_LOOK_UP = object()


def _covers(version: PolicyVersion, day: datetime.date) -> bool:
    return version.effective_from <= day and (version.effective_to is None or version.effective_to >= day)


def policy_in_force(*, county_id: int, day: datetime.date) -> PolicyVersion | None:
    """The active version of the region whose window contains the day (the service date)."""
    return (
        PolicyVersion.objects.filter(county_id=county_id, status=PolicyVersion.Status.ACTIVE, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )


def time_limit_on(*, county_id: int, day: datetime.date) -> int:
    """办理时限 in working days under the policy in force (DEFAULT_TIME_LIMIT without one)."""
    version = policy_in_force(county_id=county_id, day=day)
    return version.time_limit_working_days if version else DEFAULT_TIME_LIMIT


def engine_policy(version: PolicyVersion, *, year: int, income=_LOOK_UP) -> engine.Policy:
    """The calculator's view of a stored version, with the income standard of the year before.

    `income` may be passed when already known (PolicyBook reads them all at once)."""
    if income is _LOOK_UP:
        income = (
            RegionIncome.objects.filter(county_id=version.county_id, year=year - 1)
            .values_list("amount", flat=True)
            .first()
        )
    first_round = {
        (r.category, r.visit_type): engine.FirstRoundRule(
            eligible=r.eligible,
            ratio=r.ratio,
            deductible=engine.Deductible(r.deductible_kind, r.deductible_value),
            cap=r.cap,
            pool=r.pool,
        )
        for r in version.first_round_rules.all()
    }
    secondary = {
        r.category: engine.SecondaryRule(
            trigger=r.trigger,
            deductible=r.deductible,
            bands=tuple(
                engine.Band(None if b["upto"] is None else Decimal(b["upto"]), Decimal(b["ratio"])) for b in r.bands
            ),
            cap=r.cap,
        )
        for r in version.secondary_rules.all()
    }
    return engine.Policy(
        name=str(version),
        first_round=first_round,
        secondary=secondary,
        category_order=CATEGORY_ORDER,
        prior_year_income=income,
        category_names=dict(Category.choices),
    )


class PolicyBook:
    """Every active version (of one region, or of all), loaded once with its rules; the engine's view of
    each is built on first use per version and year. For jobs that ask "the policy on this date" per row."""

    def __init__(self, *, county_id: int | None = None):
        versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).prefetch_related(
            "first_round_rules", "secondary_rules"
        )
        incomes = RegionIncome.objects.all()
        if county_id is not None:
            versions = versions.filter(county_id=county_id)
            incomes = incomes.filter(county_id=county_id)
        self.versions: dict[int, list[PolicyVersion]] = defaultdict(list)
        for v in versions.order_by("-effective_from"):
            self.versions[v.county_id].append(v)
        self.incomes = {(c, y): amount for c, y, amount in incomes.values_list("county_id", "year", "amount")}
        self.cache: dict[tuple[int, int], engine.Policy] = {}

    def version_on(self, county_id: int, day: datetime.date) -> PolicyVersion | None:
        for v in self.versions.get(county_id, ()):
            if _covers(v, day):
                return v
        return None

    def on(self, county_id: int, day: datetime.date) -> engine.Policy | None:
        version = self.version_on(county_id, day)
        if version is None:
            return None
        key = (version.pk, day.year)
        if key not in self.cache:
            income = self.incomes.get((county_id, day.year - 1))
            self.cache[key] = engine_policy(version, year=day.year, income=income)
        return self.cache[key]


def version_in_force_sql(version: str, county: str, day: str) -> str:
    """The SQL condition that policy version row `version` is in force for region `county` on `day`."""
    return (
        f"{version}.county_id = {county} AND {version}.status = '{PolicyVersion.Status.ACTIVE}' "
        f"AND {version}.effective_from <= {day} AND ({version}.effective_to IS NULL OR {version}.effective_to >= {day})"
    )


def eligible_on_date_sql(*, person: str, county: str, day: str, visit_type: str, identities: str = "") -> str:
    """The SQL condition that the person held, on `day`, an identity whose category has a first-round benefit
    (eligible, ratio > 0) for the visit type under the policy in force: DOMAIN §7's candidate test, and §5's
    "first round applicable" for the secondary trigger. `identities` is more of the identities' condition (on
    `i`), e.g. a chunk's id bounds, so that a hash join reads only those identities."""
    rule, version = FirstRoundRule._meta.db_table, PolicyVersion._meta.db_table
    return f"""EXISTS (
      SELECT 1 FROM {IDENTITY_TABLE} i
      JOIN {rule} r ON r.category = i.category
      JOIN {version} v ON v.id = r.version_id
      WHERE i.person_id = {person}{identities} AND {identity_valid_sql("i", day)}
        AND r.visit_type = {visit_type} AND r.eligible AND r.ratio > 0
        AND {version_in_force_sql("v", county, day)})"""
