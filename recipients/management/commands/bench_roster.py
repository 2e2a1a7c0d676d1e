"""Benchmark of the roster import on PostgreSQL, next to a raw COPY of the same rows.

Everything runs inside one transaction that is rolled back at the end: the database is left
as it was. Figures are wall-clock seconds on this machine, printed with their ratios.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from lib.bench import rolled_back
from recipients import demo
from recipients.models import County, RosterImport, Township, Village
from recipients.roster import validate_roster
from recipients.roster_apply import apply_roster
from recipients.services import roster_import_create, roster_import_run

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
        with rolled_back():
            self._setup()
            results["copy"] = self._raw_copy(content)
            results["check"], checked = self._timed(
                lambda: validate_roster(content, "bench.csv", default_source="MZ", township=None)
            )
            results["write_new"] = self._write_only(checked.rows)
            results["import"] = self._import(content, "bench.csv")
            results["write_same"] = self._write_only(checked.rows)
            results["reimport"] = self._import(content, "bench-again.csv")
            # A full snapshot one month later in which 5% of the identities are absent.
            kept = [r for r in data if rng.random() >= 0.05]
            snapshot = demo.to_csv(kept, encoding="utf-8")
            results["snapshot"] = self._import(snapshot, "bench-snapshot.csv", snapshot_date=datetime.date(2025, 12, 1))

        copy = results["copy"]
        check = results["check"]
        self.stdout.write(f"raw COPY into a bare table          {copy:8.3f} s   1.00x")
        self.stdout.write(f"parse + check every row (Python)    {check:8.3f} s   {check / copy:5.2f}x")
        for key, label in (
            ("write_new", "write only (staging COPY + SQL), new"),
            ("write_same", "write only, rows already stored"),
        ):
            self.stdout.write(f"{label:<36}{results[key]:8.3f} s   {results[key] / copy:5.2f}x")
        for key, label in (
            ("import", "import_recipients, new registry"),
            ("reimport", "import_recipients, same file again"),
            ("snapshot", "import_recipients, snapshot (5% ended)"),
        ):
            seconds, imp = results[key]
            self.stdout.write(
                f"{label:<36}{seconds:8.3f} s   {seconds / copy:5.2f}x   "
                f"(added {imp.rows_added}, changed {imp.rows_changed}, ended {imp.rows_ended}, unchanged {imp.rows_unchanged})"
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
        imp = roster_import_run(roster_import=imp, user=None)
        elapsed = time.perf_counter() - start
        if imp.status != RosterImport.Status.DONE:
            raise CommandError(f"import failed: {imp.status} {imp.errors[:3]}")
        return elapsed, imp
