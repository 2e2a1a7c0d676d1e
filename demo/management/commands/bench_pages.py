"""The main pages at full size (demo/pages.py, demo/loadtest.py): the county of seed_county in a database of its
own, then a Locust load test against gunicorn on loopback (default) or, with --profile, each request in this
process with its time, its queries and the slowest one (--explain: its plan)."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ... import county, loadtest, pages


class Command(BaseCommand):
    help = "Time the main pages on a county at full size (PostgreSQL only): a Locust load test, or --profile."

    def add_arguments(self, parser):
        parser.add_argument("--database", help="the county's database (default: <DATABASE_URL's name>_pages)")
        parser.add_argument("--rebuild", action="store_true", help="generate the county again")
        parser.add_argument("--users", type=int, default=20)
        parser.add_argument("--seconds", type=int, default=60, help="measured, after --warmup")
        parser.add_argument("--warmup", type=int, default=10, help="seconds not measured: logins, first views")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument("--wait", type=float, nargs=2, default=[1.0, 3.0], help="seconds between pages")
        parser.add_argument("--details", action="store_true", help="also each request of each page")
        parser.add_argument("--profile", action="store_true", help="each request in this process: time, queries")
        parser.add_argument("--explain", action="store_true", help="with --profile: the slowest query's plan")
        parser.add_argument("--only", default="", help="with --profile: requests whose page or name has this")
        parser.add_argument("--repeat", type=int, default=3, help="with --profile: times each, median shown")
        defaults = county.Size()
        parser.add_argument("--people", type=int, default=defaults.people)
        parser.add_argument("--settlements", type=int, default=defaults.settlements)
        parser.add_argument("--cases", type=int, default=defaults.cases)

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        size = county.Size(people=o["people"], settlements=o["settlements"], cases=o["cases"])
        options = loadtest.Options(
            database=o["database"] or f"{connection.settings_dict['NAME']}_pages",
            users=o["users"],
            seconds=o["seconds"],
            warmup=o["warmup"],
            workers=o["workers"],
            wait_min=o["wait"][0],
            wait_max=o["wait"][1],
            rebuild=o["rebuild"],
            size=size,
        )
        try:
            if o["profile"]:
                loadtest.prepare_database(options, self.stdout.write)
                return self._profile(explain=o["explain"], only=o["only"], repeat=o["repeat"])
            result = loadtest.run(options, self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self._report(options, result, details=o["details"])

    def _report(self, options, result, *, details):
        built = result["built"]
        before, after = result["load_before"], result["load_after"]
        self.stdout.write("")
        self.stdout.write(
            f"bench_pages: {options.users} users, {options.seconds} s measured after {options.warmup} s of logins "
            f"({result['wall']:.0f} s wall), "
            f"{options.wait_min:g}–{options.wait_max:g} s between pages, gunicorn {options.workers} workers on "
            f"127.0.0.1{' and a Celery worker' if result['worker'] else ''}; {built['people']:,} people, "
            f"{built['settlements']:,} settlements, {built['cases']:,} cases"
        )
        self.stdout.write(
            f"load average (1 min, {os.cpu_count()} cores): {before[0]:.2f} before the bench, {after[0]:.2f} at its "
            "end (its own work included)"
        )
        rows = result["rows"]
        primed = result["primed"]
        slowest = max(primed, key=lambda r: r["ms"])
        self.stdout.write(
            f"primed: each of the {len(primed)} requests once before the load (a day's first views fill the cache): "
            f"slowest {slowest['ms']:.0f} ms ({slowest['page']}：{slowest['request']}), "
            f"{sum(1 for r in primed if r['status'] != 200)} not 200"
        )
        if result["warm"]:
            warm = [r["ms"] for r in result["warm"]]
            self.stdout.write(
                f"warm-up (not counted): {len(warm)} pages, p95 {loadtest.percentile(warm, 0.95):.0f} ms, "
                f"slowest {max(warm):.0f} ms"
            )
        static = result["static"]
        served = sum(1 for r in static if r["status"] == 200)
        self.stdout.write(
            f"static files (WhiteNoise, collected): {len(static)} fetched by the users' first page, {served} served "
            f"(200), {len({r['static'] for r in static})} distinct"
        )
        table = loadtest.figures(rows, order=result["pages"])
        self._table("page", table)
        if details:
            self.stdout.write("")
            self._table("request", loadtest.figures(rows, order=result["pages"], by_request=True))
        over = [f["name"] for f in table if not f["ok"]]
        self.stdout.write("")
        self.stdout.write(
            f"all {len(table)} pages p95 ≤ {loadtest.TARGET_MS} ms"
            if not over
            else f"{len(over)} of {len(table)} pages over {loadtest.TARGET_MS} ms or failing: {'、'.join(over)}"
        )

    def _table(self, what, table):
        width = max(len(f["name"]) for f in table) + 2
        self.stdout.write(
            f"{what:<{width}} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  ≤ 500 ms"
        )
        for f in table:
            self.stdout.write(
                f"{f['name']:<{width}} {f['count']:>8} {f['failed']:>6} {f['p50']:>7.0f} {f['p95']:>7.0f} "
                f"{f['max']:>7.0f}  {'pass' if f['ok'] else 'FAIL'}"
            )

    def _profile(self, *, explain, only, repeat):
        plan = [q for q in pages.page_plan() if only in q.page or only in q.name]
        results = pages.profile(plan, repeat=repeat, explain=explain)
        self.stdout.write(
            f"{'page':<12} {'request':<22} {'login':<10} {'status':>6} {'ms':>8} {'queries':>8} {'slowest ms':>10}"
        )
        for m in results:
            self.stdout.write(
                f"{m.request.page:<12} {m.request.name:<22} {m.request.login:<10} {m.status:>6} "
                f"{m.seconds * 1000:>8.1f} {m.queries:>8} {m.slowest_seconds * 1000:>10.1f}"
            )
            if explain and m.plan:
                self.stdout.write(m.slowest_sql[:2000])
                self.stdout.write(m.plan)
                self.stdout.write("")
