"""A file with more bad rows than a report can hold keeps the first ERRORS_KEPT errors in full and counts all of
them by kind: the page, the download and the database row stay small (a million-line report failed to save)."""

import pytest

from imports.services import import_create, import_validate
from lib import errors as error_module
from lib.errors import ErrorReport, bounded, count_kinds
from recipients.demo import to_csv
from settlements.demo import HEADERS
from tests.conftest import client_for


def bad_settlements(n: int) -> bytes:
    """n rows, each with a bad ID and a total below the in-policy amount, plus a duplicated number."""
    rows = []
    for i in range(n):
        rows.append(
            [
                f"JS{i:07d}",
                "123",
                "张三",
                "医院",
                "住院",
                "2025-06-01",
                "2025-06-10",
                "",
                "2025-06-10",
                "100",
                "200",
                "0",
            ]
            + [""] * (len(HEADERS) - 12)
        )
    rows.append(list(rows[0]))
    return to_csv(rows, headers=HEADERS)


def test_bounded_keeps_the_first_errors_and_counts_every_kind():
    errors = [{"row": i, "column": "身份证号", "value": "x", "reason": f"与第 {i} 行重复"} for i in range(12)]
    report = bounded(errors)
    assert isinstance(report, ErrorReport) and report.total == 12
    assert report.kinds == [{"column": "身份证号", "reason": "与第 N 行重复", "count": 12}]
    assert count_kinds([], {("a", "第 3 行"): 2, ("a", "第 4 行"): 1}) == [
        {"column": "a", "reason": "第 N 行", "count": 3}
    ]


@pytest.mark.parametrize("rows", [300])
def test_a_file_with_too_many_errors_keeps_a_bounded_report(monkeypatch, reviewer, rows, transactional_db):
    monkeypatch.setattr(error_module, "ERRORS_KEPT", 100)
    from settlements import sql

    monkeypatch.setattr(sql, "ERRORS_KEPT", 100)
    record = import_create(
        kind="settlement", user=reviewer, file_name="坏.csv", content=bad_settlements(rows), enqueue=False
    )
    record = import_validate(kind="settlement", pk=record.pk)
    assert record.status == record.Status.INVALID
    assert len(record.errors) == 100 and record.error_count >= 2 * rows
    kinds = {(k["column"], k["reason"]): k["count"] for k in record.error_kinds}
    assert kinds[("身份证号", "身份证号应为 N 位，实际为 N 位")] == rows + 1
    assert sum(kinds.values()) == record.error_count
    assert [e["row"] for e in record.errors] == sorted(e["row"] for e in record.errors)


def test_the_page_says_how_many_errors_of_each_kind(client, reviewer, monkeypatch, db):
    monkeypatch.setattr(error_module, "ERRORS_KEPT", 10)
    from settlements import sql

    monkeypatch.setattr(sql, "ERRORS_KEPT", 10)
    record = import_create(
        kind="settlement", user=reviewer, file_name="坏.csv", content=bad_settlements(30), enqueue=False
    )
    record = import_validate(kind="settlement", pk=record.pk)
    client_for(client, reviewer)
    page = client.get(record.get_absolute_url()).text
    assert 'data-testid="error-kinds"' in page and "下表只列出前 10 处" in page
