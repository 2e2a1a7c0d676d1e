"""Settlement import through the services and the command, on SQLite and PostgreSQL alike."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from imports.services import import_create, import_run
from recipients.demo import to_csv, to_xlsx
from settlements import demo
from settlements.models import Settlement, SettlementImport
from tests.factories import PersonFactory, valid_id_number

pytestmark = pytest.mark.django_db
DAY = datetime.date(2025, 6, 10)


def rows(n=3, *, id_number=None, seed=1):
    rng = random.Random(seed)
    number = id_number or valid_id_number(datetime.date(1970, 1, 2))
    return [demo.settlement_row(rng, f"JS{k:05d}", number, "王秀英", service_date=DAY) for k in range(n)]


def run(content, name="s.csv", user=None):
    """Check and write in one go, as the operator command does (the record keeps only the file's hash)."""
    record = import_create(
        kind="settlement", user=user, file_name=name, content=content, enqueue=False, keep_content=False
    )
    return import_run(record=record, user=user, content=content)


def test_a_clean_file_is_written_and_counted(reviewer):
    record = run(to_csv(rows(3), headers=demo.HEADERS), user=reviewer)
    assert record.status == SettlementImport.Status.DONE
    assert (record.total_rows, record.rows_added, record.rows_updated, record.rows_unchanged) == (3, 3, 0, 0)
    s = Settlement.objects.get(number="JS00000")
    assert s.service_date == DAY and s.last_import == record
    assert s.total == Decimal(rows(3)[0][9])


def test_settlements_of_people_not_in_the_registry_are_kept_and_counted():
    person = PersonFactory()
    registered = ["JSP1", *rows(1, id_number=person.id_number)[0][1:]]
    record = run(to_csv([*rows(2), registered], headers=demo.HEADERS))
    assert record.status == SettlementImport.Status.DONE and record.rows_unregistered == 2
    assert Settlement.objects.count() == 3


def test_importing_the_same_file_again_changes_nothing():
    content = to_csv(rows(4), headers=demo.HEADERS)
    run(content)
    again = run(content)
    assert (again.rows_added, again.rows_updated, again.rows_unchanged) == (0, 0, 4)


def test_changed_values_update_and_are_reported():
    data = rows(3)
    run(to_csv(data, headers=demo.HEADERS))
    data[1][9] = str(Decimal(data[1][9]) + 10)  # 医疗总费用 corrected upwards
    record = run(to_csv(data, headers=demo.HEADERS))
    assert (record.rows_added, record.rows_updated, record.rows_unchanged) == (0, 1, 2)
    assert record.updated_numbers == ["JS00001"]
    assert Settlement.objects.get(number="JS00001").total == Decimal(data[1][9])


def test_a_duplicated_settlement_number_rejects_the_whole_file():
    data = rows(3)
    data[2][0] = data[0][0]
    record = run(to_csv(data, headers=demo.HEADERS))
    assert record.status == SettlementImport.Status.INVALID
    assert not Settlement.objects.exists()
    assert record.errors == [{"row": 4, "column": "结算单号", "value": "JS00000", "reason": "与第 2 行的结算单号重复"}]


def test_every_bad_row_is_reported_and_nothing_is_written():
    data = rows(4)
    data[0][10] = str(Decimal(data[0][9]) + 1)  # P > T
    data[1][1] = data[1][1][:-1] + ("0" if data[1][1][-1] != "0" else "1")  # check digit
    data[2][4] = "急诊"  # not a visit type
    record = run(to_csv(data, headers=demo.HEADERS))
    assert record.status == SettlementImport.Status.INVALID and not Settlement.objects.exists()
    reasons = {(e["row"], e["reason"]) for e in record.errors}
    assert (2, "政策范围内费用不能大于医疗总费用") in reasons
    assert (3, "身份证号校验位错误（可能有数字录错）") in reasons
    assert (4, "就诊类型应为 门诊、门诊慢特病 或 住院") in reasons


def test_a_missing_column_is_named():
    headers = [h for h in demo.HEADERS if h != "政策范围内费用"]
    data = [[c for i, c in enumerate(r) if demo.HEADERS[i] != "政策范围内费用"] for r in rows(1)]
    record = run(to_csv(data, headers=headers))
    assert record.errors[0]["reason"] == "缺少必填列“政策范围内费用”"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(encoding):
    record = run(to_csv(rows(2), headers=demo.HEADERS, encoding=encoding))
    assert record.status == SettlementImport.Status.DONE
    assert Settlement.objects.get(number="JS00000").name == "王秀英"


def test_xlsx_with_date_cells_and_numbers():
    data = rows(2)
    for r in data:
        r[8] = datetime.date.fromisoformat(r[8])  # 结算日期 as a date cell
        r[9] = float(r[9])  # 医疗总费用 as a number cell
    record = run(to_xlsx(data, headers=demo.HEADERS), name="s.xlsx")
    assert record.status == SettlementImport.Status.DONE
    assert Settlement.objects.get(number="JS00001").total == Decimal(str(data[1][9]))


def test_control_characters_are_reported_not_stored():
    data = rows(1)
    data[0][2] = "王\x00秀英"
    record = run(to_csv(data, headers=demo.HEADERS))
    assert record.status == SettlementImport.Status.INVALID
    assert record.errors[0]["column"] == "姓名"


def test_command_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_bytes(to_csv(rows(2), headers=demo.HEADERS))
    call_command("import_settlements", str(path))
    assert "导入完成" in capsys.readouterr().out


def test_command_exits_non_zero_on_a_bad_file(tmp_path, capsys):
    data = rows(2)
    data[1][0] = data[0][0]
    path = tmp_path / "s.csv"
    path.write_bytes(to_csv(data, headers=demo.HEADERS))
    with pytest.raises(CommandError, match="校验未通过"):
        call_command("import_settlements", str(path))
    assert "结算单号重复" in capsys.readouterr().err
    assert not Settlement.objects.exists()


def test_command_refuses_an_unknown_file_type(tmp_path):
    path = tmp_path / "s.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CommandError, match="只接受"):
        call_command("import_settlements", str(path))


@pytest.mark.postgres
def test_a_large_import_has_fresh_statistics_before_it_announces():
    """The cross-check is requested from the announcement and plans its query over the new rows: the
    settlement table's statistics already count them (lib.stats, inside the writing transaction)."""
    from django.db import connection

    from settlements.signals import settlements_applied

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    seen = {}

    def look(sender, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'settlements_settlement'::regclass")
            seen["rows"] = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'settlements_settlement'")
            seen["columns"] = cursor.fetchone()[0]

    settlements_applied.connect(look)
    try:
        record = run(to_csv(rows(3000), headers=demo.HEADERS))
    finally:
        settlements_applied.disconnect(look)
    assert record.status == SettlementImport.Status.DONE
    assert seen["rows"] == 3000 and seen["columns"] > 0
