"""Benchmark of the roster import on PostgreSQL, against its limit built in the same run.

The limit is a COPY of the rows the import wrote (people and identities, copied back out of the real tables)
into empty tables with the real tables' keys, constraints, indexes and foreign keys; deferred constraints are
checked inside every timed step (what COMMIT would do). The old baseline, a COPY of the CSV into a bare table
of text columns, is printed beside it. Everything runs inside one transaction that is rolled back at the end:
the database is left as it was. Figures are wall-clock seconds on this machine.
"""

import datetime
import io
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from imports.services import import_run
from lib.bench import rolled_back, vacuum
from recipients import demo
from recipients.models import County, RosterImport, Township, Village
from recipients.roster import validate_roster
from recipients.roster_apply import apply_roster
from recipients.services import roster_import_create

TOWNS = {f"测试{i:02d}镇": [f"测试{i:02d}镇{j}村" for j in range(8)] for i in range(20)}


class Command(BaseCommand):
    help = "Time a roster import of N generated rows against a raw COPY of the same file (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, rows, seed, **options):
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        if rows < 1000:
            raise CommandError("--rows 至少为 1000")
        rng = random.Random(seed)
        people = demo.make_people(rng, int(rows * 0.8), TOWNS, region="990101")
        data = []
        for p in people:
            data.append(
                demo.roster_row(p, "DB", datetime.date(2022, 1, 1) + datetime.timedelta(days=rng.randrange(900)))
            )
        second = set()
        while len(data) < rows:  # a second identity for some people
            p = rng.choice(people)
            if p.id_number not in second:
                second.add(p.id_number)
                data.append(
                    demo.roster_row(p, "TK", datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(600)))
                )
        for r in data:
            r[-1] = "民政"
        content = demo.to_csv(data, encoding="utf-8")
        self.stdout.write(f"rows: {len(data)}, people: {len(people)}, file: {len(content) / 1e6:.1f} MB CSV")

        results = {}
        # Rows rolled back leave dead index entries under the same keys, which every later insert of those keys
        # steps over: each part that writes new people starts from tables vacuumed (the limit's are new).
        vacuum("recipients_person", "recipients_identity")
        with rolled_back():
            self._setup()
            results["copy"] = self._raw_copy(content)
            results["check"], checked = self._timed(
                lambda: validate_roster(content, "bench.csv", default_source="MZ", township=None)
            )
            results["write_new"] = self._write_only(checked.rows)
        vacuum("recipients_person", "recipients_identity")
        with rolled_back():
            self._setup()
            results["import"] = self._import(content, "bench.csv")
            results["limit"], results["limit_people"] = self._limit()
            checked = validate_roster(content, "bench.csv", default_source="MZ", township=None)
            results["write_same"] = self._write_only(checked.rows)
            results["reimport"] = self._import(content, "bench-again.csv")
            # A full snapshot one month later in which 5% of the identities are absent.
            kept = [r for r in data if rng.random() >= 0.05]
            snapshot = demo.to_csv(kept, encoding="utf-8")
            results["snapshot"] = self._import(snapshot, "bench-snapshot.csv", snapshot_date=datetime.date(2025, 12, 1))
        vacuum("recipients_person", "recipients_identity")

        copy, limit = results["copy"], results["limit"]
        n = len(data)

        def line(label, seconds, extra=""):
            self.stdout.write(
                f"{label:<50}{seconds:8.3f} s {n / seconds:10,.0f} rows/s {seconds / limit:6.2f}× limit "
                f"{seconds / copy:6.1f}× bare COPY{extra}"
            )

        line("bare COPY of the CSV (text columns)", copy)
        line("limit: COPY of the written rows, real shapes", limit, f"   ({results['limit_people']:,} people)")
        line("parse + check every row (Python)", results["check"])
        line("write only, general path (staging + SQL), new", results["write_new"])
        line("write only, general path, rows already stored", results["write_same"])
        for key, label in (
            ("import", "import_recipients, new registry"),
            ("reimport", "import_recipients, same file again"),
            ("snapshot", "import_recipients, snapshot (5% ended)"),
        ):
            seconds, imp = results[key]
            line(
                label,
                seconds,
                f"   (added {imp.rows_added}, changed {imp.rows_changed}, ended {imp.rows_ended}, "
                f"unchanged {imp.rows_unchanged})",
            )
        self.stdout.write("(all work rolled back; the database is unchanged)")

    def _setup(self):
        county = County.objects.create(name="基准测试县", code="990101")
        for i, (name, villages) in enumerate(TOWNS.items()):
            township = Township.objects.create(county=county, name=name, code=f"990101{i:03d}")
            Village.objects.bulk_create(Village(township=township, name=v) for v in villages)

    def _timed(self, fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    def _write_only(self, rows) -> float:
        """The database part of an import alone: checked rows to COPY + set-based SQL, rolled back."""
        with transaction.atomic():
            seconds, _ = self._timed(
                lambda: apply_roster(rows, import_id=None, snapshot_date=None, snapshot_source="MZ", township_id=None)
            )
            transaction.set_rollback(True)
        return seconds

    def _raw_copy(self, content: bytes) -> float:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_bare ("
                + ", ".join(f"c{i} text" for i in range(len(demo.ROSTER_HEADERS)))
                + ")"
            )
            start = time.perf_counter()
            with cursor.cursor.copy("COPY bench_bare FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(content)
            elapsed = time.perf_counter() - start
            cursor.execute("SELECT count(*) FROM bench_bare")
            assert cursor.fetchone()[0] > 0
            cursor.execute("DROP TABLE bench_bare")
        return elapsed

    def _import(self, content: bytes, name: str, snapshot_date=None):
        start = time.perf_counter()
        imp = roster_import_create(
            user=None, file_name=name, content=content, source="MZ", snapshot_date=snapshot_date, enqueue=False
        )
        imp = import_run(record=imp, user=None, content=content)  # as import_recipients runs it
        with connection.cursor() as cursor:
            self._commit_work(cursor)
        elapsed = time.perf_counter() - start
        if imp.status != RosterImport.Status.DONE:
            raise CommandError(f"import failed: {imp.status} {imp.errors[:3]}")
        return elapsed, imp

    def _commit_work(self, cursor):
        """What COMMIT would still do: the deferred foreign-key checks."""
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _limit(self) -> tuple[float, int]:
        """COPY the people and identities the import wrote into empty tables shaped like the real ones."""
        tables = {"recipients_person": "bench_person", "recipients_identity": "bench_identity"}
        with connection.cursor() as cursor:
            typed = {}
            for table in tables:
                buffer = io.BytesIO()
                with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                    for block in copy:
                        buffer.write(block)
                typed[table] = buffer.getvalue()
            for table, copy_name in tables.items():
                cursor.execute(f"CREATE TABLE {copy_name} (LIKE {table} INCLUDING ALL)")
                cursor.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                for (definition,) in cursor.fetchall():
                    # The identities' people are the copied people.
                    cursor.execute(
                        f"ALTER TABLE {copy_name} ADD {definition.replace('recipients_person(', 'bench_person(')}"
                    )
            start = time.perf_counter()
            for table, copy_name in tables.items():
                with cursor.cursor.copy(f"COPY {copy_name} FROM STDIN") as copy:
                    copy.write(typed[table])
            self._commit_work(cursor)
            elapsed = time.perf_counter() - start
            cursor.execute("SELECT count(*) FROM bench_person")
            (people,) = cursor.fetchone()
            cursor.execute("DROP TABLE bench_identity, bench_person")
        return elapsed, people
