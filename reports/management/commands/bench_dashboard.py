"""Benchmark of the supervisor dashboard on PostgreSQL: a county-year with 1,000,000 settlements and 100,000
approved cases. Times the summary refresh (the job a commit queues) against a plain aggregate pass over the same
joined rows, and the dashboard page as a supervisor gets it."""

import datetime
import random
import statistics
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from accounts.models import User
from accounts.roles import Role
from applications.management.commands.bench_crosscheck import YEAR
from applications.management.commands.bench_crosscheck import Command as CrosscheckBench
from applications.models import Bill, Case
from lib.bench import rolled_back
from recipients.models import Person
from reports.facts import planner_settings, refresh_facts, rows_sql
from reports.selectors import dashboard
from settlements.importer import import_settlements_file


def timed(work):
    t0 = time.perf_counter()
    result = work()
    return result, time.perf_counter() - t0


def aggregate(sql: str, params: list):
    """One plain aggregate pass over rows: count and money sums, nothing grouped (under the planner settings the
    refresh runs with, so that both are planned alike)."""
    with connection.cursor() as cursor, planner_settings(cursor):
        cursor.execute(f"SELECT COUNT(*), SUM(u.assisted), SUM(u.self_pay) FROM ({sql}) u", params)
        return cursor.fetchone()


class Command(CrosscheckBench):
    help = "Time the dashboard of a county-year with 1,000,000 settlements and 100,000 cases (PostgreSQL only)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--cases", type=int, default=100_000)

    def handle(self, *args, people, settlements, seed, cases, **options):
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        rng = random.Random(seed)
        f = {}
        with rolled_back():
            self._county(rng, people)
            content = self._settlements_csv(rng, settlements)
            import_settlements_file(content, "bench.csv", import_id=None, today=datetime.date(YEAR, 12, 31), write=True)
            self._cases(rng, cases)
            with connection.cursor() as cursor:
                for table in ("settlements_settlement", "applications_case", "applications_bill"):
                    cursor.execute(f"ANALYZE {table}")
            # The floor: the same rows read and joined (settlements ⋈ people ⋈ townships, the anti-join of claimed
            # stays, bills ⋈ cases, secondary cases), summed in one pass, no rule evaluated per row.
            (n_rows, _, _), f["baseline"] = timed(lambda: aggregate(*rows_sql(YEAR, categories=False)))
            # The same with each row's category (the identities valid on its date, first by precedence).
            _, f["categories"] = timed(lambda: aggregate(*rows_sql(YEAR)))
            f["rows"] = n_rows
            f["facts"], f["refresh"] = timed(lambda: refresh_facts(year=YEAR))
            _, f["again"] = timed(lambda: refresh_facts(year=YEAR))
            supervisor = User.objects.create(username="bench-supervisor", role=Role.SUPERVISOR)
            client = Client(SERVER_NAME="localhost", HTTP_HOST="localhost")
            client.force_login(supervisor)
            times = []
            # Static file URLs without a collectstatic manifest (the page is otherwise as served).
            storages = {
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
            for _ in range(5):
                with override_settings(STORAGES=storages):
                    t0 = time.perf_counter()
                    response = client.get("/reports/", {"year": YEAR}, secure=True)  # as behind HTTPS
                    times.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise CommandError(f"dashboard answered {response.status_code}")
            f["render"] = statistics.median(times)
            f["render_max"] = max(times)
            direct = dashboard(year=YEAR)["totals"]["count"]
        self.stdout.write("")
        self.stdout.write(f"rows the summary reads (settlements, bills, secondary cases of {YEAR}): {f['rows']:,}")
        self.stdout.write(
            f"baseline: one plain aggregate pass over the same joined rows      {f['baseline']:7.2f} s"
            f"   ({f['rows'] / f['baseline']:,.0f} rows/s)"
        )
        self.stdout.write(
            f"the same pass with each row's category (identity lookup)          {f['categories']:7.2f} s"
            f"   = {f['categories'] / f['baseline']:.1f}× baseline"
        )
        self.stdout.write(
            f"summary refresh (DELETE + INSERT … SELECT … GROUP BY), {f['facts']:,} rows  {f['refresh']:7.2f} s"
            f"   = {f['refresh'] / f['baseline']:.1f}× baseline, {f['rows'] / f['refresh']:,.0f} rows/s"
        )
        self.stdout.write(f"summary refresh again (replacing the year's rows)                  {f['again']:7.2f} s")
        self.stdout.write(
            f"dashboard page, median of 5 ({direct:,} direct assistances)              {f['render']:7.3f} s "
            f"(slowest {f['render_max']:.3f} s)"
        )

    def _cases(self, rng, n):
        t0 = time.perf_counter()
        people = list(Person.objects.values_list("pk", "township_id")[:n])
        decided = datetime.datetime(YEAR, 6, 30, tzinfo=datetime.UTC)
        Case.objects.bulk_create(
            [
                Case(
                    number=f"BD{YEAR}{k:07d}",
                    person_id=pid,
                    township_id=tid,
                    status=Case.Status.APPROVED,
                    approved_amount=Decimal("800.00"),
                    accepted_on=datetime.date(YEAR, 6, 1),
                    decided_at=decided,
                )
                for k, (pid, tid) in enumerate(people)
            ],
            batch_size=5000,
        )
        ids = Case.objects.filter(number__startswith=f"BD{YEAR}").values_list("pk", flat=True)
        Bill.objects.bulk_create(
            [
                Bill(
                    case_id=cid,
                    hospital="广州医科大学附属第一医院",
                    visit_type="住院",
                    admitted_on=datetime.date(YEAR, 5, 1),
                    discharged_on=datetime.date(YEAR, 5, 10),
                    invoice_number=f"F{cid}",
                    total=Decimal("3000"),
                    in_policy=Decimal("2500"),
                    basic=Decimal("1500"),
                    granted=Decimal("800.00"),
                )
                for cid in ids.iterator(5000)
            ],
            batch_size=5000,
        )
        self.stdout.write(f"cases: {n} approved with one bill each in {time.perf_counter() - t0:.1f} s")
