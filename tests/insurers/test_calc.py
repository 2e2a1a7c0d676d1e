"""The insurer's money rules (茂名 plan §二(五)) as pure functions."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurers.calc import (
    clearing_balance,
    contract_months,
    direction_label,
    due_date,
    parse_period,
    service_fee,
)

D = Decimal
RATE, CAP = D("0.008"), D("100000")


def test_fee_below_the_cap_is_the_rate_of_the_spending():
    fee = service_fee(base=D("3456789.12"), rate=RATE, cap=CAP)
    assert fee.uncapped == D("27654.31")  # 3,456,789.12 × 0.8% = 27,654.31296
    assert fee.amount == D("27654.31") and not fee.capped
    assert "未超过" in fee.explain()


def test_fee_cap_binds_above_12_5_million():
    fee = service_fee(base=D("20000000"), rate=RATE, cap=CAP)
    assert fee.uncapped == D("160000.00")
    assert fee.amount == D("100000.00") and fee.capped
    assert "按上限计" in fee.explain()


def test_fee_exactly_at_the_cap_does_not_bind():
    fee = service_fee(base=D("12500000"), rate=RATE, cap=CAP)
    assert fee.amount == CAP and not fee.capped


def test_fee_without_a_cap():
    assert service_fee(base=D("20000000"), rate=RATE, cap=None).amount == D("160000.00")


def test_clearing_owed_to_the_insurer_and_owed_back():
    # 少补: the year cost more than the two instalments.
    assert clearing_balance(assistance=D("1000000"), fee=D("8000"), instalments=D("950000")) == D("58000.00")
    # 多退: the instalments were more than the year's assistance and fee.
    assert clearing_balance(assistance=D("900000"), fee=D("7200"), instalments=D("950000")) == D("-42800.00")
    assert direction_label(D("1")) == "应拨付承办保险机构"
    assert direction_label(D("-1")) == "承办保险机构应退回"
    assert direction_label(D("0")) == "无需结算"


def test_periods_and_due_dates():
    assert parse_period("2026H1") == (2026, 1)
    assert parse_period(" 2026h2 ") == (2026, 2)
    for bad in ("2026", "2026H3", "H1", ""):
        with pytest.raises(ValueError):
            parse_period(bad)
    assert due_date(2026, 7, 31) == datetime.date(2026, 7, 31)
    assert due_date(2026, 6, 31) == datetime.date(2026, 6, 30)


def test_contract_months_keep_months_overlapping_the_contract():
    months = list(range(1, 7))
    assert contract_months(2026, months, datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)) == months
    assert contract_months(2026, months, datetime.date(2026, 3, 15), datetime.date(2027, 3, 14)) == [3, 4, 5, 6]
    assert contract_months(2026, months, datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)) == []


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(base=money, cap=st.one_of(st.none(), money))
def test_fee_is_never_negative_nor_above_the_cap(base, cap):
    fee = service_fee(base=base, rate=RATE, cap=cap)
    assert fee.amount >= 0
    assert cap is None or fee.amount <= cap
    assert fee.amount <= fee.uncapped
    assert fee.capped == (cap is not None and fee.uncapped > cap)
