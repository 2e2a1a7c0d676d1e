"""The supervisor dashboard's figures (DOMAIN §10): read from the summary (reports.facts) and, for the funnel, the
processing time and the fund, from the cases, leads and payout lines themselves. Nothing here writes."""

import calendar
import datetime
import math
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from applications.models import DECIDED_STATUSES, Case, Lead, LeadContact
from applications.policy.selectors import policy_in_force
from applications.policy.workdays import WorkdayCalendar
from followups.kpis import followup_kpis, period_bounds
from recipients.categories import CATEGORY_ORDER
from recipients.models import County, Township
from subsidies.selectors import coverage
from supervision.selectors import recovery_figures

from .funds import fund_position
from .models import AssistanceFact, Benefit, Channel, FactRefresh, FundEntry

CATEGORY_RANK = {code: rank for rank, code in enumerate(CATEGORY_ORDER)}

ZERO = Decimal("0")
DIRECT = [Channel.ONESTOP, Channel.MANUAL]


def _ratio(part, whole):
    return None if not whole else (Decimal(part) / Decimal(whole))


def target_day(year: int, month_to: int = 12) -> datetime.date:
    """The day whose policy sets a period's targets: the period's last day, or today if that is earlier."""
    last = datetime.date(year, month_to, calendar.monthrange(year, month_to)[1])
    return min(last, timezone.localdate())


def _totals(facts) -> dict:
    direct = facts.filter(channel__in=DIRECT)
    totals = direct.aggregate(
        count=Coalesce(Sum("visits"), 0),
        amount=Coalesce(Sum("assisted"), ZERO),
        onestop=Coalesce(Sum("visits", filter=Q(channel=Channel.ONESTOP)), 0),
        major=Coalesce(Sum("visits", filter=Q(major=True)), 0),
        key_amount=Coalesce(Sum("assisted", filter=Q(key=True, benefit=Benefit.INPATIENT)), ZERO),
    )
    totals["key_self_pay"] = (
        facts.filter(key=True, benefit=Benefit.INPATIENT)
        .exclude(channel=Channel.SECONDARY)
        .aggregate(total=Coalesce(Sum("self_pay"), ZERO))["total"]
    )
    return totals


def _kpis(totals: dict, version) -> list[dict]:
    """The three KPIs of the totals, against the targets of the policy version (none: no target)."""
    kpis = [
        {
            "name": "重点救助对象住院政策范围内自付费用救助比例",
            "value": _ratio(totals["key_amount"], totals["key_self_pay"]),
            "detail": f"{totals['key_amount']:,.2f} ÷ {totals['key_self_pay']:,.2f}",
            "target": version.key_ratio_target if version else None,
        },
        {
            "name": "重特大疾病救助人次占直接救助人次比例",
            "value": _ratio(totals["major"], totals["count"]),
            "detail": f"{totals['major']:,} ÷ {totals['count']:,}",
            "target": version.major_share_target if version else None,
        },
        {
            "name": "一站式结算率",
            "value": _ratio(totals["onestop"], totals["count"]),
            "detail": f"{totals['onestop']:,} ÷ {totals['count']:,}",
            "target": None,
        },
    ]
    for kpi in kpis:
        kpi["met"] = None if kpi["value"] is None or kpi["target"] is None else kpi["value"] >= kpi["target"]
    return kpis


def _counties(year: int, township, county=None) -> list[int]:
    """The counties whose policies set the targets: the township's or the county's, or those of the year's data
    (of every township when the year has none)."""
    if township is not None:
        return [township.county_id]
    if county is not None:
        return [county.pk]
    ids = set(AssistanceFact.objects.filter(year=year).values_list("township__county_id", flat=True).distinct())
    return sorted(ids or set(Township.objects.values_list("county_id", flat=True).distinct()))


def kpis_with_targets(facts, totals: dict, *, counties: list[int], day: datetime.date) -> list[dict]:
    """KPIs against the targets of the policy in force for the county on the day.

    Data of several counties: each county's figures are judged against its own policy (`by_county`); the whole
    meets a target when every county does, and shows a target only when all counties share it."""
    if len(counties) <= 1:
        version = policy_in_force(county_id=counties[0], day=day) if counties else None
        return _kpis(totals, version)
    kpis = _kpis(totals, None)
    per_county = [
        (
            county.name,
            _kpis(_totals(facts.filter(township__county=county)), policy_in_force(county_id=county.pk, day=day)),
        )
        for county in County.objects.filter(pk__in=counties).order_by("name")
    ]
    for n, kpi in enumerate(kpis):
        rows = [{"county": name, **figures[n]} for name, figures in per_county]
        targets = {row["target"] for row in rows}
        kpi["target"] = targets.pop() if len(targets) == 1 else None
        mets = [row["met"] for row in rows]
        kpi["met"] = None if any(m is None for m in mets) else all(mets)
        kpi["by_county"] = rows
    return kpis


def in_scope(queryset, *, township=None, county=None, township_path="township"):
    """The rows of one township, of one county, or (neither) of the whole instance."""
    if township is not None:
        return queryset.filter(**{township_path: township})
    if county is not None:
        return queryset.filter(**{f"{township_path}__county": county})
    return queryset


def dashboard(*, year: int, township=None, county=None, month_from: int = 1, month_to: int = 12) -> dict:
    """Every figure of the supervisor dashboard for a period of one year: of one township, one county, or the
    whole prefecture (neither), which is then also given by county."""
    facts = in_scope(
        AssistanceFact.objects.filter(year=year, month__gte=month_from, month__lte=month_to),
        township=township,
        county=county,
    )
    totals = _totals(facts)
    secondary = facts.filter(channel=Channel.SECONDARY).aggregate(
        count=Coalesce(Sum("visits"), 0), amount=Coalesce(Sum("assisted"), ZERO)
    )
    # Stays nobody assisted (channel "none") only feed the key-recipient ratio: no 人次, no amount.
    counted = facts.exclude(channel=Channel.NONE)

    def by(field):
        return list(counted.values(field).annotate(count=Sum("visits"), amount=Sum("assisted")).order_by(field))

    kpis = kpis_with_targets(facts, totals, counties=_counties(year, township, county), day=target_day(year, month_to))
    return {
        "year": year,
        "totals": totals,
        "secondary": secondary,
        "kpis": kpis,
        "by_benefit": by("benefit"),
        # In order of precedence, as the Excel report lists them; assistance without a valid identity last.
        "by_category": sorted(by("category"), key=lambda r: CATEGORY_RANK.get(r["category"], len(CATEGORY_RANK))),
        "by_township": _by_township(counted),
        "by_month": by("month"),
        "by_channel": by("channel"),
        "by_county": (
            list(
                counted.values("township__county__name")
                .annotate(count=Sum("visits"), amount=Sum("assisted"))
                .order_by("township__county__name")
            )
            if township is None and county is None
            else []
        ),
        "funnel": _funnel(year, township, county),
        "processing": _processing(year, township, month_from, month_to, county),
        "fund": _fund(year, township.county if township is not None else county),
        # 资助参保 (DOMAIN §12.1): the insurance year's 资助参保率 of the scope, by township and category.
        "subsidy": coverage(year=year, township=township, county=county),
        "recoveries": recovery_figures(year=year, county=county, township=township),
        # 回访 and complaints of the period (DOMAIN §12.3), overall and by township, against the county's targets.
        "followup": followup_kpis(
            start=period_bounds(year, month_from, month_to)[0],
            end=period_bounds(year, month_from, month_to)[1],
            township=township,
            county=county,
        ),
        "refreshed": FactRefresh.objects.filter(year=year).first(),
    }


def _funnel(year, township, county=None) -> dict:
    leads = in_scope(Lead.objects.filter(year=year), township=township, county=county)
    paid = leads.filter(case__status=Case.Status.PAID).aggregate(
        n=Count("pk"), amount=Coalesce(Sum("case__approved_amount"), ZERO)
    )
    return {
        "found": leads.count(),
        "contacted": leads.filter(Exists(LeadContact.objects.filter(lead=OuterRef("pk")))).count(),
        "converted": leads.filter(status=Lead.Status.CONVERTED).count(),
        "paid": paid["n"],
        "amount": paid["amount"],
    }


def _by_township(counted) -> list[dict]:
    """Count and amount by township (by its id: townships of two counties may share a name), each with its
    `label`: the township's name, with its county's beside it when the figures span several counties."""
    rows = list(
        counted.values("township_id", "township__name", "township__county__name")
        .annotate(count=Sum("visits"), amount=Sum("assisted"))
        .order_by("township__county__name", "township__name")
    )
    several = len({row["township__county__name"] for row in rows}) > 1
    for row in rows:
        town = row["township__name"] or "（未分乡镇）"
        row["label"] = f"{row['township__county__name']} · {town}" if several else town
    return rows


def _processing(year, township, month_from, month_to, county=None) -> dict:
    """Working days from acceptance to decision: average, nearest-rank 90th percentile and maximum.

    Counted per distinct (accepted, decided) pair of dates, so 100,000 cases cost a few thousand calendar lookups.
    """
    cases = Case.objects.filter(decided_at__year=year, status__in=DECIDED_STATUSES, accepted_on__isnull=False).exclude(
        source=Case.Source.SECONDARY
    )
    cases = in_scope(cases, township=township, county=county)
    pairs = (
        cases.annotate(decided_on=TruncDate("decided_at"))
        .filter(decided_on__month__gte=month_from, decided_on__month__lte=month_to)
        .values_list("accepted_on", "decided_on")
        .annotate(n=Count("pk"))
    )
    pairs = list(pairs)
    calendar = WorkdayCalendar(min(p[0] for p in pairs), max(p[1] for p in pairs)) if pairs else None
    weighted = sorted((calendar.between(accepted, decided), n) for accepted, decided, n in pairs)
    open_cases = in_scope(Case.objects.all(), township=township, county=county)
    overdue = open_cases.overdue(timezone.localdate()).exclude(source=Case.Source.SECONDARY).count()
    total = sum(n for _, n in weighted)
    if not total:
        return {"count": 0, "average": None, "p90": None, "maximum": None, "overdue": overdue}
    rank, seen, p90 = math.ceil(0.9 * total), 0, None
    for days, n in weighted:
        seen += n
        if seen >= rank:
            p90 = days
            break
    return {
        "count": total,
        "average": round(sum(days * n for days, n in weighted) / total, 1),
        "p90": p90,
        "maximum": weighted[-1][0],
        "overdue": overdue,
    }


def _fund(year, county=None) -> dict:
    """The fund of one county (funds are kept by county), or of every county together (reports.funds)."""
    position = fund_position(year, county)
    return {
        "income": [(label, position.income.get(value, ZERO)) for value, label in FundEntry.Source.choices],
        "raised": position.received,
        "spent": position.spent,
        "paid_out": position.paid_out,
        "onestop": position.onestop,
        "subsidy": position.subsidy,
        "to_insurer": position.to_insurer,
        "insurer_fee": position.insurer_fee,
        "returned": position.returned,
        "in_flight": position.in_flight,
        "available": position.available,
        "balance": position.balance,
        "ratio": _ratio(position.balance, position.received),
    }
