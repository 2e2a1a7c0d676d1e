"""Checking and writing a settlement file, on PostgreSQL (COPY + SQL) or elsewhere (Python + ORM).

`import_settlements_file` runs inside the caller's transaction; with `write=False` it only reports
what writing would do (the caller rolls back).
"""

import datetime
import logging
from dataclasses import dataclass, field

import psycopg
from django.db import connection, transaction

from imports.mapping import Profile
from lib.stats import refresh_statistics
from recipients.models import Person

from . import bulk, checks, merge, sql
from .models import Settlement

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    total_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    unregistered: int = 0
    updated_numbers: list[str] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)  # registered people the file is about
    checked_in_sql: bool = False
    path: str = ""  # how the file was checked and written: "bulk, direct", "bulk, stage", "sql" or "python"

    @property
    def ok(self) -> bool:
        return not self.errors


def import_settlements_file(
    content: bytes,
    file_name: str,
    *,
    import_id: int | None,
    today: datetime.date,
    write: bool,
    profile: Profile | None = None,
) -> Outcome:
    """Check the whole file; if it is clean, write it (or count what writing would change).

    `profile`: the column profile the file is read through (imports.profiles), None for §2's own headers. Such a
    file is checked in Python and written by `_generic` on every database, with the platform's columns it keeps."""
    if connection.vendor == "postgresql" and profile is None:
        return _postgresql(content, file_name, import_id=import_id, today=today, write=write)
    content = bytes(content)  # (an operator's file is memory-mapped: these checks read it whole)
    return _generic(content, file_name, import_id=import_id, today=today, write=write, profile=profile)


# --- PostgreSQL -------------------------------------------------------------------------------


def _postgresql(content, file_name, *, import_id, today, write) -> Outcome:
    outcome = Outcome()
    with connection.cursor() as cursor:
        staged = direct = False
        ids = None  # the clean rows counted by ID (the bulk path)
        route = "python"
        if file_name.lower().endswith(".csv"):
            # A plain CSV (the platform's extracts) takes the bulk path; quoted cells the SQL checks over a raw
            # COPY; anything else the Python checks. Preview (write=False) never writes into the table.
            try:
                result = bulk.check_and_copy(cursor, content, today=today, import_id=import_id, direct=write)
            except bulk.NotForBulk as exc:
                logger.info("settlement file %s not read in bulk: %s", file_name, exc)
                route = exc.route
            except checks.TableError as exc:
                outcome.errors = [checks.make_error(None, "", "", str(exc))]
                return outcome
            else:
                outcome.checked_in_sql, outcome.path = True, "bulk, direct" if result.direct else "bulk, stage"
                outcome.total_rows, outcome.errors = result.total_rows, result.errors
                if outcome.errors:
                    return outcome
                staged, direct, ids = True, result.direct, result.ids
        if route == "sql":
            content = bytes(content)  # (a memory-mapped file: these checks read it whole)
            try:
                source = sql.prepare_csv(content)
            except sql.NotForSql as exc:
                logger.info("settlement file %s checked in Python: %s", file_name, exc)
                source = None
            except checks.TableError as exc:
                outcome.errors = [checks.make_error(None, "", "", str(exc))]
                return outcome
            if source is not None:
                try:
                    with transaction.atomic():  # a savepoint: a COPY the file's shape breaks is undone
                        sql.copy_raw(cursor.cursor, source)
                        outcome.total_rows, outcome.errors = sql.check_raw(
                            cursor, source.headers, today=today, padded=source.padded
                        )
                        sql.drop_raw(cursor)
                    outcome.checked_in_sql, outcome.path = True, "sql"
                    if outcome.errors:
                        return outcome
                    staged = True
                except psycopg.errors.DataError as exc:  # ragged rows, quoting COPY does not take
                    logger.info("settlement file %s checked in Python: %s", file_name, exc)
        if not staged:
            check = checks.validate_settlements(bytes(content), file_name, today=today)
            outcome.total_rows, outcome.path = check.total_rows, "python"
            if not check.ok:
                outcome.errors = check.errors
                return outcome
            sql.copy_rows(cursor.cursor, check.rows)
        if not direct:  # statistics of the stage, so that the joins below are planned for its real size
            cursor.execute("ANALYZE settle_stage")
        if ids is not None:
            outcome.unregistered, outcome.person_ids = bulk.people(cursor, ids)
        else:
            cursor.execute(merge.UNREGISTERED_SQL)
            (outcome.unregistered,) = cursor.fetchone()
            cursor.execute(merge.PEOPLE_SQL)
            outcome.person_ids = [pid for (pid,) in cursor.fetchall()]
        if direct:  # the rows are in the table already, all of them new
            outcome.added = outcome.total_rows
        elif write:
            cursor.execute(merge.DIFF_SQL)
            cursor.execute(merge.DIFF_COUNTS_SQL)
            new, changed = cursor.fetchone()
            numbers = None
            if changed:
                cursor.execute(merge.UPDATE_SQL, {"import_id": import_id})
                outcome.updated, numbers = cursor.fetchone()
            if new:
                cursor.execute(merge.INSERT_SQL, {"import_id": import_id})
                outcome.added = cursor.rowcount
            outcome.unchanged = outcome.total_rows - outcome.added - outcome.updated
            cursor.execute("DROP TABLE settle_diff")
        else:
            cursor.execute(merge.PREVIEW_SQL)
            outcome.added, outcome.updated, outcome.unchanged, numbers = cursor.fetchone()
        if not direct:
            outcome.updated_numbers = list(numbers or [])
            cursor.execute("DROP TABLE settle_stage")
        if write:  # before anything else plans a query over the new rows (the cross-check, on commit)
            refresh_statistics(cursor, "settlements_settlement", rows_written=outcome.added + outcome.updated)
    return outcome


# --- other databases (the embedded SQLite of `make run`) --------------------------------------

FIELDS = [
    "id_number",
    "name",
    "hospital",
    "visit_type",
    "admitted_on",
    "discharged_on",
    "visit_on",
    "service_date",
    "settled_on",
    "total",
    "in_policy",
    "basic",
    "critical",
    "other",
    "onestop",
    "out_of_area",
    "diagnosis",
    "major_disease",
]


def _generic(content, file_name, *, import_id, today, write, profile=None) -> Outcome:
    outcome = Outcome()
    check = checks.validate_settlements(content, file_name, today=today, profile=profile)
    fields = [*FIELDS, *check.kept]  # the platform's columns (就诊ID …) when a profile fills them
    outcome.total_rows = check.total_rows
    if not check.ok:
        outcome.errors = check.errors
        return outcome
    rows = check.rows
    existing: dict[str, Settlement] = {}
    numbers = [r.number for r in rows]
    for start in range(0, len(numbers), 500):
        existing.update(Settlement.objects.in_bulk(numbers[start : start + 500]))
    new, changed = [], []
    for r in rows:
        values = {f: getattr(r, f) for f in fields}
        stored = existing.get(r.number)
        if stored is None:
            new.append(Settlement(number=r.number, last_import_id=import_id, **values))
        elif any(getattr(stored, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(stored, f, v)
            stored.last_import_id = import_id
            changed.append(stored)
    outcome.added, outcome.updated = len(new), len(changed)
    outcome.unchanged = len(rows) - len(new) - len(changed)
    outcome.updated_numbers = [s.number for s in changed[:200]]
    ids = sorted({r.id_number for r in rows})
    known = set()
    for start in range(0, len(ids), 500):
        known.update(Person.objects.filter(id_number__in=ids[start : start + 500]).values_list("id_number", flat=True))
    outcome.unregistered = sum(1 for r in rows if r.id_number not in known)
    for start in range(0, len(ids), 500):
        outcome.person_ids.extend(
            Person.objects.filter(id_number__in=ids[start : start + 500]).values_list("pk", flat=True)
        )
    if write:
        Settlement.objects.bulk_create(new, batch_size=500)
        Settlement.objects.bulk_update(changed, [*fields, "last_import_id"], batch_size=500)
    return outcome
