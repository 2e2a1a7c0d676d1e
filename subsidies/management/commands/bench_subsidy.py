"""Benchmark of 资助参保 on PostgreSQL: a county of N recipients (default 100,000), its 资助参保名单 built and
exported, and an N-row enrolment result imported, against its limit built in the same run.

The limit is a COPY of the rows the import wrote (copied back out of subsidies_enrolment) into an empty table with
the result table's keys, checks, indexes and foreign keys; deferred constraints are checked inside every timed
step (what COMMIT would do). Everything runs inside one transaction that is rolled back at the end: the database
is left as it was. Figures are wall-clock seconds on this machine."""

import datetime
import io
import os
import random
import tempfile
import time
import tracemalloc
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from lib.bench import rolled_back, vacuum
from recipients import demo
from recipients.models import County, Identity, Person, Township, Village
from subsidies.exports import entry_rows, subsidy_workbook
from subsidies.listing import build_list
from subsidies.models import Enrolment, SubsidyEntry
from subsidies.services import subsidy_rules_activate, subsidy_rules_confirm, subsidy_rules_load_preset
from subsidies.staging import HEADERS

TOWNS = {f"基准{i:02d}镇": [f"基准{i:02d}镇{j}村" for j in range(6)] for i in range(20)}
YEAR = 2026
LIST_TARGET, IMPORT_TARGET = 10.0, 1.5


class Command(BaseCommand):
    help = "Time the 资助参保 list (build + export) and a result import against a COPY of its rows (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, people, seed, **options):
        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        if people < 1000:
            raise CommandError("--people 至少为 1000")
        rng = random.Random(seed)
        out = {}
        vacuum("recipients_person", "recipients_identity", "subsidies_subsidyentry", "subsidies_enrolment")
        with rolled_back():
            county = self._registry(rng, people)
            rule_set = self._rules(county)
            self._commit_work()  # the registry's deferred checks: not part of what is timed
            out["build_sql"], counts = self._timed(lambda: build_list(rule_set))
            out["build_checks"], _ = self._timed(self._commit_work)
            out["build"] = out["build_sql"] + out["build_checks"]
            entries = SubsidyEntry.objects.filter(year=YEAR, township__county=county)
            with tempfile.TemporaryDirectory() as scratch:
                path = os.path.join(scratch, "list.xlsx")
                out["export"], (_, rows) = self._timed(
                    lambda: subsidy_workbook(entry_rows(entries), masked=False, target=path)
                )
                size = os.path.getsize(path)
                out["command"], _ = self._timed(
                    lambda: call_command("export_subsidy_list", path, "--year", str(YEAR), stdout=io.StringIO())
                )
                self._commit_work()
                out["peak"] = self._peak(entries, os.path.join(scratch, "again.xlsx"))
                result = self._result_file(rng, entries, os.path.join(scratch, "result.csv"))
                out["import"], first = self._import(result)
                out["limit"] = self._limit()
                out["reimport"], again = self._import(result)
        self._print(people, counts, rows, size, out, first, again)

    # --- data ---------------------------------------------------------------------------------------------

    def _registry(self, rng, count: int):
        county = County.objects.create(name="基准测试县", code="990102")
        towns = {}
        for i, (name, villages) in enumerate(TOWNS.items()):
            towns[name] = Township.objects.create(county=county, name=name, code=f"990102{i:03d}")
            Village.objects.bulk_create(Village(township=towns[name], name=v) for v in villages)
        made = demo.make_people(rng, count, TOWNS, region="990102")
        Person.objects.bulk_create(
            (
                Person(
                    id_number=p.id_number,
                    name=p.name,
                    sex="M" if int(p.id_number[16]) % 2 else "F",
                    birth_date=p.birth,
                    township=towns[p.township],
                    phone=p.phone,
                )
                for p in made
            ),
            batch_size=5000,
        )
        ids = list(Person.objects.filter(township__county=county).values_list("pk", flat=True))
        categories, weights = list(demo.CATEGORY_WEIGHTS), list(demo.CATEGORY_WEIGHTS.values())
        identities = []
        reference = datetime.date(YEAR - 1, 12, 31)
        for pk in ids:
            # Everyone holds an identity on the reference date, but one in twenty recognised during the year (当年新增);
            # one in ten ends after the reference date (still listed).
            if rng.random() < 0.05:
                start = reference + datetime.timedelta(days=rng.randrange(1, 180))
            else:
                start = datetime.date(2019, 1, 1) + datetime.timedelta(
                    days=rng.randrange((reference - datetime.date(2019, 1, 1)).days)
                )
            end = None if rng.random() < 0.9 else reference + datetime.timedelta(days=rng.randrange(1, 300))
            identities.append(
                Identity(
                    person_id=pk,
                    category=rng.choices(categories, weights)[0],
                    source="MZ",
                    valid_from=start,
                    valid_to=max(end, start) if end else None,
                )
            )
            if rng.random() < 0.15 and identities[-1].category != "TK":  # a second identity: 就高不重复 decides
                identities.append(Identity(person_id=pk, category="TK", source="MZ", valid_from=start))
        Identity.objects.bulk_create(identities, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE recipients_person")
            cursor.execute("ANALYZE recipients_identity")
        self.stdout.write(f"registry: {len(ids):,} people, {len(identities):,} identities")
        return county

    def _rules(self, county):
        rule_set, _ = subsidy_rules_load_preset(name="national-2021", county=county, year=YEAR, premium=Decimal("380"))
        # Every category subsidised (the national framework's local rules filled in): everyone is listed.
        rule_set.rules.filter(mode="fixed").update(amount=Decimal("250"))
        rule_set.rules.filter(category__in=["GE", "SW", "JD"]).update(mode="full")
        rule_set.rules.filter(category__in=["BY", "DSR", "ZB", "QT"]).update(mode="fixed", amount=Decimal("200"))
        subsidy_rules_confirm(rule_set=rule_set, user=None)
        return subsidy_rules_activate(rule_set=rule_set, user=None)

    def _result_file(self, rng, entries, path: str) -> str:
        """Every listed person: 95% enrolled paying their share (on one of the collection period's days)."""
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(HEADERS) + "\r\n")
            for id_number, pays in entries.values_list("person__id_number", "person_pays").iterator(chunk_size=5000):
                if rng.random() < 0.95:
                    day = datetime.date(2025, 9, 1) + datetime.timedelta(days=rng.randrange(120))
                    handle.write(f"{id_number},{YEAR},已参保,{pays},{day.isoformat()}\r\n")
                else:
                    handle.write(f"{id_number},{YEAR},未参保,,\r\n")
        return path

    # --- timings ------------------------------------------------------------------------------------------

    def _timed(self, fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    def _commit_work(self):
        """What COMMIT would still do: the deferred foreign-key checks."""
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _peak(self, entries, path: str) -> float:
        """Peak Python memory of an export (tracemalloc, a separate untimed run), in MB."""
        tracemalloc.start()
        subsidy_workbook(entry_rows(entries), masked=False, target=path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 2**20

    def _import(self, path: str):
        from audit.models import AuditEvent
        from subsidies.models import EnrolmentImport

        output = io.StringIO()
        start = time.perf_counter()
        call_command("import_enrolment", path, "--year", str(YEAR), stdout=output)
        command = time.perf_counter() - start
        self._commit_work()
        seconds = time.perf_counter() - start
        record = EnrolmentImport.objects.latest("pk")
        steps = AuditEvent.objects.filter(action="enrolment_import.apply", object_id=str(record.pk)).get().after
        record.steps = {
            **steps.get("seconds", {}),
            "command": round(command, 3),
            "deferred checks": round(seconds - command, 3),
        }
        return seconds, (record, output.getvalue().splitlines()[0])

    def _limit(self) -> float:
        """COPY the result rows the import wrote into an empty table shaped like the real one."""
        table = Enrolment._meta.db_table
        with connection.cursor() as cursor:
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            cursor.execute(f"CREATE TABLE bench_enrolment (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE bench_enrolment ADD {definition}")
            start = time.perf_counter()
            with cursor.cursor.copy("COPY bench_enrolment FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            self._commit_work()
            seconds = time.perf_counter() - start
            cursor.execute("DROP TABLE bench_enrolment")
        return seconds

    def _print(self, people, counts, rows, size, out, first, again):
        built_and_exported = out["build"] + out["export"]
        limit = out["limit"]
        (record, line), (record2, _) = first, again
        w = self.stdout.write
        w(f"{timezone.localdate()}, PostgreSQL, {people:,} recipients")
        w(
            f"list: {counts.listed:,} people ({counts.reference:,} on the reference date, {counts.new_in_year:,} added "
            f"in the year), subsidy total {counts.total:,.2f} yuan"
        )
        w(f"  build (set-based SQL)                       {out['build_sql']:7.2f} s")
        w(f"  its deferred foreign-key checks             {out['build_checks']:7.2f} s")
        w(f"  export §9, {rows:,} rows, {size / 1e6:.1f} MB (XlsxWriter) {out['export']:7.2f} s")
        verdict = "met" if built_and_exported <= LIST_TARGET else "NOT met"
        w(
            f"  built + exported                            {built_and_exported:7.2f} s   ≤ {LIST_TARGET:.0f} s — {verdict}"
        )
        w(f"  export_subsidy_list (rebuild + export)      {out['command']:7.2f} s")
        w(f"  export peak Python memory (tracemalloc)     {out['peak']:7.1f} MB")
        w(
            f"result import, {record.total_rows:,} rows ({record.rows_enrolled:,} enrolled, "
            f"{record.rows_not_enrolled:,} not enrolled)"
        )
        w(f"  limit: COPY of the written rows, real shape {limit:7.2f} s")
        ratio = out["import"] / limit
        verdict = "met" if ratio <= IMPORT_TARGET else "NOT met"
        w(
            f"  import_enrolment, new results               {out['import']:7.2f} s   {ratio:.2f}× limit "
            f"(≤ {IMPORT_TARGET}× — {verdict})"
        )
        w(
            f"  import_enrolment, same file again           {out['reimport']:7.2f} s   {out['reimport'] / limit:.2f}× limit "
            f"({record2.rows_unchanged:,} unchanged)"
        )
        w("  where the new import's time went (s): " + ", ".join(f"{k} {v}" for k, v in record.steps.items()))
        w(f"  summary: {line}")
        w("(all work rolled back; the database is unchanged)")
