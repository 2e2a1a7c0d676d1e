"""Writing a validated roster: upsert people and identities, end absent identities in snapshot mode.

Two implementations with the same rules, chosen by database:

- PostgreSQL: COPY the rows into a temporary staging table, then a handful of set-based
  statements (INSERT ... ON CONFLICT, UPDATE ... FROM). Used in production and by CI.
- Other databases (the embedded SQLite of `make run`): the same rules in Python over the
  rows of the file, reading and writing in bulk.

Rules (DATA-FORMATS §1):
- A person is keyed by ID number; name and township come from the file. Optional cells left
  empty (village, phone, bank) keep what the registry already has; a village is dropped when
  the township changes without a new village.
- An identity is keyed by (ID number, category, 认定日期); the file sets 退出日期 and source.
- Snapshot mode ends, the day before the snapshot date, the identities of the snapshot's source
  (within the clerk's township, for a clerk's upload) that are still valid on the snapshot date
  and are absent from the file.
- Each row counts once: added (new identity), changed (identity or person changed), unchanged.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from lib.stats import hash_joins, refresh_statistics

from .models import Identity, Person
from .roster import RosterRow


@dataclass
class ApplyCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    ended: int = 0
    persons_added: int = 0


def apply_roster(
    rows: list[RosterRow],
    *,
    import_id: int,
    snapshot_date: datetime.date | None,
    snapshot_source: str,
    township_id: int | None,
) -> ApplyCounts:
    """Write the rows. Call inside a transaction; the caller holds the import lock."""
    if connection.vendor == "postgresql":
        return _apply_postgresql(
            rows,
            import_id=import_id,
            snapshot_date=snapshot_date,
            snapshot_source=snapshot_source,
            township_id=township_id,
        )
    return _apply_python(
        rows,
        import_id=import_id,
        snapshot_date=snapshot_date,
        snapshot_source=snapshot_source,
        township_id=township_id,
    )


# --- generic path ---------------------------------------------------------------------------

PERSON_FIELDS = ("name", "township_id", "village_id", "phone", "bank_name", "bank_account")
CHUNK = 500


def _chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _merged_person(existing: Person | None, row: RosterRow) -> dict:
    """The person's fields after this file, following the rules in the module docstring."""
    if existing is None or row.village_id is not None:
        village_id = row.village_id
    else:
        village_id = existing.village_id if existing.township_id == row.township_id else None
    return {
        "name": row.name,
        "township_id": row.township_id,
        "village_id": village_id,
        "phone": row.phone or (existing.phone if existing else ""),
        "bank_name": row.bank_name or (existing.bank_name if existing else ""),
        "bank_account": row.bank_account or (existing.bank_account if existing else ""),
    }


def _apply_python(rows, *, import_id, snapshot_date, snapshot_source, township_id) -> ApplyCounts:
    counts = ApplyCounts()
    now = timezone.now()
    first_row = {}
    for row in rows:
        first_row.setdefault(row.id_number, row)

    existing: dict[str, Person] = {}
    for chunk in _chunks(first_row):
        existing.update({p.id_number: p for p in Person.objects.filter(id_number__in=chunk)})

    new_people, changed_people, changed_numbers = [], [], set()
    for number, row in first_row.items():
        person = existing.get(number)
        merged = _merged_person(person, row)
        if person is None:
            new_people.append(Person(id_number=number, sex=row.sex, birth_date=row.birth_date, **merged))
        elif any(getattr(person, f) != merged[f] for f in PERSON_FIELDS):
            for f, value in merged.items():
                setattr(person, f, value)
            person.updated_at = now
            changed_people.append(person)
            changed_numbers.add(number)
    Person.objects.bulk_create(new_people, batch_size=CHUNK)
    Person.objects.bulk_update(changed_people, [*PERSON_FIELDS, "updated_at"], batch_size=CHUNK)
    counts.persons_added = len(new_people)
    # bulk_create does not return primary keys on every backend: read them back.
    person_ids: dict[str, int] = {}
    for chunk in _chunks(first_row):
        person_ids.update(Person.objects.filter(id_number__in=chunk).values_list("id_number", "id"))

    current: dict[tuple, Identity] = {}
    for chunk in _chunks(person_ids.values()):
        for identity in Identity.objects.filter(person_id__in=chunk):
            current[(identity.person_id, identity.category, identity.valid_from)] = identity

    new_identities, changed_identities, in_file = [], [], set()
    for row in rows:
        pid = person_ids[row.id_number]
        key = (pid, row.category, row.valid_from)
        in_file.add(key)
        identity = current.get(key)
        if identity is None:
            new_identities.append(
                Identity(
                    person_id=pid,
                    category=row.category,
                    source=row.source,
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    created_by_import_id=import_id,
                    updated_by_import_id=import_id,
                )
            )
            counts.added += 1
        elif identity.valid_to != row.valid_to or identity.source != row.source:
            identity.valid_to = row.valid_to
            identity.source = row.source
            identity.updated_by_import_id = import_id
            identity.updated_at = now
            changed_identities.append(identity)
            counts.changed += 1
        elif row.id_number in changed_numbers:
            counts.changed += 1
        else:
            counts.unchanged += 1
    Identity.objects.bulk_create(new_identities, batch_size=CHUNK)
    Identity.objects.bulk_update(
        changed_identities, ["valid_to", "source", "updated_by_import_id", "updated_at"], batch_size=CHUNK
    )

    if snapshot_date is not None:
        candidates = Identity.objects.filter(source=snapshot_source, valid_from__lt=snapshot_date).exclude(
            valid_to__lt=snapshot_date
        )
        if township_id is not None:
            candidates = candidates.filter(person__township_id=township_id)
        to_end = [
            pk
            for pk, person_id, category, valid_from in candidates.values_list(
                "pk", "person_id", "category", "valid_from"
            )
            if (person_id, category, valid_from) not in in_file
        ]
        end_date = snapshot_date - datetime.timedelta(days=1)
        for chunk in _chunks(to_end):
            counts.ended += Identity.objects.filter(pk__in=chunk).update(
                valid_to=end_date, updated_by_import_id=import_id, updated_at=now
            )
    return counts


# --- PostgreSQL path ------------------------------------------------------------------------

_STAGE_DDL = """
CREATE TEMP TABLE roster_stage (
    row_no integer NOT NULL,
    id_number varchar(18) NOT NULL,
    name varchar(50) NOT NULL,
    sex varchar(1) NOT NULL,
    birth_date date NOT NULL,
    category varchar(4) NOT NULL,
    source varchar(8) NOT NULL,
    valid_from date NOT NULL,
    valid_to date,
    township_id bigint NOT NULL,
    village_id bigint,
    phone varchar(30) NOT NULL,
    bank_name varchar(100) NOT NULL,
    bank_account varchar(40) NOT NULL
) ON COMMIT DROP
"""

# One row per person in the file, with the fields it will have afterwards (same rules as
# _merged_person) and whether that differs from what is stored.
_PERSON_MERGE = """
CREATE TEMP TABLE roster_person ON COMMIT DROP AS
SELECT m.*,
       m.person_id IS NOT NULL
       AND (m.name, m.township_id, m.village_id, m.phone, m.bank_name, m.bank_account)
           IS DISTINCT FROM (m.old_name, m.old_township_id, m.old_village_id, m.old_phone, m.old_bank_name,
                             m.old_bank_account) AS changed
FROM (
    SELECT s.id_number, s.sex, s.birth_date, p.id AS person_id,
           s.name,
           s.township_id,
           CASE WHEN s.village_id IS NOT NULL THEN s.village_id
                WHEN p.township_id = s.township_id THEN p.village_id
           END AS village_id,
           COALESCE(NULLIF(s.phone, ''), p.phone, '') AS phone,
           COALESCE(NULLIF(s.bank_name, ''), p.bank_name, '') AS bank_name,
           COALESCE(NULLIF(s.bank_account, ''), p.bank_account, '') AS bank_account,
           p.name AS old_name, p.township_id AS old_township_id, p.village_id AS old_village_id,
           p.phone AS old_phone, p.bank_name AS old_bank_name, p.bank_account AS old_bank_account
    FROM (SELECT DISTINCT ON (id_number) * FROM roster_stage ORDER BY id_number, row_no) s
    LEFT JOIN recipients_person p ON p.id_number = s.id_number
) m
"""

# One row per file row, matched to the stored identity with the same key, if any.
_IDENTITY_MATCH = """
CREATE TEMP TABLE roster_identity ON COMMIT DROP AS
SELECT s.row_no, s.id_number, s.category, s.source, s.valid_from, s.valid_to, m.changed AS person_changed,
       i.id AS identity_id,
       (i.id IS NOT NULL AND (i.valid_to IS DISTINCT FROM s.valid_to OR i.source <> s.source)) AS changed
FROM roster_stage s
JOIN roster_person m ON m.id_number = s.id_number
LEFT JOIN recipients_identity i
  ON i.person_id = m.person_id AND i.category = s.category AND i.valid_from = s.valid_from
"""

_COUNT_ROWS = """
SELECT count(*) FILTER (WHERE identity_id IS NULL),
       count(*) FILTER (WHERE identity_id IS NOT NULL AND (changed OR person_changed)),
       count(*) FILTER (WHERE identity_id IS NOT NULL AND NOT (changed OR person_changed))
FROM roster_identity
"""

# New people, their ids written back to roster_person: later statements join only the
# temporary tables, whose statistics are fresh (recipients_person's are not, mid-transaction).
_INSERT_PERSONS = """
WITH inserted AS (
    INSERT INTO recipients_person
        (id_number, name, sex, birth_date, township_id, village_id, phone, bank_name, bank_account,
         created_at, updated_at)
    SELECT id_number, name, sex, birth_date, township_id, village_id, phone, bank_name, bank_account,
           %(now)s, %(now)s
    FROM roster_person WHERE person_id IS NULL
    ORDER BY id_number
    RETURNING id, id_number
)
UPDATE roster_person m SET person_id = inserted.id FROM inserted WHERE inserted.id_number = m.id_number
"""

_UPDATE_PERSONS = """
UPDATE recipients_person p
SET name = m.name, township_id = m.township_id, village_id = m.village_id, phone = m.phone,
    bank_name = m.bank_name, bank_account = m.bank_account, updated_at = %(now)s
FROM roster_person m
WHERE m.person_id = p.id AND m.changed
"""

# Only new keys are inserted; ON CONFLICT is a guard, the import lock already keeps writers apart.
# Only new keys are inserted; ON CONFLICT is a guard, the import lock already keeps writers apart.
_INSERT_IDENTITIES = """
INSERT INTO recipients_identity
    (person_id, category, source, valid_from, valid_to, created_by_import_id, updated_by_import_id,
     created_at, updated_at)
SELECT m.person_id, r.category, r.source, r.valid_from, r.valid_to, %(import_id)s, %(import_id)s, %(now)s, %(now)s
FROM roster_identity r JOIN roster_person m ON m.id_number = r.id_number
WHERE r.identity_id IS NULL
ORDER BY m.person_id
ON CONFLICT (person_id, category, valid_from) DO NOTHING
"""

_UPDATE_IDENTITIES = """
UPDATE recipients_identity i
SET valid_to = r.valid_to, source = r.source, updated_by_import_id = %(import_id)s, updated_at = %(now)s
FROM roster_identity r
WHERE r.identity_id = i.id AND r.changed
"""

# A snapshot ends the identities of its source (in the clerk's township) still valid on its date that the file does
# not hold: this part, plus how the path knows which ones the file holds.
END_ABSENT_OF_SOURCE = """
UPDATE recipients_identity i
SET valid_to = %(end_date)s, updated_by_import_id = %(import_id)s, updated_at = %(now)s
FROM recipients_person p
WHERE p.id = i.person_id
  AND i.source = %(source)s
  AND i.valid_from < %(snapshot)s
  AND (i.valid_to IS NULL OR i.valid_to >= %(snapshot)s)
  AND (%(township_id)s::bigint IS NULL OR p.township_id = %(township_id)s::bigint)
"""

_END_ABSENT = (
    END_ABSENT_OF_SOURCE
    + """  AND NOT EXISTS (
      SELECT 1 FROM roster_identity r JOIN roster_person m ON m.id_number = r.id_number
      WHERE m.person_id = i.person_id AND r.category = i.category AND r.valid_from = i.valid_from)
"""
)


def copy_rows_to_stage(cursor, rows: list[RosterRow]) -> None:
    """Load the rows into roster_stage with COPY (text format, tab separated)."""
    text = _stage_text(rows, _plain)
    # Text cells with a tab, line break or backslash need escaping: written plainly, they would show as more
    # tabs, lines or backslashes than the rows' shape and NULLs (\N) account for. Then the rows are written again.
    nulls = sum((r.valid_to is None) + (r.village_id is None) for r in rows)
    if text.count("\t") != 13 * len(rows) or text.count("\n") != len(rows) or text.count("\\") != nulls or "\r" in text:
        text = _stage_text(rows, copy_escaped)
    with cursor.copy("COPY roster_stage FROM STDIN") as copy:
        copy.write(text)


def _stage_text(rows: list[RosterRow], escape) -> str:
    null = "\\N"
    return "".join(
        [
            f"{r.row_no}\t{r.id_number}\t{escape(r.name)}\t{r.sex}\t{r.birth_date.isoformat()}\t"
            f"{r.category}\t{r.source}\t{r.valid_from.isoformat()}\t"
            f"{r.valid_to.isoformat() if r.valid_to else null}\t{r.township_id}\t"
            f"{r.village_id if r.village_id is not None else null}\t{escape(r.phone)}\t"
            f"{escape(r.bank_name)}\t{r.bank_account}\n"
            for r in rows
        ]
    )


def _plain(value: str) -> str:
    return value


def copy_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _apply_postgresql(rows, *, import_id, snapshot_date, snapshot_source, township_id) -> ApplyCounts:
    counts = ApplyCounts()
    params = {"now": timezone.now(), "import_id": import_id}
    with connection.cursor() as cursor:
        # Every statement below joins whole tables. Statistics of the registry tables lag behind
        # a large import in the same (or just committed) transaction, and the planner, believing
        # them tiny, would pick nested loops that scan an index once per row: minutes instead of
        # seconds. Hash and merge joins are right for this work whatever the estimates say.
        with hash_joins(cursor):
            cursor.execute(_STAGE_DDL)
            copy_rows_to_stage(cursor.cursor, rows)
            # No ANALYZE of the temporary tables: with nested loops off, the joins are hash joins
            # whatever the estimates, and analysing three tables cost more than it saved.
            cursor.execute(_PERSON_MERGE)
            cursor.execute(_IDENTITY_MATCH)
            cursor.execute(_COUNT_ROWS)
            counts.added, counts.changed, counts.unchanged = cursor.fetchone()
            cursor.execute(_UPDATE_PERSONS, params)
            cursor.execute(_INSERT_PERSONS, params)
            counts.persons_added = cursor.rowcount
            cursor.execute(_UPDATE_IDENTITIES, params)
            cursor.execute(_INSERT_IDENTITIES, params)
            if snapshot_date is not None:
                cursor.execute(
                    _END_ABSENT,
                    {
                        **params,
                        "end_date": snapshot_date - datetime.timedelta(days=1),
                        "snapshot": snapshot_date,
                        "source": snapshot_source,
                        "township_id": township_id,
                    },
                )
                counts.ended = cursor.rowcount
            cursor.execute("DROP TABLE roster_identity, roster_person, roster_stage")
        # Before anything else plans a query over the new rows (the cross-check runs on commit).
        refresh_statistics(cursor, "recipients_person", rows_written=counts.persons_added)
        refresh_statistics(cursor, "recipients_identity", rows_written=counts.added + counts.changed + counts.ended)
    return counts
