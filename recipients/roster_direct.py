"""A roster none of whose people is in the registry yet (a county's first roster): written while it is checked.

The general path (roster_apply) stages the checked rows and merges them with what is stored. For a file whose ID
numbers are all new there is nothing to merge: its people and identities go straight into their tables with COPY,
a batch at a time, on a thread of their own while the check reads the next batch, each COPY's foreign keys
checked as it ends. The rows written are the general path's (tested). The writes stop, and are rolled back to a
savepoint, as soon as the check finds a bad row (nothing of the file is written) or anything goes wrong on the way
(a person stored after all, under an ID number written in another form): the general path then writes the rows.

PostgreSQL only, and only where the caller holds the roster import lock for the whole transaction.
"""

import datetime
import queue
import threading

from django.db import connection, transaction
from django.utils import timezone

from lib.stats import refresh_statistics

from .models import Identity, Person
from .roster_apply import END_ABSENT_OF_SOURCE, ApplyCounts, copy_escaped
from .roster_rows import RosterRow

_DONE = object()

_PERSON_COPY = (
    "COPY recipients_person (id, id_number, name, sex, birth_date, township_id, village_id, phone, bank_name,"
    " bank_account, created_at, updated_at) FROM STDIN"
)
_IDENTITY_COPY = (
    "COPY recipients_identity (person_id, category, source, valid_from, valid_to, created_by_import_id,"
    " updated_by_import_id, created_at, updated_at) FROM STDIN"
)

# Every identity of the snapshot's source still valid on the snapshot date is absent from the file, except the
# ones the file just wrote (all of this import's identities are new).
_END_ABSENT = END_ABSENT_OF_SOURCE + "  AND i.created_by_import_id IS DISTINCT FROM %(import_id)s\n"


def new_numbers(id_cells: list) -> set[str] | None:
    """The file's ID numbers (its cells as read, trimmed and in capitals) when none of them is in the registry;
    None when one is. A cell the check reads otherwise (another form of a stored number) is caught by the unique
    key when written."""
    numbers = {cell.strip().upper() for cell in id_cells if isinstance(cell, str)}
    numbers.discard("")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM recipients_person WHERE id_number = ANY(string_to_array(%s, E'\\n')))",
            ["\n".join(numbers)],
        )
        return None if cursor.fetchone()[0] else numbers


class DirectWriter:
    """Takes the checked rows batch by batch (the check's `writer`): `start`, `take`…, `stop`, then `finish`."""

    def __init__(self, *, import_id: int, snapshot_date: datetime.date | None, snapshot_source: str, township_id):
        self.import_id = import_id
        self.snapshot_date = snapshot_date
        self.snapshot_source = snapshot_source
        self.township_id = township_id
        self.now = timezone.now()
        self.person_ids: dict[str, str] = {}  # ID number → the person's id, as COPY's text
        self.identities = 0
        self.failure: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None
        self._savepoint = None
        self._constraints: list[str] = []
        self._free = iter(())

    # --- the check's side ----------------------------------------------------------------------------------

    def start(self, id_cells: list) -> bool:
        """Called with the file's ID cells before the first batch is checked; whether to take the rows."""
        if connection.vendor != "postgresql" or self.import_id is None or not id_cells:
            return False
        numbers = new_numbers(id_cells)
        if not numbers:
            return False
        self._savepoint = transaction.savepoint()
        with connection.cursor() as cursor:
            # Checked as each COPY ends (on the writing thread, beside the check) rather than all at COMMIT.
            cursor.execute(
                "SELECT quote_ident(conname) FROM pg_constraint WHERE contype = 'f' AND condeferrable"
                " AND conrelid IN ('recipients_person'::regclass, 'recipients_identity'::regclass)"
            )
            self._constraints = [name for (name,) in cursor.fetchall()]
            # An id for every number of the file, in one text (the people are at most as many; fetched a row
            # each, 80,000 ids took 0.2 s). Ids left over are a gap in the sequence, as a rolled-back insert leaves.
            cursor.execute(
                "SELECT string_agg(nextval(pg_get_serial_sequence('recipients_person', 'id'))::text, ',')"
                " FROM generate_series(1, %s)",
                [len(numbers)],
            )
            self._free = iter(cursor.fetchone()[0].split(","))
            if self._constraints:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self._constraints)} IMMEDIATE")
        self._thread = threading.Thread(target=self._run, args=(connection.connection,), daemon=True)
        self._thread.start()
        return True

    def take(self, rows: list[RosterRow]) -> None:
        """A batch of checked rows: their COPY text built here, beside the writing thread, and handed to it."""
        if self.failure is not None:
            return
        new = []
        for row in rows:
            if row.id_number not in self.person_ids:
                pk = next(self._free, None)
                if pk is None:  # more people than numbers: cannot happen, the general path writes it then
                    self.failure = _Stopped("more people than ID numbers")
                    return
                self.person_ids[row.id_number] = pk
                new.append(row)
        now = self.now.isoformat()
        people = _person_text(new, self.person_ids, now) if new else ""
        self._queue.put((people, _identity_text(rows, self.person_ids, self.import_id, now), len(rows)))

    def stop(self) -> None:
        """The check found a bad row: nothing of the file is to be written."""
        self._end()
        self.failure = self.failure or _Stopped()
        self._roll_back()

    def abandon(self) -> None:
        """The check itself failed: end the writing thread and leave the database to the caller's rollback."""
        self._end()
        self._savepoint = None

    # --- after the check -----------------------------------------------------------------------------------

    def finish(self) -> ApplyCounts | None:
        """The counts of a file written in full; None when the writes were rolled back (write it otherwise)."""
        self._end()
        if self._savepoint is None:  # never started, or stopped
            return None
        if self.failure is not None:
            self._roll_back()
            return None
        transaction.savepoint_commit(self._savepoint)
        self._savepoint = None
        counts = ApplyCounts(added=self.identities, persons_added=len(self.person_ids))
        with connection.cursor() as cursor:
            if self._constraints:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self._constraints)} DEFERRED")
            if self.snapshot_date is not None:
                cursor.execute(
                    _END_ABSENT,
                    {
                        "end_date": self.snapshot_date - datetime.timedelta(days=1),
                        "import_id": self.import_id,
                        "now": self.now,
                        "snapshot": self.snapshot_date,
                        "source": self.snapshot_source,
                        "township_id": self.township_id,
                    },
                )
                counts.ended = cursor.rowcount
            refresh_statistics(cursor, Person._meta.db_table, rows_written=counts.persons_added)
            refresh_statistics(cursor, Identity._meta.db_table, rows_written=counts.added + counts.ended)
        return counts

    def _end(self) -> None:
        if self._thread is not None:
            self._queue.put(_DONE)
            self._thread.join()
            self._thread = None

    def _roll_back(self) -> None:
        if self._savepoint is not None:
            transaction.savepoint_rollback(self._savepoint)
            self._savepoint = None
            if self._constraints:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET CONSTRAINTS {', '.join(self._constraints)} DEFERRED")

    # --- the writing thread --------------------------------------------------------------------------------

    def _run(self, raw) -> None:
        while (texts := self._queue.get()) is not _DONE:
            if self.failure is not None:
                continue  # drain: the check goes on to the end of the file
            try:
                self._write(raw, *texts)
            except BaseException as exc:  # noqa: BLE001 — handed to finish(), which rolls back and falls back
                self.failure = exc

    def _write(self, raw, people: str, identities: str, rows: int) -> None:
        with raw.cursor() as cursor:
            if people:
                _copy(cursor, _PERSON_COPY, people)
            _copy(cursor, _IDENTITY_COPY, identities)
        self.identities += rows


class _Stopped(Exception):
    pass


NULL = "\\N"


def _person_text(rows: list[RosterRow], person_ids: dict, now: str) -> str:
    text = _person_lines(rows, person_ids, now, _plain)
    # A name, phone or bank with a tab, line break or backslash needs escaping (roster_apply.copy_rows_to_stage).
    nulls = sum(r.village_id is None for r in rows)
    if text.count("\t") != 11 * len(rows) or text.count("\n") != len(rows) or text.count("\\") != nulls or "\r" in text:
        text = _person_lines(rows, person_ids, now, copy_escaped)
    return text


def _person_lines(rows, person_ids, now, escape) -> str:
    return "".join(
        [
            f"{person_ids[r.id_number]}\t{r.id_number}\t{escape(r.name)}\t{r.sex}\t{r.birth_date.isoformat()}\t"
            f"{r.township_id}\t{r.village_id if r.village_id is not None else NULL}\t{escape(r.phone)}\t"
            f"{escape(r.bank_name)}\t{r.bank_account}\t{now}\t{now}\n"
            for r in rows
        ]
    )


def _identity_text(rows, person_ids, import_id, now) -> str:
    """Codes, dates and numbers only: nothing to escape."""
    return "".join(
        [
            f"{person_ids[r.id_number]}\t{r.category}\t{r.source}\t{r.valid_from.isoformat()}\t"
            f"{r.valid_to.isoformat() if r.valid_to else NULL}\t{import_id}\t{import_id}\t{now}\t{now}\n"
            for r in rows
        ]
    )


def _plain(value: str) -> str:
    return value


def _copy(cursor, statement: str, text: str) -> None:
    with cursor.copy(statement) as copy:
        copy.write(text)
