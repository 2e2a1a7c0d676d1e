"""Benchmark of the monitoring job on PostgreSQL.

A generated county — by default 100,000 people of whom a third are in no registry, and 1,000,000 settlements over
the twelve months to the monitored month — is written by SQL (generate_series) inside a transaction that is rolled
back at the end, so this process holds none of it. Then the month is run, and run again with nothing new. Figures
are wall-clock seconds and this process's peak resident memory (the kernel's high-water mark).
"""

import datetime
import os
import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lib.bench import rolled_back
from monitoring.models import Listing, Threshold
from monitoring.run import monitoring_now
from recipients.models import County, Identity, Person, Township
from settlements.models import Settlement

MONTH = datetime.date(2026, 6, 1)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Time the monitoring job over generated settlements (PostgreSQL only); the data is rolled back."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=100_000)
        parser.add_argument("--settlements", type=int, default=1_000_000)
        parser.add_argument("--unregistered-share", type=float, default=1 / 3)

    def handle(self, *args, people, settlements, unregistered_share, **options):
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        registered = int(people * (1 - unregistered_share))
        with rolled_back():
            t0 = time.perf_counter()
            county = self._county(people, registered, settlements)
            built = time.perf_counter() - t0
            base = rss_mb()
            t0 = time.perf_counter()
            first = monitoring_now(month=MONTH, county_id=None, reason="bench")
            first_s = time.perf_counter() - t0
            peak_first = rss_mb()
            t0 = time.perf_counter()
            again = monitoring_now(month=MONTH, reason="bench again")
            again_s = time.perf_counter() - t0
            lines = Listing.objects.filter(month=MONTH, watch__county=county).count()
            unlisted = Listing.objects.filter(month=MONTH, watch__person__isnull=True).count()
        load = os.getloadavg()
        out = self.stdout.write
        out("")
        out(
            f"monitoring job, {settlements:,} settlements of {people:,} people ({people - registered:,} not in the registry)"
        )
        out(f"  data written by SQL in {built:.1f} s (rolled back at the end)")
        out(
            f"  run of {MONTH:%Y-%m}: {first_s:7.2f} s  — {first.people:,} people, {first.above:,} at or above their threshold, "
            f"{first.listed_new:,} listed ({unlisted:,} not in the registry)   target ≤ 60 s: {'met' if first_s <= 60 else 'NOT met'}"
        )
        out(
            f"  re-run, nothing new: {again_s:7.2f} s  — {again.listed_new} new, {again.listed_again} again, {lines:,} lines"
            f"   target ≤ 10 s: {'met' if again_s <= 10 else 'NOT met'}"
        )
        out(
            f"  peak RSS of this process: {peak_first:,.0f} MB (before the run {base:,.0f} MB)   target ≤ 500 MB: "
            f"{'met' if rss_mb() <= 500 else 'NOT met'}"
        )
        out(f"  load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    def _county(self, people: int, registered: int, settlements: int) -> County:
        county, _ = County.objects.get_or_create(code="990200", defaults={"name": "监测基准县"})
        townships = [Township.objects.create(county=county, name=f"监测{i:02d}镇").pk for i in range(20)]
        Threshold.objects.create(county=county, year=MONTH.year, population="registry", amount=10000)
        Threshold.objects.create(county=county, year=MONTH.year, population="general", amount=26000, basis="rolling")
        persons, identities, table = Person._meta.db_table, Identity._meta.db_table, Settlement._meta.db_table
        start = MONTH.replace(year=MONTH.year - 1, month=MONTH.month + 1) if MONTH.month < 12 else MONTH
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {persons} (id_number, name, sex, birth_date, township_id, village_id, phone, bank_name,
                                       bank_account, created_at, updated_at)
                SELECT '9902' || lpad(i::text, 14, '0'), '测试' || i, 'M', DATE '1960-01-01',
                       (%(townships)s::bigint[])[1 + i %% 20], NULL, '', '', '', now(), now()
                FROM generate_series(1, %(registered)s) i
                """,
                {"townships": townships, "registered": registered},
            )
            cursor.execute(
                f"""
                INSERT INTO {identities} (person_id, category, source, valid_from, valid_to, created_at, updated_at)
                SELECT id, 'DB', 'MZ', DATE '2020-01-01', NULL, now(), now() FROM {persons}
                WHERE id_number LIKE '9902%%'
                """
            )
            # Person j of the settlement: the first `registered` are in the registry, the others are not. Costs
            # are exponential (mean about 3,000 yuan), about a third of them stays; some registry stays got one-stop.
            cursor.execute(
                f"""
                INSERT INTO {table} (number, id_number, name, hospital, visit_type, admitted_on, discharged_on,
                                     visit_on, service_date, settled_on, total, in_policy, basic, critical, other,
                                     onestop, out_of_area, diagnosis, major_disease, last_import_id)
                SELECT 'BM' || lpad(s::text, 10, '0'),
                       CASE WHEN j <= %(registered)s THEN '9902' ELSE '8802' END || lpad(j::text, 14, '0'),
                       '测试', '基准医院', '门诊', NULL, NULL, d, d, d,
                       t, round(t * 0.9, 2), round(t * 0.55, 2), round(t * 0.1, 2), 0,
                       CASE WHEN j <= %(registered)s AND s %% 4 = 0 THEN round(t * 0.1, 2) ELSE 0 END,
                       false, '', false, NULL
                FROM (
                    SELECT s, 1 + (s::bigint * 7919) %% %(people)s AS j,
                           %(start)s::date + (s %% 365) AS d,
                           round((100 + 3000 * -ln(1 - random()))::numeric, 2) AS t
                    FROM generate_series(1, %(settlements)s) s
                ) g
                """,
                {"registered": registered, "people": people, "settlements": settlements, "start": start},
            )
            cursor.execute(f"ANALYZE {persons}")
            cursor.execute(f"ANALYZE {table}")
        return county
