"""A roster none of whose people is stored is written while it is checked (recipients.roster_direct): it must
write exactly what the general path writes, nothing when a row is bad, and fall back when a write fails."""

import contextlib
import datetime
import random
import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction

from imports.services import import_run
from recipients import roster_direct
from recipients.demo import to_csv
from recipients.idnumber import parse_id_number
from recipients.models import Identity, Person, RosterImport
from recipients.roster import RosterRow
from recipients.roster_apply import apply_roster
from recipients.roster_columns import ColumnReader
from recipients.roster_direct import DirectWriter
from recipients.services import roster_import_create
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory, VillageFactory, valid_id_number
from tests.recipients.test_apply_paths_agree import state
from tests.recipients.test_roster_import import row

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

D = datetime.date


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the direct write is PostgreSQL's (COPY)")


def _record(snapshot_date=None) -> RosterImport:
    return roster_import_create(
        user=None, file_name="名册.csv", content=b"x", source="MZ", snapshot_date=snapshot_date, enqueue=False
    )


def _direct(rows, *, import_id, batch, **kw):
    writer = DirectWriter(import_id=import_id, **kw)
    assert writer.start([r.id_number for r in rows])
    for start in range(0, len(rows), batch):
        writer.take(rows[start : start + batch])
    return writer.finish()


def _in_savepoint(fn):
    with transaction.atomic():
        sid = transaction.savepoint()
        counts = fn()
        written = state()
        transaction.savepoint_rollback(sid)
    return counts, written


@pytest.mark.parametrize("seed", range(40))
def test_direct_writes_what_the_general_path_writes(seed):
    rng = random.Random(seed)
    towns = [TownshipFactory(name=f"T{k}") for k in range(2)]
    villages = {t.id: [VillageFactory(township=t, name=f"V{t.id}{j}") for j in range(2)] for t in towns}
    # Others already registered, some of the snapshot's source (ended by a snapshot unless already ended).
    for k in range(rng.randint(0, 4)):
        person = PersonFactory(id_number=valid_id_number(D(1940 + k, 2, 3)), township=rng.choice(towns))
        for category in rng.sample(["DB", "TK"], rng.randint(1, 2)):
            IdentityFactory(
                person=person,
                category=category,
                source=rng.choice(["MZ", "CL"]),
                valid_from=rng.choice([D(2022, 1, 1), D(2022, 9, 1)]),
                valid_to=rng.choice([None, D(2023, 12, 31)]),
            )
    scoped = rng.random() < 0.3
    rows, row_no = [], 2
    for k in range(rng.randint(1, 30)):
        number = valid_id_number(D(1960 + k, 5, 6))
        info = parse_id_number(number)
        town = towns[0] if scoped else rng.choice(towns)
        person = dict(
            name=rng.choice(
                ["甲", "乙", "甲\\N", "乙\t丙", "丙\n丁", "戊\\", "</script>"]
            ),  # (COPY's escapes, when needed)
            township_id=town.id,
            village_id=rng.choice([None] + [v.id for v in villages[town.id]]),
            phone=rng.choice(["", "13900000000"]),
            bank_name=rng.choice(["", "建行"]),
            bank_account=rng.choice(["", "622848000011"]),
        )
        for category, valid_from in rng.sample(
            [("DB", D(2023, 1, 1)), ("TK", D(2023, 1, 1)), ("DB", D(2025, 2, 1))], 2
        ):
            rows.append(
                RosterRow(
                    row_no=row_no,
                    id_number=number,
                    sex=info.sex,
                    birth_date=info.birth_date,
                    category=category,
                    source=rng.choice(["MZ", "CL"]),
                    valid_from=valid_from,
                    valid_to=rng.choice([None, D(2025, 12, 31)]),
                    **person,
                )
            )
            row_no += 1
    snapshot = rng.choice([None, D(2025, 1, 1), D(2024, 6, 1)])
    record = _record(snapshot)
    kw = dict(snapshot_date=snapshot, snapshot_source="MZ", township_id=towns[0].id if scoped else None)

    general = _in_savepoint(lambda: apply_roster(rows, import_id=record.pk, **kw))
    direct = _in_savepoint(lambda: _direct(rows, import_id=record.pk, batch=rng.choice([1, 3, 7, 100]), **kw))

    assert direct[0] is not None
    assert direct == general


def _numbers(n: int) -> list[str]:
    return [valid_id_number(D(1950, 1, 1) + datetime.timedelta(days=k)) for k in range(n)]


def _file(n: int, *, bad_at: int | None = None, numbers: list[str] | None = None) -> bytes:
    numbers = numbers or _numbers(n)
    return to_csv(
        [
            row(id_number=numbers[k], name=f"人{k}", valid_from="2023-13-01" if k == bad_at else "2023-01-01")
            for k in range(n)
        ]
    )


def _run(content: bytes, snapshot_date=None) -> RosterImport:
    record = roster_import_create(
        user=None, file_name="名册.csv", content=content, source="MZ", snapshot_date=snapshot_date, enqueue=False
    )
    return import_run(record=record, user=None, content=content)


@contextlib.contextmanager
def _taken():
    """What each import's DirectWriter.finish returned (None: not written directly)."""
    taken, real = [], DirectWriter.finish

    def finish(self):
        counts = real(self)
        taken.append(counts)
        return counts

    with mock.patch.object(DirectWriter, "finish", finish):
        yield taken


def test_a_first_roster_is_written_while_it_is_checked(village, other_village):
    with _taken() as taken:
        record = _run(_file(12_000))  # three batches of the check
    assert len(taken) == 1 and taken[0] is not None and taken[0].added == 12_000
    assert record.status == RosterImport.Status.DONE
    assert (record.rows_added, record.persons_added) == (12_000, 12_000)
    assert Person.objects.count() == 12_000
    assert Identity.objects.filter(created_by_import=record, updated_by_import=record).count() == 12_000
    person = Person.objects.get(name="人11999")
    assert (person.township_id, person.village_id, person.phone) == (village.township_id, village.id, "13812345678")


def test_a_bad_row_in_a_later_batch_leaves_nothing_written(village, other_village):
    record = _run(_file(12_000, bad_at=11_000))
    assert record.status == RosterImport.Status.INVALID
    assert [e["row"] for e in record.errors] == [11_002]
    assert Person.objects.count() == 0
    assert Identity.objects.count() == 0


def test_a_nul_byte_in_a_later_batch_leaves_nothing_written(village, other_village):
    numbers = _numbers(12_000)
    rows = [row(id_number=n, name=f"人{k}") for k, n in enumerate(numbers)]
    rows[11_000][1] = "王\x00五"
    record = _run(to_csv(rows))
    assert record.status == RosterImport.Status.INVALID
    assert [e["row"] for e in record.errors] == [11_002]
    assert Person.objects.count() == 0


def test_a_stored_person_the_first_look_missed_falls_back_to_the_general_path(village, other_village):
    numbers = _numbers(6_000)
    content = _file(6_000, numbers=numbers)
    stored = PersonFactory(id_number=numbers[5_500], name="旧名")
    # As if the number had been written in another form in the file: the first look finds nobody.
    with (
        mock.patch.object(roster_direct, "new_numbers", side_effect=lambda cells: {c for c in cells}),
        _taken() as taken,
    ):
        record = _run(content)
    assert taken == [None]  # the unique key stopped the direct writes; the general path wrote the file
    assert record.status == RosterImport.Status.DONE
    assert (record.rows_added, record.persons_added) == (6_000, 5_999)
    assert Person.objects.count() == 6_000
    stored.refresh_from_db()
    assert stored.name == "人5500"


def test_a_registry_with_people_of_the_file_takes_the_general_path(village, other_village):
    numbers = _numbers(50)
    content = _file(50, numbers=numbers)
    PersonFactory(id_number=numbers[0], name="旧名")
    with mock.patch.object(DirectWriter, "take") as take:
        record = _run(content)
    take.assert_not_called()
    assert record.status == RosterImport.Status.DONE
    assert (record.rows_added, record.persons_added) == (50, 49)


def test_foreign_keys_are_deferred_again_after_the_direct_write(village, other_village):
    _run(_file(10))
    with transaction.atomic(), connection.cursor() as cursor:
        sid = transaction.savepoint()
        # Accepted for now: a deferred key is checked at COMMIT (or here, when made immediate), as Django has them.
        cursor.execute(
            "INSERT INTO recipients_identity (person_id, category, source, valid_from, created_at, updated_at)"
            " VALUES (-1, 'DB', 'MZ', '2024-01-01', now(), now())"
        )
        with pytest.raises(IntegrityError):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.savepoint_rollback(sid)


def test_a_check_that_fails_ends_the_writing_thread(village, other_village):
    content = _file(12_000)
    threads = threading.active_count()
    real, calls = ColumnReader.read, []

    def read(self, batch):  # the second batch's reading fails, after the first was handed to the writer
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(self, batch)

    with mock.patch.object(ColumnReader, "read", read), pytest.raises(RuntimeError):
        _run(content)
    assert len(calls) == 2 and threading.active_count() == threads
    assert Person.objects.count() == 0
    assert _run(content).status == RosterImport.Status.DONE  # and the next import is written as usual
