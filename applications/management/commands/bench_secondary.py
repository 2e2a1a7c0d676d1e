"""Benchmark of the 二次救助 trigger on PostgreSQL: a full recompute over a generated county, then a recompute of
only the people a 10,000-row settlement import touched. Everything is rolled back at the end."""

import datetime
import random
import time

from django.core.management.base import CommandError
from django.db import connection

from applications.models import Case
from applications.secondary.trigger import secondary_run
from lib.bench import rolled_back
from settlements.importer import import_settlements_file

from .. import jobbench
from .bench_crosscheck import YEAR
from .bench_crosscheck import Command as CrosscheckBench


class Command(CrosscheckBench):
    help = "Time the secondary-assistance trigger: full recompute and affected people only (PostgreSQL only)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--new", type=int, default=10_000, help="rows of the second import")

    def handle(self, *args, people, settlements, seed, new, **options):
        if options["workers"]:  # the job on real workers, in scratch databases (applications/management/jobbench.py)
            return jobbench.bench_jobs(
                self, kind="secondary", sizes=settlements, people_per_million=people, seed=seed, options=options
            )
        settlements = settlements[0]
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        rng = random.Random(seed)
        self.figures = {}
        with rolled_back():
            self._county(rng, people)
            content = self._settlements_csv(rng, settlements)
            outcome = import_settlements_file(content, "bench.csv", import_id=None, today=self._today(), write=True)
            if not outcome.ok:
                raise CommandError(f"generated file invalid: {outcome.errors[:3]}")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE settlements_settlement")
            t0 = time.perf_counter()
            full = secondary_run(year=YEAR)
            self.figures["full"] = time.perf_counter() - t0
            self.stdout.write(
                f"full recompute: {full.people} people, {full.created} secondary cases, {full.total} yuan"
            )
            more = self._settlements_csv(random.Random(seed + 1), new, prefix="JX")
            outcome = import_settlements_file(more, "more.csv", import_id=None, today=self._today(), write=True)
            t0 = time.perf_counter()
            part = secondary_run(year=YEAR, person_ids=outcome.person_ids)
            self.figures["affected"] = time.perf_counter() - t0
            self.stdout.write(
                f"after {new} new settlements: {len(outcome.person_ids)} people recomputed, "
                f"{part.created} created, {part.updated} updated"
            )
            self.figures["cases"] = Case.objects.filter(source=Case.Source.SECONDARY).count()
        f = self.figures
        self.stdout.write("")
        self.stdout.write(
            f"full recompute (every person-year)          {f['full']:7.2f} s   ({f['cases']} cases in the end)"
        )
        self.stdout.write(f"recompute after a {new}-row import            {f['affected']:7.2f} s")

    @staticmethod
    def _today():
        return datetime.date(YEAR, 12, 31)
