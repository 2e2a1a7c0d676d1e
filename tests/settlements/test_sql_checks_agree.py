"""The SQL checks of a settlement CSV report exactly what the Python reference reports."""

import datetime
import random

import pytest
from django.db import connection, transaction

from recipients.demo import make_id_number, to_csv
from settlements import checks, demo, sql

TODAY = datetime.date(2025, 6, 30)

# Cell values that break one rule each (or are accepted in an unusual form), by column.
BAD = {
    checks.COL_NUMBER: ["", "  ", "X" * 51, " JS-1 "],
    checks.COL_ID: [
        "",
        "4.40981199001E+17",
        "440981900101123",
        "4409811990010112",
        "44098119900101123Y",
        "440981199013011234",
        "440981209901011239",
        "44098119900101123x",
        "440981199001011230",
    ],
    checks.COL_NAME: ["", "名" * 51],
    checks.COL_HOSPITAL: ["", "院" * 101],
    checks.COL_VISIT_TYPE: ["", "急诊", " 住院 "],
    checks.COL_ADMITTED: ["", "2024/3/5", "20240230", "2024-13-01", "2024年3月5日", "5/3/2024", "2099-01-01"],
    checks.COL_DISCHARGED: ["", "2024.3.6", "2024-03-06 00:00:00", "2024-02-30", "abc"],
    checks.COL_VISIT: ["", "20240301", "2024/02/29", "2023/02/29", "２０２４-03-01"],
    checks.COL_SETTLED: ["", "2024-03-10", "2023-01-01", "2030-01-01", "1800-03-18", "18991231", "2101/1/1"],
    checks.COL_TOTAL: ["", "1,234.50", "-5", "12.345", "abc", "1e3", "9999999999999", "￥100", "1,0,0,0", "1,234,5"],
    checks.COL_IN_POLICY: ["", "99999999", "0", "1.5", "１，２３４.00", "￥1,000", ",100"],
    checks.COL_BASIC: ["", "0", "100000000"],
    checks.COL_CRITICAL: ["", "5", "x"],
    checks.COL_OTHER: ["", "0.1", "-0.01"],
    checks.COL_ONESTOP: ["", "0", "1000000000"],
    checks.COL_REMOTE: ["", "是", "否", "Y"],
    checks.COL_DIAGNOSIS: ["", "J18.9", "诊" * 201],
    checks.COL_MAJOR: ["", "是", "maybe"],
}


def make_file(rng: random.Random, n_rows: int, mutate: float) -> bytes:
    ids = [
        make_id_number(rng, "440981", datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000)))
        for _ in range(5)
    ]
    rows = []
    for _ in range(n_rows):
        row = demo.settlement_row(
            rng,
            f"JS{rng.randrange(n_rows * 2):06d}",
            rng.choice(ids),
            "张三",
            service_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(400)),
        )
        if rng.random() < mutate:
            for _ in range(rng.choice([1, 1, 2, 3])):
                column = rng.choice(demo.HEADERS)
                row[demo.HEADERS.index(column)] = rng.choice(BAD[column])
        rows.append(row)
    headers = list(demo.HEADERS)
    if rng.random() < 0.3:  # columns in another order, an extra column
        order = list(range(len(headers)))
        rng.shuffle(order)
        headers = [headers[k] for k in order] + ["备注"]
        rows = [[r[k] for k in order] + ["x"] for r in rows]
    return to_csv(rows, headers=headers, encoding=rng.choice(["utf-8", "utf-8-sig", "gb18030"]))


def sql_report(content: bytes):
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            source = sql.prepare_csv(content)
            sql.copy_raw(cursor.cursor, source)
            total, errors = sql.check_raw(cursor, source.headers, today=TODAY, padded=source.padded)
            staged = []
            if not errors:
                cursor.execute(f"SELECT row_no, {sql.STAGE_COLUMNS} FROM settle_stage ORDER BY row_no")
                staged = cursor.fetchall()
        transaction.savepoint_rollback(sid)
    return total, errors, staged


def python_report(content: bytes):
    check = checks.validate_settlements(content, "x.csv", today=TODAY)
    staged = [
        (
            r.row_no,
            r.number,
            r.id_number,
            r.name,
            r.hospital,
            r.visit_type,
            r.admitted_on,
            r.discharged_on,
            r.visit_on,
            r.service_date,
            r.settled_on,
            r.total,
            r.in_policy,
            r.basic,
            r.critical,
            r.other,
            r.onestop,
            r.out_of_area,
            r.diagnosis,
            r.major_disease,
        )
        for r in check.rows
    ]
    return check.total_rows, check.errors, staged


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(60))
def test_sql_and_python_checks_agree(seed):
    if connection.vendor != "postgresql":
        pytest.skip("compares the SQL checks with the Python ones: needs PostgreSQL")
    rng = random.Random(seed)
    content = make_file(rng, rng.choice([1, 5, 30]), mutate=rng.choice([0, 0.1, 0.5]))
    py_total, py_errors, py_rows = python_report(content)
    sql_total, sql_errors, sql_rows = sql_report(content)
    assert sql_errors == py_errors
    assert sql_total == py_total
    assert sql_rows == py_rows


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(3))
def test_bounded_reports_agree_when_errors_overflow(seed, monkeypatch):
    """More errors than a report keeps: both paths keep the same first ones and count the same kinds."""
    if connection.vendor != "postgresql":
        pytest.skip("compares the SQL checks with the Python ones: needs PostgreSQL")
    from lib import errors as error_module
    from settlements import sql

    monkeypatch.setattr(error_module, "ERRORS_KEPT", 25)
    monkeypatch.setattr(sql, "ERRORS_KEPT", 25)
    rng = random.Random(1000 + seed)
    content = make_file(rng, 120, mutate=0.5)
    _, py_errors, _ = python_report(content)
    _, sql_errors, _ = sql_report(content)
    py = error_module.bounded(py_errors)
    assert len(py_errors) > 25
    assert list(sql_errors) == list(py) and sql_errors.total == py.total and sql_errors.kinds == py.kinds


# --- the bulk path (settlements/bulk.py): batches checked column by column --------------------------

# Cells that only the row-by-row reference reads right, beside the faulty ones above.
ODD = {
    checks.COL_NUMBER: [" JS-9", "JS\t9", "JS\\9", "JS\x009", "Ｊ9"],
    checks.COL_ID: [" 440981199001011234", "44098119900101123x", "４40981199001011234"],
    checks.COL_NAME: ["\u3000张三", "张\t三", "张 三", "a\x0bb"],
    checks.COL_ADMITTED: ["2024-02-29", "0999-01-01"],
    checks.COL_VISIT: ["2023-02-29", " 2024-03-01"],
    checks.COL_TOTAL: ["1234.50 ", "0001.5", "999999999999.99"],
    checks.COL_DIAGNOSIS: ["J18.9 ", "诊\\断"],
}


def make_plain_file(rng: random.Random, n_rows: int, mutate: float) -> bytes:
    """Like make_file, but written as a platform writes it: cells joined by commas, never quoted (a cell
    holding a comma shifts the row), with LF or CRLF line ends, sometimes blank lines and short rows."""
    ids = [
        make_id_number(rng, "440981", datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000)))
        for _ in range(5)
    ]
    headers = list(demo.HEADERS)
    order = list(range(len(headers)))
    if rng.random() < 0.3:
        rng.shuffle(order)
        order = order[: len(order) - rng.choice([0, 0, 3])]  # optional columns left out, sometimes
    header_names = [headers[k] for k in order] + (["备注"] if rng.random() < 0.3 else [])
    lines = [",".join(header_names)]
    for _ in range(n_rows):
        row = demo.settlement_row(
            rng,
            f"JS{rng.randrange(n_rows * 2):06d}",
            rng.choice(ids),
            "张三",
            service_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(400)),
        )
        if rng.random() < mutate:
            for _ in range(rng.choice([1, 1, 2, 3])):
                column = rng.choice(demo.HEADERS)
                row[demo.HEADERS.index(column)] = rng.choice(BAD[column] + ODD.get(column, []))
        cells = [row[k] for k in order] + (["x"] if len(header_names) > len(order) else [])
        if rng.random() < 0.05:
            cells = cells[: rng.randrange(len(cells))]
        lines.append(",".join(cells))
        if rng.random() < 0.03:
            lines.append(rng.choice(["", ",,,", " "]))
    end = rng.choice(["\n", "\r\n"])
    encoding = rng.choice(["utf-8", "utf-8-sig", "gb18030"])
    return (end.join(lines) + end * rng.choice([0, 1])).encode(encoding, errors="replace")


def bulk_report(content: bytes, *, direct: bool):
    from settlements import bulk

    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            result = bulk.check_and_copy(cursor, content, today=TODAY, import_id=None, direct=direct)
            staged = []
            if not result.errors and result.direct:
                cursor.execute(f"SELECT {sql.STAGE_COLUMNS} FROM settlements_settlement ORDER BY number")
                staged = cursor.fetchall()
            elif not result.errors:
                cursor.execute(f"SELECT row_no, {sql.STAGE_COLUMNS} FROM settle_stage ORDER BY row_no")
                staged = cursor.fetchall()
        transaction.savepoint_rollback(sid)
    return result, staged


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(60))
def test_bulk_and_python_checks_agree(seed):
    if connection.vendor != "postgresql":
        pytest.skip("compares the bulk checks with the Python ones: needs PostgreSQL")
    from settlements import bulk

    rng = random.Random(2000 + seed)
    content = make_plain_file(rng, rng.choice([1, 5, 30]), mutate=rng.choice([0, 0.1, 0.5]))
    py_total, py_errors, py_rows = python_report(content)
    for direct in (False, True):
        try:
            result, rows = bulk_report(content, direct=direct)
        except bulk.NotForBulk as exc:
            assert exc.route == "python"  # never quoted here: only what the reference alone reads
            return
        assert result.errors == py_errors
        assert result.total_rows == py_total
        if result.direct:
            assert rows == sorted((r[1:] for r in py_rows), key=lambda r: r[0])
        else:
            assert rows == py_rows
