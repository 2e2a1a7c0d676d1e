"""Validation of a 救助对象名册 (DATA-FORMATS §1): every bad row is reported, nothing is written.

The result of `validate_roster` is the list of clean rows ready to be applied, or the list of
errors (row, column, value, reason) that the user sees. A roster exported by 民政 or 乡村振兴 under its own headers
(身份证号码, 救助类型 …) is read through the column profile an administrator mapped once (imports.profiles): the
rules are the same, and errors name the file's header beside ours.
"""

import datetime
from collections import Counter
from collections.abc import Callable

from django.db import connection
from django.db.models.expressions import RawSQL

from imports.mapping import DATE, FileColumn, FileColumns, Profile
from lib.collection import collection_paused
from lib.tabular import TableError, column_index, iter_rows, read_table, record_reader

from .idnumber import IdCells
from .models import County, Person, Township, Village
from .roster_columns import BATCH, ColumnReader
from .roster_rows import (
    COL_ACCOUNT,
    COL_BANK,
    COL_CATEGORY,
    COL_FROM,
    COL_ID,
    COL_NAME,
    COL_PHONE,
    COL_SOURCE,
    COL_TO,
    COL_TOWNSHIP,
    COL_VILLAGE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    RosterCheck,
    RosterRow,
    RowContext,
    check_row,
)

__all__ = [  # the format's names, for the import flow and the tests
    "COL_ACCOUNT",
    "COL_BANK",
    "COL_CATEGORY",
    "COL_FROM",
    "COL_ID",
    "COL_NAME",
    "COL_PHONE",
    "COL_SOURCE",
    "COL_TO",
    "COL_TOWNSHIP",
    "COL_VILLAGE",
    "FILE_COLUMNS",
    "REQUIRED_COLUMNS",
    "RosterCheck",
    "RosterRow",
    "clerk_scope_errors",
    "county_scope_errors",
    "validate_roster",
]

# The format's columns for column profiles (imports.mapping).
FILE_COLUMNS = FileColumns(
    label="救助对象名册",
    template_name="名册模板（系统表头）",
    columns=tuple(
        FileColumn(
            name,
            required=name in REQUIRED_COLUMNS,
            kind=DATE if name in (COL_FROM, COL_TO) else "text",
            help={
                COL_CATEGORY: "类别名称或代码，如 低保、特困供养、DB",
                COL_FROM: "如 保障起始日期、认定时间",
                COL_TO: "如 保障终止日期、退出时间；空表示仍有效",
                COL_TOWNSHIP: "名称须与系统中的乡镇（街道）一致",
                COL_SOURCE: "民政、乡村振兴、残联 或 医保；没有这一列时按导入时选择的来源",
            }.get(name, ""),
        )
        for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    ),
)


def validate_roster(
    content: bytes,
    file_name: str,
    *,
    default_source: str,
    township: Township | None = None,
    county: County | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: datetime.date | None = None,
    profile: Profile | None = None,
    writer=None,
) -> RosterCheck:
    """Read and check a roster file. `township` restricts it to one township (a clerk's upload), `county` to one
    county's townships (a county role's upload); without either (a prefecture's upload) each row goes to the
    county of the township it names. `profile` is the column profile the file is read through (None: §1's own
    headers). `writer` (roster_direct.DirectWriter) is handed each batch's checked rows while no row is bad."""
    check = RosterCheck()
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        check.error(None, "", "", str(exc))
        return check
    scope = {"default_source": default_source, "township": township, "county": county, "writer": writer}
    with collection_paused():  # the file's rows and their checked forms, all kept (lib.collection)
        if profile is None:
            return _validate(table, check, **scope, progress=progress, today=today)
        reading = profile.read(table, FILE_COLUMNS)
        _validate(reading.table, check, **scope, progress=progress, today=today)
    check.errors = reading.relabel(check.errors)
    return check


def _validate(table, check: RosterCheck, *, default_source, township, county, progress, today, writer) -> RosterCheck:
    columns, repeated = column_index(table.headers, REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    for name in repeated:
        check.error(1, name, name, f"表头“{name}”出现了不止一次")
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            check.error(1, name, "", f"缺少必填列“{name}”")
    if check.errors:
        return check

    in_scope = Township.objects.all() if county is None else Township.objects.filter(county=county)
    known = list(in_scope)
    townships = {t.name: t for t in known}
    township_names_seen = Counter(t.name for t in known)
    elsewhere = (
        set(Township.objects.exclude(county=county).values_list("name", flat=True)) if county is not None else set()
    )
    villages = {(v.township_id, v.name): v.id for v in Village.objects.all()}
    today = today or datetime.date.today()

    records = list(iter_rows(table, key_index=columns[COL_ID]))
    check.total_rows = len(records)
    if not records:
        check.error(None, "", "", "文件中没有数据行")
        return check

    ctx = RowContext(
        columns=columns,
        townships=townships,
        township_names_seen=township_names_seen,
        elsewhere=elsewhere,
        villages=villages,
        county=county,
        township=township,
        default_source=default_source,
        today=today,
        id_cells=IdCells(today=today),
        controls=table.may_hold_control_characters,
    )
    reader, record = ColumnReader(ctx), record_reader(columns)
    first_seen_key: dict[tuple, int] = {}
    person_seen: dict[str, RosterRow] = {}
    # Written while checked when none of the file's people is stored yet (roster_direct).
    id_at = columns[COL_ID]
    writing = writer is not None and writer.start([cells[id_at] if id_at < len(cells) else "" for _, cells in records])
    written = 0  # of check.rows, handed to the writer

    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        if progress and start:
            progress(start, check.total_rows)
        # The rows whose cells are all plain, read a column at a time; the others (None) cell by cell.
        for (row_no, cells), row in zip(batch, reader.read(batch), strict=True):
            if row is None:
                row = check_row(row_no, record(cells), check, ctx)
                if row is None:
                    continue
            key = row.identity_key
            earlier = first_seen_key.get(key)
            if earlier is not None:
                check.error(row_no, COL_ID, row.id_number, f"与第 {earlier} 行重复（同一身份证号、救助类别和认定日期）")
                continue
            first_seen_key[key] = row_no
            other = person_seen.get(row.id_number)
            if other is not None and not _same_person_fields(other, row, check):
                continue
            person_seen.setdefault(row.id_number, row)
            check.rows.append(row)
        if writing and check.errors:
            writer.stop()
            writing = False
        elif writing:
            writer.take(check.rows[written:])
        written = len(check.rows)

    if progress:
        progress(check.total_rows, check.total_rows)
    # Nobody in a file being written directly is registered anywhere: not in another township or county either.
    if township is not None and check.rows and not writing:
        _check_clerk_scope(check, township)
    elif county is not None and check.rows and not writing:
        check.errors.extend(county_scope_errors(check.rows, county))
    if check.errors:
        check.errors.sort(key=lambda e: e["row"] or 0)
        check.rows = []
    return check


def _same_person_fields(first: RosterRow, row: RosterRow, check: RosterCheck) -> bool:
    """Rows of one person must agree on the person's own fields."""
    ok = True
    for attr, column in (
        ("name", COL_NAME),
        ("township_id", COL_TOWNSHIP),
        ("village_id", COL_VILLAGE),
        ("phone", COL_PHONE),
        ("bank_name", COL_BANK),
        ("bank_account", COL_ACCOUNT),
    ):
        if getattr(first, attr) != getattr(row, attr):
            check.error(
                row.row_no,
                column,
                getattr(row, attr) if attr not in ("township_id", "village_id") else "",
                f"同一身份证号在第 {first.row_no} 行的“{column}”不同，请统一",
            )
            ok = False
    return ok


def _check_clerk_scope(check: RosterCheck, township: Township) -> None:
    check.errors.extend(clerk_scope_errors(check.rows, township))


def county_scope_errors(rows: list[RosterRow], county: County) -> list[dict]:
    """A county may not touch a person registered in another county (checked again before writing)."""
    return _registered_elsewhere(
        rows, {"township__county_id": county.id}, "此人已登记在其他县（区），不能改动，请联系市级管理处理"
    )


def _registered(rows: list[RosterRow], people) -> set[str]:
    """The ID numbers of the rows held by `people` (a queryset of persons). On PostgreSQL one query with the
    numbers as one text split in SQL (an IN list of 100,000 placeholders took seconds to build and send, an
    array parameter a tenth of a second to encode); elsewhere in chunks that SQLite's limit on parameters takes.
    An ID number holds no line break (the check's ID rules)."""
    numbers = sorted({r.id_number for r in rows})
    if connection.vendor == "postgresql":
        listed = RawSQL("SELECT unnest(string_to_array(%s, E'\\n'))", ["\n".join(numbers)])
        return set(people.filter(id_number__in=listed).values_list("id_number", flat=True))
    found = set()
    for start in range(0, len(numbers), 900):
        found.update(people.filter(id_number__in=numbers[start : start + 900]).values_list("id_number", flat=True))
    return found


def clerk_scope_errors(rows: list[RosterRow], township: Township) -> list[dict]:
    """A clerk may not touch a person registered in another township.

    Checked when the file is validated and again, under the import lock, just before writing.
    The message does not say which township: a clerk must not learn where others are registered.
    """
    return _registered_elsewhere(
        rows, {"township_id": township.id}, "此人已登记在其他乡镇，乡镇窗口不能改动，请联系县局处理"
    )


def _registered_elsewhere(rows: list[RosterRow], own: dict, message: str) -> list[dict]:
    """An error on each row whose person is registered outside `own` (a filter on Person)."""
    elsewhere = _registered(rows, Person.objects.exclude(**own))
    report = RosterCheck()
    for row in rows:
        if row.id_number in elsewhere:
            report.error(row.row_no, COL_ID, row.id_number, message)
    return report.errors
