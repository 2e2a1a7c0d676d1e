"""The load test of `bench_pages`: the county of seed_county in a database of its own (built once, then reused),
gunicorn serving the portal on loopback as production does (DEBUG off, static files collected and served by
WhiteNoise, the settings from the environment), and Locust (benchmarks/locustfile.py) with 20 users for 60
seconds; then each page's figures from every request's time: count, p50, p95, slowest, pass when p95 ≤ 500 ms."""

import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from . import county, pages

TARGET_MS = 500


@dataclass
class Options:
    database: str
    users: int = 20
    seconds: int = 60
    # Measured after this many seconds: the users' logins (Argon2, slow on purpose) and first pages.
    warmup: int = 10
    workers: int = 4
    wait_min: float = 1.0
    wait_max: float = 3.0
    rebuild: bool = False
    size: county.Size = county.Size()


# --- the database ---------------------------------------------------------------------------------


def _conninfo(name: str) -> str:
    base = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        host=base["HOST"] or "127.0.0.1",
        port=base["PORT"] or 5432,
        user=base["USER"],
        password=base["PASSWORD"],
        dbname=name,
    )


def database_url(name: str) -> str:
    base = connection.settings_dict
    host, port = base["HOST"] or "127.0.0.1", base["PORT"] or 5432
    return f"postgres://{base['USER']}:{base['PASSWORD']}@{host}:{port}/{name}"


def use_database(name: str) -> None:
    """Point this process's connection at another database (as Django's test runner does)."""
    connections.close_all()
    connection.settings_dict["NAME"] = name


def _exists(name: str) -> bool:
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def prepare_database(options: Options, out) -> dict:
    """The county at full size in the database named: reused when seed_county built it at this size, built when
    the database is missing or empty (or --rebuild); a database holding other data is refused."""
    name = options.database
    if _exists(name) and not options.rebuild:
        use_database(name)
        built = county.built_size()
        if built and (built["people"], built["settlements"], built["cases"]) == (
            options.size.people,
            options.size.settlements,
            options.size.cases,
        ):
            call_command("migrate", verbosity=0)  # the indexes of the code under test
            out(
                f"{name}: 已有 {built['people']:,} 人、{built['settlements']:,} 条结算（{built['built_at']:%Y-%m-%d} 生成）"
            )
            return built
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            tables = cursor.fetchone()[0]
        if tables and not built:
            raise RuntimeError(f"数据库 {name} 已有其他数据：请用 --database 指定另一个库，或 --rebuild 重建")
    connections.close_all()
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    use_database(name)
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    county.build(size=options.size, seed=1, out=out)
    out(f"{name}: 生成用时 {time.perf_counter() - t0:.0f} s")
    return county.built_size()


# --- gunicorn and Locust ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(name: str, static_root: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(name),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_ROOT": static_root,
        # Plain HTTP on loopback: no proxy in front to terminate HTTPS.
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_HSTS_SECONDS": "0",
        # A cache of this run's own: every run starts with nothing kept (lib.cached).
        "DJANGO_CACHE_PREFIX": f"bench-pages-{secrets.token_hex(4)}",
    }
    for name in ("DJANGO_DEBUG", "DJANGO_TESTING"):
        env.pop(name, None)
    return env


def _wait_until_served(url: str, process: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start (see var/bench-gunicorn.log)")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} not served within {seconds} s")


def prime(host: str, plan: dict) -> list[dict]:
    """Each request of the plan once, login by login, before the load: the figures kept in the cache are computed
    as a day's first views compute them (the load test then measures a portal in use). Returns their times."""
    import requests  # installed with Locust (requirements-bench.txt), as the load test needs

    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    passwords = {u["login"]: u["password"] for u in plan["users"]}
    times = []
    for login in dict.fromkeys(r["login"] for r in plan["requests"]):
        session = requests.Session()
        page = session.get(f"{host}/login/", timeout=120)
        csrf = token.search(page.text).group(1)
        session.post(f"{host}/login/", {"username": login, "password": passwords[login], "csrfmiddlewaretoken": csrf})
        for r in (r for r in plan["requests"] if r["login"] == login):
            t0 = time.perf_counter()
            path = r["path"]
            if r["search"]:
                answer = session.post(
                    f"{host}{path}",
                    {"q": r["search"], "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
                    allow_redirects=False,
                    timeout=120,
                )
                path = answer.headers.get("Location", path)
            status = session.get(f"{host}{path}", timeout=120).status_code
            times.append(
                {"page": r["page"], "request": r["name"], "ms": (time.perf_counter() - t0) * 1000, "status": status}
            )
    return times


def run(options: Options, out) -> dict:
    """Build or reuse the county, serve it, load it; return the per-page figures and the load averages."""
    load_before = os.getloadavg()  # the machine's other work, before the bench adds its own
    built = prepare_database(options, out)
    plan = pages.plan_json()
    base = Path(settings.BASE_DIR)
    log_dir = base / "var"
    log_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        plan_file, timings = Path(tmp) / "plan.json", Path(tmp) / "timings.jsonl"
        plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        env = _server_env(options.database, str(Path(tmp) / "static"))
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=base, env=env, check=True
        )
        port = _free_port()
        with open(log_dir / "bench-gunicorn.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(options.workers),
                 "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"],
                cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            # With a broker, a Celery worker as in production: it computes the dashboard's figures again once they
            # are a minute old (reports.dashboard_figures). Give the bench a Redis database of its own.
            worker = None
            if env.get("REDIS_URL"):
                worker = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency",
                     "1", "-n", "bench-pages@%h", "--without-heartbeat", "--without-mingle", "--without-gossip",
                     "--loglevel", "WARNING"],
                    cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                host = f"http://127.0.0.1:{port}"
                _wait_until_served(f"{host}/login/", server)
                primed = prime(host, plan)
                locust_env = {
                    **os.environ,
                    "BENCH_PLAN": str(plan_file),
                    "BENCH_TIMINGS": str(timings),
                    "BENCH_WAIT_MIN": str(options.wait_min),
                    "BENCH_WAIT_MAX": str(options.wait_max),
                }
                t0, started = time.monotonic(), time.time()
                done = subprocess.run(
                    [sys.executable, "-m", "locust", "-f", str(base / "benchmarks" / "locustfile.py"), "--headless",
                     "-u", str(options.users), "-r", str(options.users), "-t", f"{options.warmup + options.seconds}s",
                     "--host", host, "--only-summary", "--stop-timeout", "10"],
                    cwd=base, env=locust_env, capture_output=True, text=True,
                )  # fmt: skip
                wall = time.monotonic() - t0
                load_after = os.getloadavg()
            finally:
                for process in filter(None, (server, worker)):
                    process.send_signal(signal.SIGTERM)
                for process in filter(None, (server, worker)):
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
        (log_dir / "bench-locust.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        rows = [json.loads(line) for line in timings.read_text(encoding="utf-8").splitlines() if line.strip()]
        static = [r for r in rows if "static" in r]
        rows = [r for r in rows if "page" in r]
        warm = [r for r in rows if r["at"] < started + options.warmup]
        rows = [r for r in rows if r["at"] >= started + options.warmup]
    if not rows:
        raise RuntimeError(f"Locust recorded no page (see var/bench-locust.log): {done.stderr[-1500:]}")
    return {
        "built": built,
        "pages": list(dict.fromkeys(r["page"] for r in plan["requests"])),
        "rows": rows,
        "warm": warm,
        "primed": primed,
        "static": static,
        "wall": wall,
        "load_before": load_before,
        "load_after": load_after,
        "locust_exit": done.returncode,
        "worker": worker is not None,
    }


# --- figures ----------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(rows: list[dict], *, order: list[str], by_request: bool = False) -> list[dict]:
    """Per page (or per request of a page): count, failures, p50, p95, slowest, pass (p95 ≤ 500 ms, no failure)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["page"], row["request"]) if by_request else (row["page"],)].append(row)
    rank = {page: i for i, page in enumerate(order)}
    result = []
    for group, items in sorted(groups.items(), key=lambda g: (rank.get(g[0][0], len(rank)), g[0])):
        ms = [r["ms"] for r in items]
        failed = sum(1 for r in items if r["status"] != 200 or r["error"])
        p95 = percentile(ms, 0.95)
        result.append(
            {
                "name": "：".join(group),
                "count": len(items),
                "failed": failed,
                "p50": percentile(ms, 0.5),
                "p95": p95,
                "max": max(ms),
                "ok": p95 <= TARGET_MS and not failed,
            }
        )
    return result
