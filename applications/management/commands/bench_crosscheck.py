"""Benchmark of the settlement import and the 主动救助 cross-check on PostgreSQL.

A generated county (default 100,000 recipients, 1,000,000 settlements in one year) is built inside
one transaction that is rolled back at the end: the database is left as it was. Figures are
wall-clock seconds on this machine, printed with their ratios.

The import is measured against its limit, built in the same run: a COPY of the same typed rows (copied back out
of the table the import wrote) into a table with the settlement table's keys, constraints and indexes. Deferred
constraints are checked inside every timed step (SET CONSTRAINTS ALL IMMEDIATE: what COMMIT would do). The old
baseline, a COPY of the CSV into a bare table of text columns, is printed beside it. Peak memory is that of a
separate process running `import_settlements` on a file of --memory-rows rows, rolled back (lib.bench).
"""

import datetime
import io
import random
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from applications.models import Lead
from applications.policy.services import policy_load_preset
from applications.proactive.candidates import CANDIDATES_SQL, year_window
from applications.proactive.crosscheck import crosscheck_now
from lib.bench import child_peak, rolled_back, vacuum
from recipients import demo as rdemo
from recipients.models import County, Township, Village
from recipients.roster import validate_roster
from recipients.roster_apply import apply_roster
from settlements import demo, sql
from settlements.importer import import_settlements_file
from settlements.models import SettlementImport

from .. import jobbench

YEAR = 2025
TOWNS = {f"测试{i:02d}镇": [f"测试{i:02d}镇{j}村" for j in range(8)] for i in range(20)}


class Command(BaseCommand):
    help = "Time the settlement import (against a raw COPY of the same file) and the cross-check (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=100_000)
        parser.add_argument(
            "--settlements", type=int, nargs="+", default=[1_000_000], help="with --workers: several sizes"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--memory-rows",
            type=int,
            default=3_000_000,
            help="rows of the file whose import's peak memory is measured (0: none)",
        )
        jobbench.add_arguments(parser)

    def handle(self, *args, people, settlements, seed, memory_rows, **options):
        if options["workers"]:  # the job on real workers, in scratch databases (applications/management/jobbench.py)
            return jobbench.bench_jobs(
                self, kind="crosscheck", sizes=settlements, people_per_million=people, seed=seed, options=options
            )
        settlements = settlements[0]
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        rng = random.Random(seed)
        self.figures = {}
        vacuum("settlements_settlement", "recipients_person", "recipients_identity")
        with rolled_back():
            self._county(rng, people)
            content = self._settlements_csv(rng, settlements)
            self._import(content)
            del content
            self._crosscheck()
        if memory_rows:
            self._memory(rng, memory_rows)
        f = self.figures
        n = f["rows"]
        self.stdout.write("")
        self.stdout.write(f"settlement import of {n:,} rows                seconds     rows/s   × limit  × bare COPY")
        for key, label in (
            ("bare", "bare COPY of the CSV (text columns)"),
            ("limit", "limit: COPY of the typed rows, keys+indexes"),
            ("import", "import, new rows (check + write)"),
            ("reimport", "import of the same file again"),
        ):
            sec = f[key]
            self.stdout.write(
                f"{label:<45}{sec:9.2f} {n / sec:10,.0f} {sec / f['limit']:8.2f}× {sec / f['bare']:9.1f}×"
            )
        self.stdout.write(f"  (import: {f['import_path']}; re-import: {f['reimport_path']})")
        if memory_rows:
            m = f["memory"]
            self.stdout.write(
                f"peak memory of import_settlements, {memory_rows:,} rows: {m['peak_mb']:,.0f} MB "
                f"({m['seconds']:.1f} s, {memory_rows / m['seconds']:,.0f} rows/s, {m['file_mb']:,.0f} MB file)"
            )
        self.stdout.write(
            f"candidate query alone                     {f['candidates']:7.2f} s   ({f['n_candidates']} rows)"
        )
        self.stdout.write(f"whole cross-check, writing leads          {f['crosscheck']:7.2f} s   ({f['leads']} leads)")
        self.stdout.write(
            f"re-run with nothing new                   {f['rerun']:7.2f} s   ({f['rerun_people']} people recomputed)"
        )

    def _county(self, rng, n_people):
        t0 = time.perf_counter()
        county, _ = County.objects.get_or_create(code="990100", defaults={"name": "基准测试县"})
        for name, villages in TOWNS.items():
            township = Township.objects.create(county=county, name=name)
            Village.objects.bulk_create([Village(township=township, name=v) for v in villages])
        policy_load_preset(name="maoming-2018", county=county, activate=True)
        self.people = rdemo.make_people(rng, n_people, TOWNS, region="990101")
        rows = []
        for p in self.people:
            category = rng.choice(["DB", "DB", "DB", "TK", "JD", "JD"])
            start = datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randrange(1700))
            end = None
            if rng.random() < 0.15:
                end = start + datetime.timedelta(days=rng.randrange(30, 500))
            row = rdemo.roster_row(p, category, start, end)
            row[-1] = "民政"
            rows.append(row)
        content = rdemo.to_csv(rows, encoding="utf-8")
        check = validate_roster(content, "bench.csv", default_source="MZ", today=datetime.date(YEAR, 12, 31))
        if not check.ok:
            raise CommandError(f"generated roster invalid: {check.errors[:3]}")
        apply_roster(check.rows, import_id=None, snapshot_date=None, snapshot_source="MZ", township_id=None)
        # As in a county that has been running: the registry and the policy date from before today's
        # runs (a re-run then recomputes only people whose data changed since the last one).
        with connection.cursor() as cursor:
            cursor.execute("UPDATE recipients_identity SET updated_at = updated_at - interval '1 day'")
            cursor.execute("UPDATE recipients_person SET updated_at = updated_at - interval '1 day'")
            cursor.execute("UPDATE applications_policyversion SET activated_at = activated_at - interval '1 day'")
            cursor.execute(
                "UPDATE audit_auditevent SET created_at = created_at - interval '1 day' WHERE created_at > now() - interval '1 hour'"
            )
            cursor.execute("ANALYZE recipients_person")
            cursor.execute("ANALYZE recipients_identity")
        self.stdout.write(f"county: {n_people} recipients in {time.perf_counter() - t0:.1f} s")

    def _settlements_csv(self, rng, n, prefix="JS"):
        t0 = time.perf_counter()
        outsiders = [
            rdemo.make_id_number(
                rng, "990102", datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(25000))
            )
            for _ in range(max(1, n // 100))
        ]
        buffer = io.StringIO()
        buffer.write(",".join(demo.HEADERS) + "\r\n")
        start = datetime.date(YEAR, 1, 1)
        for i in range(n):
            if rng.random() < 0.92:
                p = self.people[rng.randrange(len(self.people))]
                id_number, name = p.id_number, p.name
            else:
                id_number, name = rng.choice(outsiders), "外来"
            remote = rng.random() < 0.08
            ratio = 0 if remote or rng.random() < 0.06 else 0.7
            row = demo.settlement_row(
                rng,
                f"{prefix}{YEAR}{i:09d}",
                id_number,
                name,
                service_date=start + datetime.timedelta(days=rng.randrange(300)),
                onestop_ratio=ratio,
                remote=remote,
            )
            buffer.write(",".join(row) + "\r\n")
        content = buffer.getvalue().encode("utf-8")
        self.stdout.write(
            f"settlements: {n} rows, {len(content) / 1e6:.0f} MB CSV generated in {time.perf_counter() - t0:.1f} s"
        )
        return content

    def _commit_work(self, cursor):
        """What COMMIT would still do: the deferred foreign-key checks."""
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _import(self, content):
        data = content.split(b"\n", 1)[1]
        record = SettlementImport.objects.create(file_name="bench.csv", file_hash="0" * 64, file_size=len(content))
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE bench_bare ({', '.join(f'c{i} text' for i in range(len(demo.HEADERS)))})"
            )
            t0 = time.perf_counter()
            with cursor.cursor.copy("COPY bench_bare FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
            self.figures["bare"] = time.perf_counter() - t0
            cursor.execute("DROP TABLE bench_bare")
        del data
        today = datetime.date(YEAR, 12, 31)
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            outcome = import_settlements_file(content, "bench.csv", import_id=record.pk, today=today, write=True)
            self._commit_work(cursor)
            self.figures["import"] = time.perf_counter() - t0
        if not outcome.ok or not outcome.checked_in_sql:
            raise CommandError(f"import did not take the SQL path: {outcome.errors[:3]}")
        self.figures["rows"], self.figures["import_path"] = outcome.added, outcome.path
        self._limit()
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            again = import_settlements_file(content, "bench.csv", import_id=record.pk, today=today, write=True)
            self._commit_work(cursor)
            self.figures["reimport"] = time.perf_counter() - t0
        self.figures["reimport_path"] = again.path
        if again.added or again.updated:
            raise CommandError("re-import changed rows")
        self.stdout.write(
            f"import: {outcome.added} added, {outcome.unregistered} of people not in the registry; "
            f"re-import: {again.unchanged} unchanged"
        )

    def _limit(self):
        """COPY the rows the import wrote, as typed rows, into an empty table shaped like the real one."""
        columns = f"{sql.STAGE_COLUMNS}, last_import_id"
        with connection.cursor() as cursor:
            typed = io.BytesIO()
            with cursor.cursor.copy(f"COPY (SELECT {columns} FROM settlements_settlement) TO STDOUT") as copy:
                for block in copy:
                    typed.write(block)
            typed = typed.getvalue()
            cursor.execute("CREATE TABLE bench_limit (LIKE settlements_settlement INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'settlements_settlement'::regclass AND contype = 'f'"
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE bench_limit ADD {definition}")
            t0 = time.perf_counter()
            with cursor.cursor.copy(f"COPY bench_limit ({columns}) FROM STDIN") as copy:
                for start in range(0, len(typed), 1 << 20):
                    copy.write(typed[start : start + (1 << 20)])
            self._commit_work(cursor)
            self.figures["limit"] = time.perf_counter() - t0
            cursor.execute("DROP TABLE bench_limit")

    def _memory(self, rng, n):
        """Peak memory of `import_settlements` on an n-row file, in a process of its own (rolled back)."""
        path = Path(tempfile.gettempdir()) / "bench-memory.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(",".join(demo.HEADERS) + "\r\n")
            ids = [
                rdemo.make_id_number(
                    rng, "990103", datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(25000))
                )
                for _ in range(max(1, n // 10))
            ]
            start = datetime.date(YEAR, 1, 1)
            for i in range(n):
                day = start + datetime.timedelta(days=rng.randrange(300))
                row = demo.settlement_row(rng, f"JM{YEAR}{i:09d}", rng.choice(ids), "外来", service_date=day)
                out.write(",".join(row) + "\r\n")
        try:
            self.figures["memory"] = child_peak("import_settlements", str(path))
            self.figures["memory"]["file_mb"] = path.stat().st_size / 1e6
        finally:
            path.unlink()

    def _crosscheck(self):
        start, end = year_window(YEAR)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            t0 = time.perf_counter()
            cursor.execute(CANDIDATES_SQL, {"start": start, "end": end})
            rows = cursor.fetchall()
            self.figures["candidates"] = time.perf_counter() - t0
            cursor.execute("RESET enable_nestloop")
        self.figures["n_candidates"] = len(rows)
        t0 = time.perf_counter()
        job = crosscheck_now(year=YEAR, reason="benchmark")
        self.figures["crosscheck"] = time.perf_counter() - t0
        self.figures["leads"] = Lead.objects.count()
        self.stdout.write(
            f"cross-check: {job.rows_examined} examined, {job.candidates} candidates, {job.people} people, "
            f"{job.created} leads, {job.total_amount} yuan"
        )
        t0 = time.perf_counter()
        again = crosscheck_now(year=YEAR, reason="benchmark re-run")
        self.figures["rerun"] = time.perf_counter() - t0
        self.figures["rerun_people"] = again.people
        if again.created or again.updated or again.closed:
            raise CommandError(f"re-run changed leads: {again.created}/{again.updated}/{again.closed}")
