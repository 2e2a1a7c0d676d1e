import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from recipients.idnumber import IdNumberError, mask_bank_account, mask_id_number, mask_phone, parse_id_number


def make(region: str, birth: datetime.date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_known_valid_id_with_x_check_digit():
    info = parse_id_number("11010519491231002x")
    assert info.number == "11010519491231002X"
    assert info.birth_date == datetime.date(1949, 12, 31)
    assert info.sex == "F"  # 17th digit 2 is even


def test_sex_follows_the_seventeenth_digit():
    assert parse_id_number(make("440981", datetime.date(1990, 1, 1), 13)).sex == "M"
    assert parse_id_number(make("440981", datetime.date(1990, 1, 1), 12)).sex == "F"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "为空"),
        ("11010519491231002", "应为 18 位"),
        ("110105194912310021", "校验位错误"),
        ("110105194902300020", "不是有效日期"),
        ("1.10105194912E+17", "科学计数法"),
        ("110105491231002", "15 位旧身份证号"),
        ("11010519491231002Y", "只能由数字组成"),
    ],
)
def test_invalid_ids_are_explained(value, message):
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(value)


def test_birth_date_in_the_future_is_rejected():
    with pytest.raises(IdNumberError, match="不合理"):
        parse_id_number(make("440981", datetime.date(2030, 1, 1), 1), today=datetime.date(2026, 1, 1))


@given(
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2025, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_generated_ids_round_trip(birth, seq):
    number = make("440981", birth, seq)
    info = parse_id_number(number, today=datetime.date(2026, 1, 1))
    assert info.number == number and info.birth_date == birth


@given(
    seq=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=14, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_typo_in_the_sequence_fails_the_check(seq, position, delta):
    number = make("440981", datetime.date(1970, 6, 15), seq)
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(IdNumberError, match="校验位"):
        parse_id_number(typo)


def test_masks():
    assert mask_id_number("44098119900101123X") == "4409**********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0668-6612345") == "********2345"
    assert mask_bank_account("6228480000123456789") == "6228***********6789"
    assert mask_bank_account("") == ""
