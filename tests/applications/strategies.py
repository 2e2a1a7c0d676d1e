"""Hypothesis strategies for the money of a settlement or bill (DOMAIN §4), in whole cents."""

import datetime
from decimal import Decimal

from hypothesis import strategies as st

VISIT_TYPES = ("门诊", "门诊慢特病", "住院")


def yuan(cents: int) -> Decimal:
    return Decimal(cents) / 100


@st.composite
def money(draw, *, max_thousands: int = 80, onestop: bool = False) -> dict:
    """T, P, B, C, O (and A0 > 0 with `onestop`) that a settlement may hold: P ≤ T, B + C + O + A0 ≤ T.

    P is drawn as thousands of yuan plus the rest, so that stays of every size up to `max_thousands` thousand
    come up (drawn whole, hypothesis favours small numbers, and caps would hardly ever be reached)."""
    in_policy = draw(st.integers(0, max_thousands)) * 100_000 + draw(st.integers(0, 99_999))
    insured = in_policy * draw(st.integers(0, 100)) // 100  # the share insurance paid
    basic = draw(st.integers(0, insured))
    critical = draw(st.integers(0, insured - basic))
    other = insured - basic - critical
    outside = draw(st.integers(1 if onestop else 0, 2_000_000))  # out-of-policy cost
    total = in_policy + outside
    fields = {"total": total, "in_policy": in_policy, "basic": basic, "critical": critical, "other": other}
    if onestop:
        fields["onestop"] = draw(st.integers(1, total - basic - critical - other))
    return {name: yuan(cents) for name, cents in fields.items()}


def day_in(month: int, day: int = 20) -> datetime.date:
    """A service date in 2025, one month per bill or settlement so that stays never overlap."""
    return datetime.date(2025, month, day)
