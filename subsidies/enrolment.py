"""Checking and writing an enrolment result (参保结果, DATA-FORMATS §9): 身份证号, 参保年度, 参保状态 (已参保 /
未参保), 缴费金额, 缴费日期, matched by ID and year against the year's 资助参保名单. The same SQL on PostgreSQL and
SQLite, over the staged file (subsidies.staging).

All or nothing: a bad cell, an ID twice in the file, a year other than the import's, a status other than 已参保 /
未参保, or an amount that contradicts the list (an enrolled person's 缴费金额 other than their 个人应缴, a payment for
someone 未参保) rejects the file with every bad row. IDs not in the registry and people not on the year's list are
reported and skipped. Importing the same file again changes nothing.

Each distinct value of the year, status, amount and date columns is parsed once in Python (lib.tabular's cell
rules, so messages are those of every import) into a small map table the statements join."""

import datetime
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lib.stats import hash_joins
from lib.tabular import CONTROL_MESSAGE, CellError, cell_date, cell_money
from recipients.idnumber import IdNumberError, mask_id_number, parse_id_number

from .models import Enrolment, EnrolmentStatus, SubsidyEntry
from .staging import COL_AMOUNT, COL_DATE, COL_ID, COL_STATUS, COL_YEAR, STAGE, Staged, StageError, stage_file

MAP = "enrolment_map"
ENTRY = SubsidyEntry._meta.db_table
RESULT = Enrolment._meta.db_table
STATUS_NAMES = {s.label: s.value for s in EnrolmentStatus}
UNMATCHED_KEPT = 500
AMOUNT_LIMIT = Decimal(10) ** 12  # the result table's numeric(14, 2)
COLUMN_OF = {"year": COL_YEAR, "status": COL_STATUS, "amount": COL_AMOUNT, "paid_on": COL_DATE}


@dataclass
class Outcome:
    total_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    enrolled: int = 0
    not_enrolled: int = 0
    unknown: int = 0
    not_listed: int = 0
    unmatched: list[dict] = field(default_factory=list)  # rows skipped: not in the registry, not on the list
    path: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went, step by step

    @property
    def ok(self) -> bool:
        return not self.errors


def error(row, column: str, value, reason: str) -> dict:
    shown = "" if value is None else str(value)
    if column == COL_ID and shown:
        shown = mask_id_number(shown.strip().upper())  # the report is seen by everyone who sees the import
    return {"row": row, "column": column, "value": shown[:100], "reason": reason}


def _parse(role: str, raw: str, *, year: int, today: datetime.date):
    """(value, cents, reason) of one distinct cell value of a column."""
    text = raw.strip()
    if role == "year":
        digits = text.removesuffix("年").removesuffix(".0")
        if not text:
            return None, None, "参保年度为空"
        if not (digits.isascii() and digits.isdigit() and len(digits) == 4):
            return None, None, "参保年度应为四位年份，如 2026"
        if int(digits) != year:
            return None, None, f"参保年度与本次导入的年度（{year} 年）不一致"
        return digits, None, None
    if role == "status":
        if not text:
            return None, None, "参保状态为空"
        code = STATUS_NAMES.get(text)
        return (code, None, None) if code else (None, None, "参保状态应为“已参保”或“未参保”")
    try:
        if role == "amount":
            amount = cell_money(text)
            if amount is not None and amount < 0:
                return None, None, "缴费金额不能为负数"
            if amount is not None and amount >= AMOUNT_LIMIT:
                return None, None, "缴费金额过大（应小于 1 万亿元）"
            return (None, None, None) if amount is None else (str(amount), int(amount * 100), None)
        day = cell_date(text)
    except CellError as exc:
        return None, None, str(exc)
    if day is not None and day > today:
        return None, None, "缴费日期晚于今天"
    return (day.isoformat() if day else None), None, None


def _typed(role: str, value: str | None) -> tuple[Decimal | None, datetime.date | None]:
    """The map's typed columns of a parsed value: the amount, the date."""
    if value is None:
        return None, None
    if role == "amount":
        return Decimal(value), None
    return None, (datetime.date.fromisoformat(value) if role == "paid_on" else None)


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if connection.vendor == "postgresql" else f"{a} IS NOT {b}"


class _Check:
    def __init__(self, cursor, staged: Staged, *, year: int, county_id: int | None, today: datetime.date):
        self.cursor, self.staged, self.year, self.county_id, self.today = cursor, staged, year, county_id, today
        self.outcome = Outcome(total_rows=staged.rows, path=staged.path)
        self.present = [role for role in COLUMN_OF if staged.columns.get(role)]

    # --- the map of distinct values -------------------------------------------------------------------------

    def map_values(self) -> None:
        c, s = self.cursor, self.staged
        c.execute(f"DROP TABLE IF EXISTS {MAP}")
        c.execute(
            f"CREATE TEMP TABLE {MAP} (col varchar(8), raw text, value text, cents bigint, reason text, "
            "amount numeric(14, 2), day date, PRIMARY KEY (col, raw))"
        )
        c.execute(self._distinct_values_sql())
        found = c.fetchall()
        rows = [(role, raw, *_parse(role, raw, year=self.year, today=self.today)) for role, raw, _ in found]
        self.statuses = {}  # rows per status, for a write that needs no count (write_new)
        for (role, _, n), (_, _, value, _, _) in zip(found, rows, strict=True):
            if role == "status" and value:
                self.statuses[value] = self.statuses.get(value, 0) + n
        c.executemany(
            f"INSERT INTO {MAP} (col, raw, value, cents, reason, amount, day) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(*row, *_typed(row[0], row[2])) for row in rows],
        )
        for role in {r[0] for r in rows if r[4]}:
            c.execute(
                f"SELECT {s.row}, {s.expr(role)}, m.reason FROM {STAGE} s JOIN {MAP} m "
                f"ON m.col = %s AND m.raw = {s.expr(role)} WHERE m.reason IS NOT NULL ORDER BY s.n",
                [role],
            )
            self.outcome.errors += [error(row, COLUMN_OF[role], raw, reason) for row, raw, reason in c.fetchall()]

    def _distinct_values_sql(self) -> str:
        """(role, raw, rows) of each distinct value of each present column: one pass over the stage on PostgreSQL
        (grouping sets), a pass per column elsewhere."""
        s = self.staged
        if connection.vendor != "postgresql":
            return " UNION ALL ".join(
                f"SELECT '{role}', {s.expr(role)}, COUNT(*) FROM {STAGE} s GROUP BY 2" for role in self.present
            )
        cells = ", ".join(f"{s.expr(role)} AS {role}" for role in self.present)
        which = " ".join(f"WHEN GROUPING({role}) = 0 THEN '{role}'" for role in self.present)
        return (
            f"SELECT CASE {which} END, COALESCE({', '.join(self.present)}), COUNT(*) "
            f"FROM (SELECT {cells} FROM {STAGE} s) x GROUP BY GROUPING SETS ({', '.join(f'({r})' for r in self.present)})"
        )

    # --- the joined rows --------------------------------------------------------------------------------------

    def joins(self, *, results: bool) -> str:
        s = self.staged
        county = (
            f" AND e.township_id IN (SELECT id FROM recipients_township WHERE county_id = {int(self.county_id)})"
            if self.county_id
            else ""
        )
        # The cell as written: an ID written otherwise (lower-case x, spaces, full-width digits) matches nobody
        # here, and unknown_ids puts the number it is into the stage (a normalising expression on every row costs
        # as much as the rest of the match).
        sql = [
            f"LEFT JOIN recipients_person p ON p.id_number = s.{s.columns['id']}",
            f"LEFT JOIN {ENTRY} e ON e.person_id = p.id AND e.year = {int(self.year)}{county}",
            f"LEFT JOIN {MAP} ms ON ms.col = 'status' AND ms.raw = {s.expr('status')}",
        ]
        for role, alias in (("amount", "ma"), ("paid_on", "md")):
            if role in self.present:
                sql.append(f"LEFT JOIN {MAP} {alias} ON {alias}.col = '{role}' AND {alias}.raw = {s.expr(role)}")
        if results:
            sql.append(f"LEFT JOIN {RESULT} r ON r.person_id = p.id AND r.year = {int(self.year)}")
        return " ".join(sql)

    def value(self, alias: str, what: str = "value") -> str:
        role = {"ma": "amount", "md": "paid_on"}[alias]
        return f"{alias}.{what}" if role in self.present else "NULL"

    def mismatch(self) -> str:
        cents, paid_on = self.value("ma", "cents"), self.value("md")
        return (
            f"(ms.value = 'enrolled' AND {cents} IS NOT NULL AND {cents} <> ROUND(e.person_pays * 100)) "
            f"OR (ms.value = 'not_enrolled' AND (({cents} IS NOT NULL AND {cents} <> 0) OR {paid_on} IS NOT NULL))"
        )

    def new_values(self) -> tuple[str, str, str]:
        if connection.vendor == "postgresql":  # typed in the map: nothing to cast row by row
            return "ms.value", self.value("ma", "amount"), self.value("md", "day")
        return "ms.value", f"CAST({self.value('ma')} AS numeric(14, 2))", self.value("md")

    def count(self) -> dict:
        status, amount, paid_on = self.new_values()
        differs = " OR ".join(
            [_distinct("r.status", status), _distinct("r.paid_amount", amount), _distinct("r.paid_on", paid_on)]
        )
        self.cursor.execute(
            f"""SELECT
                  COALESCE(SUM(CASE WHEN p.id IS NULL THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN p.id IS NOT NULL AND e.id IS NULL THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND ({self.mismatch()}) THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND r.id IS NULL THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND r.id IS NOT NULL AND ({differs}) THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND ms.value = 'enrolled' THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND ms.value = 'not_enrolled' THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN e.id IS NOT NULL THEN 1 ELSE 0 END), 0)
                FROM {STAGE} s {self.joins(results=True)}"""
        )
        names = ("unknown", "not_listed", "mismatched", "added", "changed", "enrolled", "not_enrolled", "listed")
        return dict(zip(names, self.cursor.fetchone(), strict=True))

    # --- IDs ----------------------------------------------------------------------------------------------

    def unknown_ids(self) -> bool:
        """Rows whose ID matches nobody: a bad ID is an error; a good one written differently (lower-case x, spaces,
        full-width digits) that is someone's is corrected in the stage (then True: count again); others are reported."""
        c, s = self.cursor, self.staged
        c.execute(
            f"SELECT {s.row}, s.n, {s.expr('id')} FROM {STAGE} s {self.joins(results=False)} "
            "WHERE p.id IS NULL ORDER BY s.n"
        )
        found, rewritten = [], []
        for row, n, raw in c.fetchall():
            try:
                number = parse_id_number(raw, today=self.today).number
            except IdNumberError as exc:
                self.outcome.errors.append(error(row, COL_ID, raw, str(exc)))
                continue
            found.append((row, n, number))
        known = set()
        numbers = sorted({number for *_, number in found})
        for start in range(0, len(numbers), 900):
            chunk = numbers[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            c.execute(f"SELECT id_number FROM recipients_person WHERE id_number IN ({marks})", chunk)
            known.update(number for (number,) in c.fetchall())
        for row, n, number in found:
            if number in known:
                rewritten.append((number, n))
            else:
                self.outcome.unknown += 1
                self._unmatched(row, number, "身份证号不在救助对象名册中" + ("（本县）" if self.county_id else ""))
        if rewritten:
            self._rewrite(rewritten)
        return bool(rewritten)

    def _rewrite(self, rewritten: list[tuple[str, int]]) -> None:
        """Put each (number, stage row) into the stage's ID cell: one statement on PostgreSQL."""
        c, column = self.cursor, self.staged.columns["id"]
        if connection.vendor != "postgresql":
            c.executemany(f"UPDATE {STAGE} SET {column} = %s WHERE n = %s", rewritten)
            return
        c.execute(
            f"UPDATE {STAGE} SET {column} = v.number FROM UNNEST(%s::text[], %s::bigint[]) AS v(number, n) "
            f"WHERE {STAGE}.n = v.n",
            [[number for number, _ in rewritten], [n for _, n in rewritten]],
        )

    def duplicates(self) -> None:
        c, s = self.cursor, self.staged
        key = f"UPPER(TRIM({s.expr('id')}))"
        c.execute(
            f"SELECT {s.row}, {key} FROM {STAGE} s WHERE {key} IN "
            f"(SELECT {key} FROM {STAGE} s WHERE {key} <> '' GROUP BY {key} HAVING COUNT(*) > 1) ORDER BY s.n"
        )
        rows: dict[str, list[int]] = {}
        for row, number in c.fetchall():
            rows.setdefault(number, []).append(row)
        for number, where in rows.items():
            listed = "、".join(str(r) for r in where[:10]) + ("…" if len(where) > 10 else "")
            for row in where:
                self.outcome.errors.append(error(row, COL_ID, number, f"身份证号在文件中重复（第 {listed} 行）"))

    def not_listed(self) -> None:
        c, s = self.cursor, self.staged
        c.execute(
            f"SELECT {s.row}, p.id_number FROM {STAGE} s {self.joins(results=False)} "
            f"WHERE p.id IS NOT NULL AND e.id IS NULL ORDER BY s.n"
        )
        for row, number in c.fetchall():
            self._unmatched(row, number, f"不在 {self.year} 年资助参保名单中")

    def mismatched(self) -> None:
        c, s = self.cursor, self.staged
        c.execute(
            f"SELECT {s.row}, ms.value, {self.value('ma')}, {self.value('md')}, e.person_pays "
            f"FROM {STAGE} s {self.joins(results=False)} WHERE e.id IS NOT NULL AND ({self.mismatch()}) ORDER BY s.n"
        )
        for row, status, amount, paid_on, person_pays in c.fetchall():
            if status == EnrolmentStatus.ENROLLED:
                due = Decimal(str(person_pays)).quantize(Decimal("0.01"))
                self.outcome.errors.append(
                    error(row, COL_AMOUNT, amount, f"缴费金额与资助名单不符：名单上个人应缴 {due:,.2f} 元")
                )
            elif amount is not None and Decimal(amount) != 0:
                self.outcome.errors.append(error(row, COL_AMOUNT, amount, "参保状态为“未参保”，不应有缴费金额"))
            else:
                self.outcome.errors.append(error(row, COL_DATE, paid_on, "参保状态为“未参保”，不应有缴费日期"))

    def _unmatched(self, row, number: str, reason: str) -> None:
        if len(self.outcome.unmatched) < UNMATCHED_KEPT:
            self.outcome.unmatched.append({"row": row, "id_number": mask_id_number(number), "reason": reason})

    # --- the write ------------------------------------------------------------------------------------------

    def write_new(self, import_id: int | None, now: datetime.datetime) -> int:
        """Insert the rows of listed people without a stored result whose amount agrees with the list; how many.
        When that is every row of the file, nothing else is left to check or count (see _run)."""
        status, amount, paid_on = self.new_values()
        self.cursor.execute(f"SELECT 1 FROM {RESULT} WHERE year = %s LIMIT 1", [self.year])
        stored = self.cursor.fetchone() is not None  # none yet for the year: no need to look for them row by row
        self.cursor.execute(
            f"""INSERT INTO {RESULT} (person_id, year, status, paid_amount, paid_on, last_import_id, updated_at)
                SELECT p.id, {int(self.year)}, {status}, {amount}, {paid_on}, %s, %s
                FROM {STAGE} s {self.joins(results=stored)}
                WHERE e.id IS NOT NULL {"AND r.id IS NULL" if stored else ""}
                  AND NOT COALESCE(({self.mismatch()}), FALSE)""",
            [import_id, connection.ops.adapt_datetimefield_value(now)],
        )
        return self.cursor.rowcount

    def write(self, import_id: int | None, now: datetime.datetime, *, changed: bool, added: bool) -> int:
        """Update the stored results that changed, insert the new ones (a plain INSERT: the result table's key
        catches an ID the file repeats); returns how many rows were written."""
        status, amount, paid_on = self.new_values()
        joins = self.joins(results=True)
        stamp = connection.ops.adapt_datetimefield_value(now)
        written = 0
        if changed:
            differs = " OR ".join(_distinct(f"{RESULT}.{c}", f"src.{c}") for c in ("status", "paid_amount", "paid_on"))
            self.cursor.execute(
                f"""UPDATE {RESULT} SET status = src.status, paid_amount = src.paid_amount, paid_on = src.paid_on,
                        last_import_id = %s, updated_at = %s
                    FROM (SELECT p.id AS person_id, {status} AS status, {amount} AS paid_amount, {paid_on} AS paid_on
                          FROM {STAGE} s {joins} WHERE e.id IS NOT NULL AND r.id IS NOT NULL) src
                    WHERE {RESULT}.person_id = src.person_id AND {RESULT}.year = {int(self.year)} AND ({differs})""",
                [import_id, stamp],
            )
            written += self.cursor.rowcount
        if added:
            self.cursor.execute(
                f"""INSERT INTO {RESULT} (person_id, year, status, paid_amount, paid_on, last_import_id, updated_at)
                    SELECT p.id, {int(self.year)}, {status}, {amount}, {paid_on}, %s, %s
                    FROM {STAGE} s {joins} WHERE e.id IS NOT NULL AND r.id IS NULL""",
                [import_id, stamp],
            )
            written += self.cursor.rowcount
        return written


def enrolment_file(
    content: bytes,
    file_name: str,
    *,
    year: int,
    county_id: int | None,
    import_id: int | None,
    write: bool,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Outcome:
    """Check the whole file and, when it is clean and `write`, write it (see the module). Inside the caller's
    transaction; the temporary tables it makes are dropped."""
    today = today or timezone.localdate()
    started = time.perf_counter()
    try:
        staged = stage_file(content, file_name)
    except StageError as exc:
        return Outcome(errors=[error(None, "", "", str(exc))])
    staged_in = time.perf_counter() - started
    with connection.cursor() as cursor:
        # Every statement joins the whole file to the year's list: hash joins, whatever statistics that lag behind
        # the list just built say (they called it tiny, and the planner looked each entry's person up by index).
        try:
            with hash_joins(cursor):
                outcome = _run(
                    cursor,
                    staged,
                    year=year,
                    county_id=county_id,
                    import_id=import_id,
                    write=write,
                    today=today,
                    now=now or timezone.now(),
                )
            outcome.seconds = {"stage": round(staged_in, 3), **outcome.seconds}
            return outcome
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {MAP}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


def _new_results_only(check: _Check, import_id, now) -> bool:
    """The common case of a year's first result: every row is a listed person's new result, agreeing with the
    list. One INSERT in a savepoint writes them; when it wrote every row of the file there is nothing to report
    (an unknown, unlisted or mismatched row would have been left out, a repeated ID refused by the key) and the
    counts are the file's. Otherwise it is rolled back and the file takes the full path."""
    outcome = check.outcome
    try:
        with transaction.atomic():
            written = check.write_new(import_id, now)
            if written != check.staged.rows:
                raise _NotAllNew
    except (_NotAllNew, IntegrityError):
        return False
    outcome.added = written
    outcome.enrolled = check.statuses.get(EnrolmentStatus.ENROLLED, 0)
    outcome.not_enrolled = check.statuses.get(EnrolmentStatus.NOT_ENROLLED, 0)
    outcome.path += ", new results only"
    return True


class _NotAllNew(Exception):
    """Rolls back the savepoint of a write that left some rows out."""


class _Clock:
    def __init__(self, into: dict):
        self.into, self.last = into, time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.into[step] = round(now - self.last, 3)
        self.last = now


def _run(cursor, staged: Staged, *, year, county_id, import_id, write, today, now) -> Outcome:
    check = _Check(cursor, staged, year=year, county_id=county_id, today=today)
    outcome = check.outcome
    if not staged.rows:
        outcome.errors.append(error(None, "", "", "文件中没有数据行"))
        return outcome
    clock = _Clock(outcome.seconds)
    outcome.errors += [error(row, column, "", CONTROL_MESSAGE) for row, column in staged.controls]
    check.map_values()
    clock("map")
    if write and not outcome.errors and _new_results_only(check, import_id, now):
        clock("write")
        return outcome
    counts = check.count()
    if counts["unknown"] and check.unknown_ids():
        counts = check.count()  # IDs written differently were someone's: matched now
    clock("count")
    # A file of new results only, every row for a listed person: an ID it repeats breaks the result table's key
    # when written, so the search for repeats is left to the write (it runs when the write is refused).
    keyed = write and counts["listed"] == counts["added"] == staged.rows
    if not keyed:
        check.duplicates()
    if counts["not_listed"]:
        check.not_listed()
    if counts["mismatched"]:
        check.mismatched()
    clock("report")
    outcome.not_listed = counts["not_listed"]
    outcome.added, outcome.changed = counts["added"], counts["changed"]
    outcome.unchanged = counts["listed"] - counts["added"] - counts["changed"]
    outcome.enrolled, outcome.not_enrolled = counts["enrolled"], counts["not_enrolled"]
    outcome.unmatched.sort(key=lambda u: u["row"])
    if not outcome.errors and write:
        try:
            with transaction.atomic():
                written = check.write(import_id, now, changed=bool(outcome.changed), added=bool(outcome.added))
        except IntegrityError:
            if not keyed:
                raise
            check.duplicates()  # the key refused a repeated ID: name every row
        else:
            if written != outcome.added + outcome.changed:  # the counts and the write must agree
                raise RuntimeError(
                    f"enrolment write touched {written} rows, expected {outcome.added + outcome.changed}"
                )
        clock("write")
    outcome.errors.sort(key=lambda e: (e["row"] or 0, e["column"]))
    return outcome
