"""Reads of the monitoring: the thresholds in force, the month's list as a user may see it, the figures of the
dashboard and of the person page."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from applications.models import GRANTED_STATUSES, Case, RegionIncome
from recipients.models import County
from settlements.models import Settlement

from .models import Listing, Population, Threshold, Watch, ZbApplication

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Limit:
    county_id: int
    population: str
    amount: Decimal
    basis: str
    step: Decimal
    explained: str


def threshold_amount(threshold: Threshold, income: Decimal | None) -> Decimal | None:
    """The threshold in yuan: its amount, or its share of the prior-year per-capita disposable income (None when
    that income is not stored)."""
    if threshold.kind == Threshold.Kind.AMOUNT:
        return threshold.amount
    if income is None:
        return None
    return (threshold.share * income).quantize(CENT, ROUND_HALF_UP)


def limits_for(*, year: int, county_id: int | None = None) -> tuple[list[Limit], list[str]]:
    """The thresholds of the year per county and population, and a message for each county and population that
    has none (or whose income standard is missing): its people are not judged."""
    thresholds = Threshold.objects.filter(year=year).select_related("county")
    counties = County.objects.all()
    if county_id is not None:
        thresholds, counties = thresholds.filter(county_id=county_id), counties.filter(pk=county_id)
    incomes = dict(RegionIncome.objects.filter(year=year - 1).values_list("county_id", "amount"))
    found, problems = [], []
    have = set()
    for t in thresholds:
        have.add((t.county_id, t.population))
        amount = threshold_amount(t, incomes.get(t.county_id))
        if amount is None:
            problems.append(f"{t.county.name} 缺少 {year - 1} 年人均可支配收入，{t.get_population_display()}未监测")
            continue
        how = f"{t.share * 100:.2f}% × {incomes[t.county_id]}" if t.kind == Threshold.Kind.INCOME_SHARE else "固定金额"
        found.append(Limit(t.county_id, t.population, amount, t.basis, t.relist_step, how))
    for county in counties:
        for population in Population:
            if (county.pk, population.value) not in have:
                problems.append(f"{county.name} 未设置 {year} 年{population.label}的预警阈值")
    return found, problems


def month_listings(*, user, month: datetime.date, township_id: int | None = None, population: str = "", new_only=False):
    """The month's 监测名单 as the user may see it, with the filters of the list page."""
    rows = Listing.objects.visible_to(user).filter(month=month)
    if township_id:
        rows = rows.filter(watch__township_id=township_id)
    if population in Population.values:
        rows = rows.filter(population=population)
    if new_only:
        rows = rows.filter(reason=Listing.Reason.NEW)
    return rows.select_related("watch", "watch__township", "watch__county").order_by(
        "watch__county", "watch__township", "watch__id_number"
    )


def latest_month(user) -> datetime.date | None:
    return Listing.objects.visible_to(user).order_by("-month").values_list("month", flat=True).first()


def kpis(*, year: int, county=None, township=None) -> dict:
    """监测预警 on the dashboard: people listed above their threshold in the year, of them identified as ZB,
    and of them assisted in the year (one-stop assistance, a granted case, or 二次救助)."""
    watches = Watch.objects.filter(listings__month__year=year).distinct()
    if township is not None:
        watches = watches.filter(township=township)
    elif county is not None:
        watches = watches.filter(county=county)
    numbers = watches.values("id_number")
    above = watches.count()
    zb = (
        ZbApplication.objects.filter(status=ZbApplication.Status.APPROVED, decided_on__year=year, id_number__in=numbers)
        .values("id_number")
        .distinct()
        .count()
    )
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    onestop = set(
        Settlement.objects.filter(id_number__in=numbers, onestop__gt=0, service_date__range=(start, end))
        .values_list("id_number", flat=True)
        .distinct()
    )
    granted = set(
        Case.objects.filter(person__id_number__in=numbers, status__in=GRANTED_STATUSES, decided_at__year=year)
        .values_list("person__id_number", flat=True)
        .distinct()
    )
    by_population = dict(
        Listing.objects.filter(watch__in=watches, month__year=year)
        .values_list("population")
        .annotate(n=Count("watch", distinct=True))
    )
    return {
        "above": above,
        "registry": by_population.get(Population.REGISTRY, 0),
        "general": by_population.get(Population.GENERAL, 0),
        "zb": zb,
        "assisted": len(onestop | granted),
        "open_zb": ZbApplication.objects.filter(
            Q(status__in=[ZbApplication.Status.OPEN, ZbApplication.Status.VERIFIED]), id_number__in=numbers
        ).count(),
    }
