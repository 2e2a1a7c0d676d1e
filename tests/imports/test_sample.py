"""The first rows of a file as read are kept with the check and shown before the user confirms."""

import datetime
import random
from decimal import Decimal

import pytest
from django.urls import reverse

from imports.services import import_create, import_validate
from recipients.demo import to_csv
from recipients.models import RosterImport
from recipients.services import roster_import_create
from settlements import demo as settlement_demo
from tests.conftest import client_for
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db
ID = valid_id_number(datetime.date(1956, 3, 8), female=True)
OTHER_ID = valid_id_number(datetime.date(1961, 7, 9), female=False)


def roster_row(name="王秀英", valid_from="2023/1/5", account="6228480000123456789", id_number=ID):
    return [id_number, name, "低保", valid_from, "", "石鼓镇", "石鼓村", "13812345678", "农业银行", account, ""]


def checked_roster(user, rows, encoding="utf-8-sig"):
    record = roster_import_create(
        user=user, file_name="名册.csv", content=to_csv(rows, encoding=encoding), source="MZ", enqueue=False
    )
    return import_validate(kind="roster", pk=record.pk)


def test_the_sample_shows_cells_as_read_with_personal_data_masked(village, reviewer):
    record = checked_roster(
        reviewer, [roster_row(), roster_row(name="李四", valid_from="20240305", id_number=OTHER_ID)]
    )
    assert record.status == RosterImport.Status.VALID
    sample = record.sample
    assert sample["columns"][:6] == ["行号", "身份证号", "姓名", "救助类别", "认定日期", "退出日期"]
    first, second = sample["rows"]
    assert first[0] == 2 and first[2] == "王秀英" and first[3] == "最低生活保障对象（DB）"
    assert first[4] == "2023-01-05" and second[4] == "2024-03-05"  # dates as the check reads them
    assert first[1] == ID[:4] + "*" * 10 + ID[-4:] and ID not in str(sample)
    assert "6228480000123456789" not in str(sample) and "13812345678" not in str(sample)


def test_a_wrongly_encoded_name_is_seen_in_the_sample_before_confirming(client, village, reviewer):
    garbled = "王秀英".encode().decode("gbk", errors="replace")  # a UTF-8 file once opened as GBK and saved
    record = checked_roster(reviewer, [roster_row(name=garbled)])
    assert record.status == RosterImport.Status.VALID
    client_for(client, reviewer)
    page = client.get(reverse("recipients:import_detail", args=[record.pk])).text
    assert 'data-testid="sample"' in page and garbled in page and "乱码" in page
    assert ID not in page


def test_the_sample_is_bounded_to_ten_rows(village, reviewer):
    record = checked_roster(reviewer, [roster_row() for _ in range(30)])
    assert len(record.sample["rows"]) == 10  # (30 equal rows are one identity: the check passes)


def test_a_settlement_file_sample_shows_money_with_separators_and_no_diagnosis(reviewer):
    rng = random.Random(3)
    day = datetime.date(2025, 6, 10)
    rows = [settlement_demo.settlement_row(rng, f"JS{k:05d}", ID, "王秀英", service_date=day) for k in range(3)]
    content = to_csv(rows, headers=settlement_demo.HEADERS)
    record = import_create(kind="settlement", user=reviewer, file_name="s.csv", content=content, enqueue=False)
    record = import_validate(kind="settlement", pk=record.pk)
    columns = record.sample["columns"]
    assert "主要诊断" not in columns and "医疗总费用" in columns
    totals = [row[columns.index("医疗总费用")] for row in record.sample["rows"]]
    expected = [f"{Decimal(str(row[settlement_demo.HEADERS.index('医疗总费用')])):,.2f}" for row in rows]
    assert totals == expected
    assert record.sample["rows"][0][columns.index("结算单号")] == "JS00000"


def test_control_characters_in_a_cell_are_shown_as_a_mark_and_can_be_stored(village, reviewer):
    record = checked_roster(reviewer, [roster_row(name="王\x00秀\x07英")])
    assert record.status == RosterImport.Status.INVALID  # the check reports them
    record.refresh_from_db()  # and the preview was stored (PostgreSQL's JSON refuses NUL)
    assert record.sample["rows"][0][2] == "王\N{REPLACEMENT CHARACTER}秀\N{REPLACEMENT CHARACTER}英"
