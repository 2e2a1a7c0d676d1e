"""lib.capitals: amounts in Chinese capitals (大写金额) as bank files and vouchers print them."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.capitals import DIGITS, amount_in_words

D = Decimal


@pytest.mark.parametrize(
    "amount,words",
    [
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("100", "壹佰元整"),
        ("0.05", "伍分"),
        ("1001", "壹仟零壹元整"),
        ("40500", "肆万零伍佰元整"),
        ("20.07", "贰拾元零柒分"),
        ("100000000", "壹亿元整"),
        ("1010101.01", "壹佰零壹万零壹佰零壹元零壹分"),
        ("0", "零元整"),
        ("1000000.10", "壹佰万元壹角"),
        ("100010000", "壹亿零壹万元整"),
    ],
)
def test_amounts_in_chinese_capitals(amount, words):
    assert amount_in_words(D(amount)) == words


def test_a_negative_amount_is_read_with_a_minus_word():
    assert amount_in_words(D("-12.50")) == "负壹拾贰元伍角"


def test_an_amount_is_rounded_half_up_to_the_cent_first():
    assert amount_in_words(D("0.125")) == "壹角叁分"


SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _group(text: str) -> int:
    """壹仟零壹 → 1001 (zeros are only read, never counted)."""
    value, digit = 0, 0
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in SMALL:
            value, digit = value + digit * SMALL[ch], 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    return value + digit


def _integer(text: str) -> int:
    value = 0
    for unit, scale in (("亿", 10**8), ("万", 10**4)):
        if unit in text:
            high, text = text.split(unit, 1)
            value += _group(high) * scale
    return value + _group(text)


def words_to_amount(words: str) -> Decimal:
    """The amount a bank clerk reads from the words: the inverse of amount_in_words for the bank's range."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负").removesuffix("整")
    yuan, _, rest = words.rpartition("元") if "元" in words else ("", "", words)
    jiao = DIGITS.index(rest[rest.index("角") - 1]) if "角" in rest else 0
    fen = DIGITS.index(rest[rest.index("分") - 1]) if "分" in rest else 0
    return sign * (Decimal(_integer(yuan)) + Decimal(jiao) / 10 + Decimal(fen) / 100)


# Money columns hold up to 12 digits of yuan (max_digits=14, decimal_places=2).
BANK_AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("999999999999.99"), places=2)


@given(amount=BANK_AMOUNTS)
def test_the_words_read_back_as_the_amount(amount):
    assert words_to_amount(amount_in_words(amount)) == amount


@given(amount=BANK_AMOUNTS)
def test_zeros_are_read_once_and_never_at_the_edges(amount):
    words = amount_in_words(amount)
    assert "零零" not in words
    assert not words.startswith("零")
    for unit in "元万亿角分整":
        assert "零" + unit not in words


@given(amount=BANK_AMOUNTS)
def test_whole_yuan_and_only_whole_yuan_end_in_zheng(amount):
    assert amount_in_words(amount).endswith("整") == (amount == amount.to_integral_value())
