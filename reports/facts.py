"""The assistance summary (AssistanceFact) and the dashboard figures read from it (DOMAIN §10).

The summary is rebuilt per year by a job (after imports, approvals and payouts, and nightly): every one-stop
settlement with assistance, every approved bill and every approved secondary case, summed by month, township,
category, benefit and channel. The dashboard then aggregates a few thousand summary rows in SQL.
"""

import datetime
import math
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from applications.models import Bill, Case, Lead, PolicyVersion, YearlyBurden
from applications.policy.workdays import working_days_between
from recipients.categories import CATEGORY_ORDER
from recipients.models import Identity, Person

from .models import AssistanceFact, Benefit, Channel, FactRefresh, FundEntry

ZERO = Decimal("0")
PRIORITY = {c: i for i, c in enumerate(CATEGORY_ORDER)}
DIRECT = [Channel.ONESTOP, Channel.MANUAL]


class _Versions:
    """Key categories and major-disease codes of the policy in force on a date."""

    def __init__(self):
        self.versions = list(
            PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).order_by("effective_from")
        )

    def on(self, day: datetime.date) -> PolicyVersion | None:
        for v in self.versions:
            if v.effective_from <= day and (v.effective_to is None or v.effective_to >= day):
                return v
        return self.versions[-1] if self.versions else None


def _best_category(windows, day) -> str:
    valid = [c for c, f, t in windows if f <= day and (t is None or t >= day)]
    return min(valid, key=lambda c: PRIORITY.get(c, 99)) if valid else ""


def _major(version, flag: bool, diagnosis: str) -> bool:
    if flag:
        return True
    codes = version.major_disease_codes if version else []
    diagnosis = (diagnosis or "").upper()
    return bool(diagnosis) and any(diagnosis.startswith(str(code).upper()) for code in codes)


def _is_key(versions, day, category) -> bool:
    version = versions.on(day)
    return category in (version.key_categories if version else [])


def _self_pay(in_policy, basic, critical, other) -> Decimal:
    return max(ZERO, in_policy - basic - critical - other)


def refresh_facts(*, year: int, progress=None) -> int:
    """Rebuild the year's summary; returns the number of summary rows."""
    from settlements.models import Settlement

    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    versions = _Versions()
    people = {n: (pk, t) for pk, n, t in Person.objects.values_list("pk", "id_number", "township_id").iterator(5000)}
    windows: dict[int, list] = defaultdict(list)
    for pid, category, f, t in Identity.objects.values_list("person_id", "category", "valid_from", "valid_to").iterator(
        5000
    ):
        windows[pid].append((category, f, t))
    groups: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO])

    def add(day, township, category, benefit, channel, major, amount, self_pay):
        version = versions.on(day)
        key = category in (version.key_categories if version else [])
        g = groups[(day.month, township, category, benefit, channel, key, major)]
        g[0] += 1
        g[1] += amount
        g[2] += self_pay

    onestop = Settlement.objects.filter(onestop__gt=0, service_date__gte=start, service_date__lte=end).values_list(
        "id_number",
        "service_date",
        "visit_type",
        "in_policy",
        "basic",
        "critical",
        "other",
        "onestop",
        "major_disease",
        "diagnosis",
    )
    for n, (id_number, day, visit_type, p, b, c, o, a0, major, diagnosis) in enumerate(onestop.iterator(10000)):
        if progress and n % 100000 == 0:
            progress(f"一站式结算 {n} 条")
        person = people.get(id_number)
        if person is None:
            continue
        pid, township = person
        add(
            day,
            township,
            _best_category(windows[pid], day),
            visit_type,
            Channel.ONESTOP,
            _major(versions.on(day), major, diagnosis),
            a0,
            _self_pay(p, b, c, o),
        )

    # Inpatient stays nobody has assisted (yet) still belong to the key-recipient ratio's denominator; a stay
    # claimed by an approved bill is counted through that bill instead.
    billed = set(
        Bill.objects.filter(case__status__in=[Case.Status.APPROVED, Case.Status.PAID])
        .exclude(settlement_number="")
        .values_list("settlement_number", flat=True)
    )
    unassisted = Settlement.objects.filter(
        onestop=0, visit_type="住院", service_date__gte=start, service_date__lte=end
    ).values_list("number", "id_number", "service_date", "in_policy", "basic", "critical", "other")
    for number, id_number, day, p, b, c, o in unassisted.iterator(10000):
        person = people.get(id_number)
        if person is None or number in billed:
            continue
        pid, township = person
        category = _best_category(windows[pid], day)
        if category:
            g = groups[(day.month, township, category, "住院", Channel.NONE, _is_key(versions, day, category), False)]
            g[2] += _self_pay(p, b, c, o)

    bills = (
        Bill.objects.filter(case__status__in=[Case.Status.APPROVED, Case.Status.PAID], granted__gt=0)
        .exclude(case__source=Case.Source.SECONDARY)
        .filter(
            Q(visit_type="住院", discharged_on__gte=start, discharged_on__lte=end)
            | (~Q(visit_type="住院") & Q(visit_on__gte=start, visit_on__lte=end))
        )
        .values_list(
            "case__person_id",
            "case__township_id",
            "visit_type",
            "discharged_on",
            "visit_on",
            "in_policy",
            "basic",
            "critical",
            "other",
            "granted",
            "major_disease",
            "diagnosis",
        )
    )
    for pid, township, visit_type, discharged, visit, p, b, c, o, granted, major, diagnosis in bills.iterator(5000):
        day = discharged if visit_type == "住院" else visit
        add(
            day,
            township,
            _best_category(windows[pid], day),
            visit_type,
            Channel.MANUAL,
            _major(versions.on(day), major, diagnosis),
            granted,
            _self_pay(p, b, c, o),
        )

    categories = dict(YearlyBurden.objects.filter(year=year).values_list("person_id", "category"))
    secondary = Case.objects.filter(
        source=Case.Source.SECONDARY, status__in=[Case.Status.APPROVED, Case.Status.PAID], year=year
    ).values_list("person_id", "township_id", "decided_at", "approved_amount")
    for pid, township, decided, amount in secondary.iterator(5000):
        day = timezone.localtime(decided).date() if decided else end
        day = min(max(day, start), end) if day.year != year else day
        add(day, township, categories.get(pid, ""), Benefit.SECONDARY, Channel.SECONDARY, False, amount or ZERO, ZERO)

    rows = [
        AssistanceFact(
            year=year,
            month=m,
            township_id=t,
            category=cat,
            benefit=ben,
            channel=ch,
            key=key,
            major=major,
            visits=g[0],
            assisted=g[1],
            self_pay=g[2],
        )
        for (m, t, cat, ben, ch, key, major), g in groups.items()
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two refreshes of one year must not interleave their writes
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports.facts'), %s)", [year])
        AssistanceFact.objects.filter(year=year).delete()
        AssistanceFact.objects.bulk_create(rows, batch_size=2000)
        FactRefresh.objects.update_or_create(year=year, defaults={"refreshed_at": timezone.now(), "rows": len(rows)})
    return len(rows)


# --- the dashboard -------------------------------------------------------------------------------


def _ratio(part, whole):
    return None if not whole else (Decimal(part) / Decimal(whole))


def dashboard(*, year: int, township=None, month_from: int = 1, month_to: int = 12) -> dict:
    """Every figure of the supervisor dashboard for a period of one year and, optionally, one township."""
    facts = AssistanceFact.objects.filter(year=year, month__gte=month_from, month__lte=month_to)
    if township is not None:
        facts = facts.filter(township=township)
    money = lambda f: Coalesce(Sum(f), ZERO)  # noqa: E731
    direct = facts.filter(channel__in=DIRECT)
    totals = direct.aggregate(
        count=Coalesce(Sum("visits"), 0),
        amount=money("assisted"),
        onestop=Coalesce(Sum("visits", filter=Q(channel=Channel.ONESTOP)), 0),
        major=Coalesce(Sum("visits", filter=Q(major=True)), 0),
        key_amount=Coalesce(Sum("assisted", filter=Q(key=True, benefit="住院")), ZERO),
    )
    totals["key_self_pay"] = (
        facts.filter(key=True, benefit="住院")
        .exclude(channel=Channel.SECONDARY)
        .aggregate(total=Coalesce(Sum("self_pay"), ZERO))["total"]
    )
    secondary = facts.filter(channel=Channel.SECONDARY).aggregate(
        count=Coalesce(Sum("visits"), 0), amount=money("assisted")
    )

    def by(field):
        return list(facts.values(field).annotate(count=Sum("visits"), amount=Sum("assisted")).order_by(field))

    version = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).order_by("-effective_from").first()
    key_ratio = _ratio(totals["key_amount"], totals["key_self_pay"])
    major_share = _ratio(totals["major"], totals["count"])
    onestop_rate = _ratio(totals["onestop"], totals["count"])
    kpis = [
        {
            "name": "重点救助对象住院政策范围内自付费用救助比例",
            "value": key_ratio,
            "detail": f"{totals['key_amount']:,.2f} ÷ {totals['key_self_pay']:,.2f}",
            "target": version.key_ratio_target if version else Decimal("0.70"),
        },
        {
            "name": "重特大疾病救助人次占直接救助人次比例",
            "value": major_share,
            "detail": f"{totals['major']} ÷ {totals['count']}",
            "target": version.major_share_target if version else Decimal("0.28"),
        },
        {
            "name": "一站式结算率",
            "value": onestop_rate,
            "detail": f"{totals['onestop']} ÷ {totals['count']}",
            "target": None,
        },
    ]
    for kpi in kpis:
        kpi["met"] = None if kpi["value"] is None or kpi["target"] is None else kpi["value"] >= kpi["target"]
    return {
        "year": year,
        "totals": totals,
        "secondary": secondary,
        "kpis": kpis,
        "by_benefit": by("benefit"),
        "by_category": by("category"),
        "by_township": list(
            facts.values("township__name")
            .annotate(count=Sum("visits"), amount=Sum("assisted"))
            .order_by("township__name")
        ),
        "by_month": by("month"),
        "by_channel": by("channel"),
        "funnel": _funnel(year, township),
        "processing": _processing(year, township, month_from, month_to),
        "fund": _fund(year),
        "refreshed": FactRefresh.objects.filter(year=year).first(),
    }


def _funnel(year, township) -> dict:
    from applications.models import LeadContact

    leads = Lead.objects.filter(year=year)
    if township is not None:
        leads = leads.filter(township=township)
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


def _processing(year, township, month_from, month_to) -> dict:
    """Working days from acceptance to decision: average, nearest-rank 90th percentile and maximum.

    Counted per distinct (accepted, decided) pair of dates, so 100,000 cases cost a few thousand calendar lookups.
    """
    cases = Case.objects.filter(
        decided_at__year=year,
        status__in=[Case.Status.APPROVED, Case.Status.PAID, Case.Status.REJECTED],
        accepted_on__isnull=False,
    ).exclude(source=Case.Source.SECONDARY)
    if township is not None:
        cases = cases.filter(township=township)
    pairs = (
        cases.annotate(decided_on=TruncDate("decided_at"))
        .filter(decided_on__month__gte=month_from, decided_on__month__lte=month_to)
        .values_list("accepted_on", "decided_on")
        .annotate(n=Count("pk"))
    )
    weighted = sorted((working_days_between(accepted, decided), n) for accepted, decided, n in pairs)
    open_cases = Case.objects.all() if township is None else Case.objects.filter(township=township)
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


def _fund(year) -> dict:
    from payouts.models import PayoutLine

    income = {
        row["source"]: row["total"]
        for row in FundEntry.objects.filter(year=year).values("source").annotate(total=Sum("amount"))
    }
    raised = sum(income.values(), ZERO)
    paid_out = PayoutLine.objects.filter(status=PayoutLine.Status.PAID, resolved_at__year=year).aggregate(
        total=Coalesce(Sum("amount"), ZERO)
    )["total"]
    # What hospitals paid one-stop is spent from the same fund (settled with the insurance agency).
    onestop = AssistanceFact.objects.filter(year=year, channel=Channel.ONESTOP).aggregate(
        total=Coalesce(Sum("assisted"), ZERO)
    )["total"]
    spent = paid_out + onestop
    balance = raised - spent
    return {
        "income": [(label, income.get(value, ZERO)) for value, label in FundEntry.Source.choices],
        "raised": raised,
        "spent": spent,
        "paid_out": paid_out,
        "onestop": onestop,
        "balance": balance,
        "ratio": _ratio(balance, raised),
    }
