"""Reads of the insurer mode: the terms in force, the actual assistance of a period (from the assistance summary,
the same rows the dashboard reads), what was paid on a period, and the insurer's reserve position."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from applications.policy.selectors import policy_in_force
from payouts.models import PayoutLine
from reports.models import AssistanceFact, Benefit, Channel

from .calc import ZERO, contract_months, half_months, service_fee
from .models import FeeBase, InsurerPayment, InsurerStatement, InsurerTerms

REIMBURSED_CHANNELS = [Channel.ONESTOP, Channel.MANUAL]
KIND_LABELS = {"inpatient": "住院救助", "secondary": "二次救助"}


def terms_in_force(*, county_id: int, day: datetime.date) -> InsurerTerms | None:
    """The insurer running assistance in the county on the day: the terms of the policy version in force, when
    enabled and the day is inside the contract period."""
    version = policy_in_force(county_id=county_id, day=day)
    if version is None:
        return None
    terms = InsurerTerms.objects.filter(version=version, enabled=True).first()
    if terms is None or not (terms.contract_start <= day <= terms.contract_end):
        return None
    return terms


def terms_for_period(*, county_id: int, start: datetime.date, end: datetime.date) -> InsurerTerms | None:
    """The terms for a statement of the period: those in force on its last day, else on the latest month end
    inside it that has some (a contract ending within the period), else on its first day."""
    day = end
    while day >= start:
        terms = terms_in_force(county_id=county_id, day=day)
        if terms is not None:
            return terms
        day = day.replace(day=1) - datetime.timedelta(days=1)
    return terms_in_force(county_id=county_id, day=start)


def _facts(*, county_id: int, year: int, months: list[int]):
    return AssistanceFact.objects.filter(year=year, month__in=months or [0], township__county_id=county_id)


def _reimbursed(facts):
    return facts.filter(Q(benefit=Benefit.INPATIENT, channel__in=REIMBURSED_CHANNELS) | Q(channel=Channel.SECONDARY))


def period_figures(*, county_id: int, year: int, months: list[int]) -> dict:
    """The actual inpatient and secondary assistance of the county's recipients in the months (人次, 金额), by
    category and channel, with the totals: what the insurer is reimbursed for (DOMAIN §12.5)."""
    facts = _facts(county_id=county_id, year=year, months=months)
    rows = []
    for row in (
        _reimbursed(facts)
        .values("channel", "category")
        .annotate(visits=Coalesce(Sum("visits"), 0), amount=Coalesce(Sum("assisted"), ZERO))
        .order_by("channel", "category")
    ):
        kind = "secondary" if row["channel"] == Channel.SECONDARY else "inpatient"
        rows.append(
            {
                "kind": kind,
                "category": row["category"],
                "channel": row["channel"],
                "visits": row["visits"],
                "amount": row["amount"],
            }
        )
    inpatient = [r for r in rows if r["kind"] == "inpatient"]
    secondary = [r for r in rows if r["kind"] == "secondary"]
    inpatient_amount = sum((r["amount"] for r in inpatient), ZERO)
    secondary_amount = sum((r["amount"] for r in secondary), ZERO)
    return {
        "months": months,
        "rows": rows,
        "inpatient_visits": sum(r["visits"] for r in inpatient),
        "inpatient_amount": inpatient_amount,
        "secondary_visits": sum(r["visits"] for r in secondary),
        "secondary_amount": secondary_amount,
        "assistance": inpatient_amount + secondary_amount,
    }


def fee_base(*, county_id: int, year: int, months: list[int], base: str) -> Decimal:
    """The year's actual assistance spending the fee is a share of: all direct and secondary assistance (the plan's
    年度实际支出的医疗救助资金总额), or only what the insurer is reimbursed for, as the terms say."""
    facts = _facts(county_id=county_id, year=year, months=months)
    if base == FeeBase.REIMBURSED:
        facts = _reimbursed(facts)
    else:
        facts = facts.filter(channel__in=[*REIMBURSED_CHANNELS, Channel.SECONDARY])
    return facts.aggregate(total=Coalesce(Sum("assisted"), ZERO))["total"]


def year_months(terms: InsurerTerms, year: int, half: int | None = None) -> list[int]:
    months = half_months(half) if half else list(range(1, 13))
    return contract_months(year, months, terms.contract_start, terms.contract_end)


def period_statements(*, county_id: int, kind: str, year: int, half: int | None):
    statements = InsurerStatement.objects.filter(county_id=county_id, kind=kind, year=year)
    return statements.filter(half=half) if half else statements.filter(half__isnull=True)


def net_paid(statements) -> Decimal:
    """Paid to the insurer minus returned by it, on these statements."""
    payments = InsurerPayment.objects.filter(statement__in=statements)
    totals = payments.aggregate(
        to=Coalesce(Sum("amount", filter=Q(direction=InsurerPayment.Direction.TO_INSURER)), ZERO),
        back=Coalesce(Sum("amount", filter=Q(direction=InsurerPayment.Direction.FROM_INSURER)), ZERO),
    )
    return totals["to"] - totals["back"]


def fee_confirmed(statements) -> Decimal:
    return InsurerPayment.objects.filter(statement__in=statements).aggregate(t=Coalesce(Sum("fee"), ZERO))["t"]


def current_statement(*, county_id: int, kind: str, year: int, half: int | None) -> InsurerStatement | None:
    """The latest revision of a period that was not a failure."""
    return (
        period_statements(county_id=county_id, kind=kind, year=year, half=half)
        .exclude(status=InsurerStatement.Status.FAILED)
        .order_by("-revision", "-pk")
        .first()
    )


def reserve_position(*, county_id: int, year: int) -> dict | None:
    """The insurer's settlement reserve for the county and year (DOMAIN §12.5), from the same summary rows as the
    statements: what it advanced (actual inpatient and secondary assistance in the contract months), the fee
    earned, what the county paid it (net of returns), and what is outstanding. None without an insurer."""
    terms = terms_for_period(county_id=county_id, start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31))
    if terms is None:
        return None
    halves = []
    for half in (1, 2):
        months = year_months(terms, year, half)
        figures = period_figures(county_id=county_id, year=year, months=months)
        statements = period_statements(county_id=county_id, kind=InsurerStatement.Kind.HALF, year=year, half=half)
        halves.append(
            {
                "half": half,
                "label": "上半年（1—6 月）" if half == 1 else "下半年（7—12 月）",
                "months": months,
                "visits": figures["inpatient_visits"] + figures["secondary_visits"],
                "advanced": figures["assistance"],
                "paid": net_paid(statements),
                "statement": current_statement(county_id=county_id, kind="half", year=year, half=half),
            }
        )
    months = year_months(terms, year)
    fee = service_fee(
        base=fee_base(county_id=county_id, year=year, months=months, base=terms.fee_base),
        rate=terms.fee_rate,
        cap=terms.fee_cap,
    )
    clearing = period_statements(county_id=county_id, kind=InsurerStatement.Kind.CLEARING, year=year, half=None)
    advanced = sum((h["advanced"] for h in halves), ZERO)
    paid = sum((h["paid"] for h in halves), ZERO) + net_paid(clearing)
    manual = PayoutLine.objects.filter(
        batch__county_id=county_id, batch__payer_name__gt="", status=PayoutLine.Status.PAID, resolved_at__year=year
    ).aggregate(n=Count("pk"), total=Coalesce(Sum("amount"), ZERO))
    return {
        "terms": terms,
        "year": year,
        "halves": halves,
        "advanced": advanced,
        "fee": fee,
        "paid": paid,
        "outstanding": advanced + fee.amount - paid,
        "manual_lines": manual["n"],
        "manual_amount": manual["total"],
        "clearing": current_statement(county_id=county_id, kind="clearing", year=year, half=None),
    }
