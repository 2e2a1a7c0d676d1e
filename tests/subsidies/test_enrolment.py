"""The enrolment result (参保结果) back from the collecting department: matched by ID and year, all or nothing,
idempotent; unknown IDs and IDs not on the list reported; bad files rejected whole with every bad row."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from imports.services import import_create, import_run
from subsidies.models import Enrolment, EnrolmentImport
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory, valid_id_number

from .helpers import YEAR, built, enrolled, not_enrolled, result_csv, rule_set

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def listed(db):
    """Three on the list: a TK (pays 0), two DB (pay 130); and one registered person with no subsidy."""
    town = TownshipFactory(name="石鼓镇")
    people = []
    for category in ("TK", "DB", "DB"):
        person = PersonFactory(township=town)
        IdentityFactory(person=person, category=category, valid_from=datetime.date(2020, 1, 1))
        people.append(person)
    outside = PersonFactory(township=town)
    IdentityFactory(person=outside, category="ZB", valid_from=datetime.date(2020, 1, 1))
    built(rule_set(town.county))
    return people, outside


def run(content, *, year=YEAR, name="参保结果.csv"):
    record = import_create(
        kind="enrolment", user=None, file_name=name, content=content, options={"year": year}, enqueue=False
    )
    return import_run(record=record, user=None)


def test_result_written(listed):
    (tk, db1, db2), _ = listed
    record = run(result_csv([enrolled(tk, pays="0"), enrolled(db1), not_enrolled(db2)]))
    assert record.status == "done", record.errors
    assert (record.rows_added, record.rows_enrolled, record.rows_not_enrolled) == (3, 2, 1)
    row = Enrolment.objects.get(person=db1, year=YEAR)
    assert (row.status, row.paid_amount, row.paid_on) == ("enrolled", D("130.00"), datetime.date(2025, 12, 20))
    assert Enrolment.objects.get(person=db2).paid_amount is None


def test_same_file_twice_changes_nothing(listed):
    (tk, db1, db2), _ = listed
    content = result_csv([enrolled(tk, pays=""), enrolled(db1), not_enrolled(db2)])
    run(content)
    before = list(Enrolment.objects.order_by("pk").values())
    again = run(content, name="again.csv")
    assert (again.rows_added, again.rows_changed, again.rows_unchanged) == (0, 0, 3)
    assert list(Enrolment.objects.order_by("pk").values()) == before
    changed = run(result_csv([enrolled(db2)]), name="later.csv")
    assert (changed.rows_changed, changed.rows_unchanged) == (1, 0)
    assert Enrolment.objects.get(person=db2).status == "enrolled"


def test_unknown_and_unlisted_ids_are_reported_not_written(listed):
    (tk, *_), outside = listed
    stranger = valid_id_number(datetime.date(1990, 2, 3))
    record = run(result_csv([enrolled(tk, pays="0"), [stranger, "2026", "已参保", "380", ""], enrolled(outside)]))
    assert record.status == "done", record.errors
    assert (record.rows_added, record.rows_unknown, record.rows_not_listed) == (1, 1, 1)
    assert [(u["row"], u["reason"]) for u in record.unmatched] == [
        (3, "身份证号不在救助对象名册中（本县）"),
        (4, "不在 2026 年资助参保名单中"),
    ]
    assert "*" in record.unmatched[0]["id_number"]
    assert not Enrolment.objects.filter(person=outside).exists()


def test_bad_file_rejected_whole_with_every_bad_row(listed):
    (tk, db1, db2), _ = listed
    content = result_csv(
        [
            enrolled(tk, pays="0"),
            enrolled(db1, pays="380"),  # contradicts the list: pays 130
            [db2.id_number, "2025", "已参保", "130", ""],  # another year
            [db2.id_number, "2026", "参保中", "", ""],  # unknown status, and the ID a second time
            ["44098119800517123", "2026", "已参保", "", ""],  # 17 characters
        ]
    )
    record = run(content)
    assert record.status == "invalid"
    found = [(e["row"], e["column"], e["reason"]) for e in record.errors]
    assert found == [
        (3, "缴费金额", "缴费金额与资助名单不符：名单上个人应缴 130.00 元"),
        (4, "参保年度", "参保年度与本次导入的年度（2026 年）不一致"),
        (4, "身份证号", "身份证号在文件中重复（第 4、5 行）"),
        (5, "参保状态", "参保状态应为“已参保”或“未参保”"),
        (5, "身份证号", "身份证号在文件中重复（第 4、5 行）"),
        (6, "身份证号", "身份证号应为 18 位，实际为 17 位"),
    ]
    assert not Enrolment.objects.exists()


def test_not_enrolled_with_a_payment_is_rejected(listed):
    (tk, *_), _ = listed
    record = run(result_csv([[tk.id_number, "2026", "未参保", "30", ""]]))
    assert [e["reason"] for e in record.errors] == ["参保状态为“未参保”，不应有缴费金额"]


def test_an_amount_beyond_the_table_is_an_error_not_a_crash(listed):
    (tk, db1, _), _ = listed
    record = run(result_csv([enrolled(tk, pays="0"), enrolled(db1, pays="1" + "0" * 20)]))
    assert record.status == "invalid"
    assert [(e["row"], e["reason"]) for e in record.errors] == [(3, "缴费金额过大（应小于 1 万亿元）")]
    assert not Enrolment.objects.exists()


def test_missing_column_and_gb18030(listed):
    (tk, *_), _ = listed
    record = run(result_csv([[tk.id_number, "2026"]], headers=("身份证号", "参保年度")))
    assert [e["reason"] for e in record.errors] == ["缺少必填列：参保状态"]
    record = run(result_csv([enrolled(tk, pays="0")], encoding="gb18030"), name="gbk.csv")
    assert record.status == "done", record.errors


def test_xlsx_and_lower_case_x(listed, tmp_path):
    from openpyxl import Workbook

    (tk, db1, _), _ = listed
    book = Workbook()
    sheet = book.active
    sheet.append(["参保状态", "身份证号", "参保年度", "缴费金额", "缴费日期", "备注"])
    sheet.append(["已参保", tk.id_number.lower(), 2026, 0, datetime.date(2025, 12, 1), "x"])
    sheet.append(["已参保", db1.id_number, 2026, 130, None, ""])
    path = tmp_path / "r.xlsx"
    book.save(path)
    record = run(path.read_bytes(), name="r.xlsx")
    assert record.status == "done", record.errors
    assert record.rows_added == 2


def test_command_summary(listed, tmp_path, capsys):
    (tk, db1, db2), _ = listed
    path = tmp_path / "result.csv"
    path.write_bytes(result_csv([enrolled(tk, pays="0"), enrolled(db1), not_enrolled(db2)]))
    call_command("import_enrolment", str(path), "--year", "2026")
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("2026 年参保结果：已参保 2 人，未参保 1 人，资助参保率 66.67%（2 ÷ 3）；新增 3")
    path.write_bytes(result_csv([enrolled(db1, pays="1")]))
    with pytest.raises(CommandError, match="校验未通过：1 处错误"):
        call_command("import_enrolment", str(path), "--year", "2026")
    assert EnrolmentImport.objects.count() == 2


def test_an_id_twice_in_an_otherwise_clean_file_is_rejected(listed):
    # Every row new and listed: the repeat is caught by the result table's key when written, then named.
    (tk, db1, _), _ = listed
    record = run(result_csv([enrolled(tk, pays="0"), enrolled(db1), enrolled(db1)]))
    assert record.status == "invalid"
    assert [(e["row"], e["reason"]) for e in record.errors] == [
        (3, "身份证号在文件中重复（第 3、4 行）"),
        (4, "身份证号在文件中重复（第 3、4 行）"),
    ]
    assert not Enrolment.objects.exists()
    # Once results are stored the write cannot catch it: the file is searched for repeats first.
    run(result_csv([enrolled(tk, pays="0"), enrolled(db1)]))
    again = run(result_csv([enrolled(db1), enrolled(db1)]), name="again.csv")
    assert again.status == "invalid" and len(again.errors) == 2


def _written_otherwise(number: str) -> str:
    """The ID as a collecting department's file may write it: spaces around, full-width digits, lower-case x."""
    wide = "".join(chr(ord(d) + 0xFEE0) if d.isdigit() else d for d in number[:6])
    return f" {wide}{number[6:].lower()} "


def test_csv_ids_written_otherwise_are_matched_and_blank_rows_skipped(listed):
    # The CSV is COPY'd as written (PostgreSQL) and matched on the cell as it is; the rows that match nobody
    # are parsed and, being someone's, matched: written as if the file had them plainly.
    (tk, db1, db2), _ = listed
    rows = [enrolled(tk, pays="0"), ["", "", "", "", ""], enrolled(db1), [" ", "", " ", "", ""], not_enrolled(db2)]
    rows[0][0] = _written_otherwise(tk.id_number)
    rows[4][0] = _written_otherwise(db2.id_number)
    record = run(result_csv(rows))
    assert record.status == "done", record.errors
    assert (record.total_rows, record.rows_added, record.rows_unknown) == (3, 3, 0)
    assert set(Enrolment.objects.values_list("person_id", "status")) == {
        (tk.pk, "enrolled"),
        (db1.pk, "enrolled"),
        (db2.pk, "not_enrolled"),
    }
    again = run(result_csv(rows), name="again.csv")
    assert (again.status, again.rows_unchanged, again.rows_added) == ("done", 3, 0)


def test_the_same_id_written_two_ways_is_a_repeat(listed):
    (tk, db1, _), _ = listed
    twice = enrolled(db1)
    twice[0] = _written_otherwise(db1.id_number)
    record = run(result_csv([enrolled(tk, pays="0"), enrolled(db1), twice]))
    assert record.status == "invalid"
    assert [(e["row"], e["reason"]) for e in record.errors] == [
        (3, "身份证号在文件中重复（第 3、4 行）"),
        (4, "身份证号在文件中重复（第 3、4 行）"),
    ]
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("body", "maybe"),
    [
        (b"a,b\r\n1,2\r\n3,4\r\n", False),
        (b"a,b\r\n1,2\r\n,\r\n3,4\r\n", True),
        (b"a,b\r\n , \r\n1,2\r\n", True),
        (b'a,b\r\n1,2\r\n"",""', True),
        (b"a,b\r\n1,2\r\n\r\n\r\n", False),  # blank lines at the end: no rows (COPY refuses others)
        (b"a,b", False),
    ],
)
def test_the_stage_looks_for_blank_rows_only_where_a_line_may_be_one(body, maybe):
    from subsidies.staging import maybe_blank

    assert maybe_blank(body) is maybe


def test_control_characters_are_row_errors_on_every_path(listed):
    (tk, db1, _), _ = listed
    content = result_csv([enrolled(tk, pays="0"), [db1.id_number, "2026", "已参保", "130", "2025-12-20\x01"]])
    record = run(content)  # PostgreSQL: not COPY'd, read row by row
    assert record.status == "invalid"
    assert [(e["row"], e["column"], e["reason"]) for e in record.errors] == [
        (3, "缴费日期", "含有不可见的控制字符，请删除后重新录入")
    ]
    record = run(result_csv([[tk.id_number + "\x00", "2026", "已参保", "0", ""]]), name="nul.csv")
    assert record.status == "invalid" and record.errors[0]["column"] == "身份证号"
    assert "控制字符" in record.errors[0]["reason"]
    assert not Enrolment.objects.exists()
