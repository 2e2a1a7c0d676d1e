"""A roster read a column at a time (recipients.roster_columns) reports and reads exactly what the row-by-row
reference (recipients.roster_rows.check_row) does, on random faulty files."""

import datetime
import random

import pytest

from recipients import roster_columns
from recipients.demo import ROSTER_HEADERS, to_csv
from recipients.roster import validate_roster
from tests.factories import CountyFactory, PersonFactory, TownshipFactory, VillageFactory, valid_id_number

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 6, 30)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def bad_values(rng: random.Random, person_id: str) -> dict[str, list[str]]:
    """Cell values that break one rule each (or are accepted in an unusual form), by column."""
    wrong_digit = person_id[:17] + ("0" if person_id[17] != "0" else "1")
    return {
        "身份证号": [
            "",
            f" {person_id} ",
            full_width(person_id),
            person_id.replace("X", "x"),
            person_id[:15],
            wrong_digit,
            "4.40981199001E+17",
            valid_id_number(datetime.date(2030, 1, 1)),
            valid_id_number(datetime.date(1880, 1, 1)),
            person_id[:6] + "19900230" + person_id[14:],
        ],
        "姓名": ["", "  ", " 王 ", "名" * 51, " " + "名" * 50],
        "救助类别": ["", "低保", "DB", " db ", "未知", "特困供养", "TK", "JD"],
        "认定日期": ["", "2024/3/5", "20240230", "2099-01-01", " 2023-01-01 ", "２０２３-01-01", "abc", "2025-06-30"],
        "退出日期": ["", "2019-01-01", "2024-13-01", "2030-01-01", "2025-07-01"],
        "乡镇（街道）": ["", "石鼓镇", " 石鼓镇 ", "不存在镇", "东岸镇", "外县镇", "同名镇"],
        "村（社区）": ["", "石鼓村", "不存在村", " 石鼓村 ", "东岸村"],
        "联系电话": [
            "",
            "138 1234 5678",
            full_width("13812345678"),
            "abc",
            " 13812345678 ",
            "+86-138-1234",
            "12",
            "138 1234 5678 9012 3456",
            "1 2 3 4 5",
        ],
        "开户银行": ["", " 中国银行 ", "行" * 101, "行" * 100],
        "银行账号": ["", "6228 4800 0012 3456 789", full_width("622848000012"), "12345", "abc", " 622848000012 "],
        "数据来源": ["", "民政", "MZ", "乡村振兴", "未知", " 残联 ", "医保"],
    }


def make_file(rng: random.Random, n_rows: int, mutate: float, odd: bool = True) -> bytes:
    """`odd`: control characters, columns reordered or missing, short and blank rows, now and then."""
    people = [
        (valid_id_number(datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000))), name)
        for name in ("王秀英", "李明", "陈芳", "张伟", "刘洋", "黄丽")
    ]
    rows = []
    for _ in range(n_rows):
        id_number, name = rng.choice(people)
        start = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(1800))
        row = [
            id_number,
            name,
            rng.choice(["DB", "TK", "低保"]),
            start.isoformat(),
            "",
            "石鼓镇",
            rng.choice(["", "石鼓村"]),
            "13812345678",
            "中国农业银行",
            "6228480000123456789",
            rng.choice(["", "民政"]),
        ]
        if rng.random() < mutate:
            bad = bad_values(rng, id_number)
            for _ in range(rng.choice([1, 1, 2, 3])):
                k = rng.randrange(len(ROSTER_HEADERS))
                row[k] = rng.choice(bad[ROSTER_HEADERS[k]])
        rows.append(row)
    if odd and rng.random() < 0.1:  # a control character: the whole file is read row by row
        rng.choice(rows)[rng.randrange(len(ROSTER_HEADERS))] += "\x01"
    headers = list(ROSTER_HEADERS)
    if odd and rng.random() < 0.3:  # columns in another order, optional ones missing, an extra column
        order = list(range(len(headers)))
        rng.shuffle(order)
        order = [k for k in order if k < 6 or rng.random() < 0.6]
        headers = [headers[k] for k in order] + ["备注"]
        rows = [[r[k] for k in order] + ["x"] for r in rows]
    if odd and rng.random() < 0.2:  # short rows and blank rows
        rows = [r[: rng.randrange(4, len(r))] if rng.random() < 0.05 else r for r in rows] + [[""] * len(headers)]
    return to_csv(rows, headers=headers, encoding=rng.choice(["utf-8", "utf-8-sig", "gb18030"]))


def both_ways(content: bytes, monkeypatch, **scope):
    by_columns = validate_roster(content, "名册.csv", default_source="MZ", today=TODAY, **scope)
    with monkeypatch.context() as m:
        m.setattr(roster_columns.ColumnReader, "read", lambda self, batch: [None] * len(batch))
        by_rows = validate_roster(content, "名册.csv", default_source="MZ", today=TODAY, **scope)
    return by_columns, by_rows


@pytest.fixture
def registry(village, other_village):
    other_county = CountyFactory(name="化州市", code="440982")
    TownshipFactory(county=other_county, name="外县镇")
    TownshipFactory(name="同名镇")
    TownshipFactory(county=other_county, name="同名镇")
    VillageFactory(township=other_village.township, name="石鼓村")
    return village.township


@pytest.mark.parametrize("seed", range(60))
def test_the_column_reading_agrees_with_the_rows_reference(registry, monkeypatch, seed):
    rng = random.Random(seed)
    content = make_file(rng, rng.choice([5, 40, 300, 12000]), mutate=rng.choice([0.0, 0.02, 0.3]))
    scope = rng.choice([{}, {"county": registry.county}, {"township": registry}])
    by_columns, by_rows = both_ways(content, monkeypatch, **scope)
    assert by_columns.total_rows == by_rows.total_rows
    assert by_columns.errors == by_rows.errors
    assert by_columns.rows == by_rows.rows


def test_a_registered_person_of_another_county_is_reported_either_way(registry, monkeypatch):
    elsewhere = PersonFactory(township=TownshipFactory(county=CountyFactory(name="化州市", code="440982")))
    row = [elsewhere.id_number, "王秀英", "DB", "2024-01-01", "", "石鼓镇", "", "", "", "", ""]
    by_columns, by_rows = both_ways(to_csv([row]), monkeypatch, county=registry.county)
    assert by_columns.errors == by_rows.errors and len(by_columns.errors) == 1


def test_a_plain_file_is_read_by_columns_only(registry, monkeypatch):
    """The speed of a large roster rests on its plain rows never reaching the row-by-row reference."""
    from recipients import roster

    content = make_file(random.Random(7), 6000, mutate=0.0, odd=False)
    calls = []
    monkeypatch.setattr(roster, "check_row", lambda *args: calls.append(args))
    check = validate_roster(content, "名册.csv", default_source="MZ", today=TODAY)
    assert not calls and check.total_rows == 6000
