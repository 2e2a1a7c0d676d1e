"""Benchmark of the jobs that share the work (`bench_crosscheck` / `bench_secondary` with --workers).

For each size a county is generated as the benchmark commands build it (people in proportion, one year of
settlements) and committed to a scratch database of its own (<database>_jobs_<size>, named after the configured
database so that benches on other databases never share one; created here, dropped at the end unless --keep-db,
reused, migrated first, when it already holds that size and seed). For each worker count, the job's
results are emptied, that many real Celery workers (prefork, one child each) are started on the scratch database,
the job is requested as the job page does, and the bench waits for it: wall time from the request to the job's
end, and each worker child's peak resident memory (the kernel's high-water mark, VmHWM). Every figure is printed
in one table, with the time per million settlements and a straight-line projection to 10,000,000.
"""

import datetime
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from applications.models import Job
from applications.proactive.crosscheck import crosscheck_request
from applications.secondary.services import secondary_request
from settlements.importer import import_settlements_file

YEAR = 2025
# What a run writes, emptied before each run so that every run recomputes everybody from the same state.
OUTPUTS = [
    "applications_leadcontact",
    "applications_leadsettlement",
    "applications_lead",
    "applications_yearlyburden",
    "applications_casetransition",
    "applications_bill",
    "applications_case",
    "applications_ledgerentry",
    "applications_jobchunk",
    "applications_job",
]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="run the job on this many real Celery workers (several counts: one run each), in scratch databases "
        "built per --settlements size; needs REDIS_URL",
    )
    parser.add_argument("--chunk-people", type=int, help="JOB_CHUNK_PEOPLE for the workers")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size and worker count")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch databases (the next bench reuses)")


@dataclass
class Run:
    settlements: int
    people: int
    workers: int
    wall: float
    job_seconds: float
    peaks_mb: list[float]
    chunks: int
    job: dict


def bench_jobs(command, *, kind: str, sizes: list[int], people_per_million: int, seed: int, options) -> None:
    if connection.vendor != "postgresql":
        raise CommandError("基准测试需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise CommandError("--workers 需要真正的 Celery 队列：请设置 REDIS_URL=redis://…")
    out = command.stdout
    base = dict(connection.settings_dict)
    runs: list[Run] = []
    try:
        for size in sizes:
            name = _scratch(base, size)
            people = max(1, people_per_million * size // 1_000_000)
            _use(base, name)
            if _built(base, name, size, people, seed):
                call_command("migrate", verbosity=0)  # a database kept from an earlier schema
            else:
                _create(base, name)
                _use(base, name)
                t0 = time.perf_counter()
                call_command("migrate", verbosity=0)
                _build(command, size=size, people=people, seed=seed)
                out.write(f"{name}: built in {time.perf_counter() - t0:.0f} s")
            for workers in options["workers"]:
                for _ in range(options["repeat"]):
                    run = _run(kind, base, name, size=size, people=people, workers=workers, options=options)
                    runs.append(run)
                    out.write(
                        f"  {size:>12,} settlements, {workers} worker(s): {run.wall:7.1f} s, peak "
                        f"{max(run.peaks_mb):,.0f} MB, {run.chunks} chunks"
                    )
    finally:
        connections.close_all()
        connection.settings_dict.update(NAME=base["NAME"])
        if not options["keep_db"]:
            for size in sizes:
                _drop(base, _scratch(base, size))
    _report(out, kind, runs, chunk_people=options.get("chunk_people") or settings.JOB_CHUNK_PEOPLE)


def _scratch(base: dict, size: int) -> str:
    return f"{base['NAME']}_jobs_{size}"


def _conninfo(base: dict, name: str) -> str:
    return psycopg.conninfo.make_conninfo(
        host=base["HOST"] or "127.0.0.1",
        port=base["PORT"] or 5432,
        user=base["USER"],
        password=base["PASSWORD"],
        dbname=name,
    )


def _url(base: dict, name: str) -> str:
    host, port = base["HOST"] or "127.0.0.1", base["PORT"] or 5432
    return f"postgres://{base['USER']}:{base['PASSWORD']}@{host}:{port}/{name}"


def _use(base: dict, name: str) -> None:
    """Point this process's connection at another database (as Django's test runner does)."""
    connections.close_all()
    connection.settings_dict["NAME"] = name


def _admin(base: dict, sql: str) -> None:
    with psycopg.connect(_conninfo(base, "postgres"), autocommit=True) as admin:
        admin.execute(sql)


def _create(base, name) -> None:
    connections.close_all()
    _drop(base, name)
    _admin(base, f'CREATE DATABASE "{name}"')


def _drop(base, name) -> None:
    connections.close_all()
    _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _built(base, name, size, people, seed) -> bool:
    try:
        with psycopg.connect(_conninfo(base, name)) as db:
            row = db.execute("SELECT settlements, people, seed FROM bench_built").fetchone()
    except psycopg.Error:
        return False
    return row == (size, people, seed)


def _build(command, *, size: int, people: int, seed: int) -> None:
    """The benchmark county, committed: the bench command's own generators, then one settlement import."""
    rng = random.Random(seed)
    with transaction.atomic():  # as the imports run, each in its transaction
        command._county(rng, people)
    content = command._settlements_csv(rng, size)
    t0 = time.perf_counter()
    with transaction.atomic():
        outcome = import_settlements_file(
            content, "bench.csv", import_id=None, today=datetime.date(YEAR, 12, 31), write=True
        )
    if not outcome.ok:
        raise CommandError(f"generated file invalid: {outcome.errors[:3]}")
    command.stdout.write(f"import: {outcome.added:,} settlements in {time.perf_counter() - t0:.0f} s")
    del content
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_built (settlements bigint, people bigint, seed bigint)")
        cursor.execute("INSERT INTO bench_built VALUES (%s, %s, %s)", [size, people, seed])
    connections.close_all()
    with psycopg.connect(_conninfo(connection.settings_dict, connection.settings_dict["NAME"]), autocommit=True) as db:
        db.execute("VACUUM ANALYZE")


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(OUTPUTS)} RESTART IDENTITY CASCADE")
        cursor.execute("ANALYZE")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _start_workers(base, name, n: int, options, log_dir: str) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": _url(base, name)}
    if options.get("chunk_people"):
        env["JOB_CHUNK_PEOPLE"] = str(options["chunk_people"])
    workers = []
    for i in range(n):
        log = open(os.path.join(log_dir, f"bench-worker-{i}.log"), "wb")  # noqa: SIM115 (closed with the process)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "-n",
                    f"bench{i}@%h",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )  # fmt: skip
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(_children(w.pid) for w in workers):
        time.sleep(0.2)
    time.sleep(2)  # connected to the broker
    return workers


def _stop(workers) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()


def _run(kind, base, name, *, size, people, workers, options) -> Run:
    from config.celery import app

    _use(base, name)
    _reset()
    app.control.purge()
    log_dir = str(settings.BASE_DIR / "var")
    os.makedirs(log_dir, exist_ok=True)
    procs = _start_workers(base, name, workers, options, log_dir)
    try:
        request = crosscheck_request if kind == Job.Kind.CROSSCHECK else secondary_request
        t0 = time.perf_counter()
        job = request(year=YEAR, reason=f"benchmark, {workers} worker(s)")
        while job.status not in (Job.Status.DONE, Job.Status.FAILED, Job.Status.CANCELLED):
            time.sleep(0.1)
            job.refresh_from_db()
            if time.perf_counter() - t0 > 3600:
                raise CommandError(f"job #{job.pk} did not finish in an hour: {job.phase}")
        wall = time.perf_counter() - t0
        peaks = [_peak_mb(child) for w in procs for child in _children(w.pid)]
    finally:
        _stop(procs)
    if job.status != Job.Status.DONE:
        raise CommandError(f"job #{job.pk} {job.status}: {job.message}")
    figures = {
        "candidates": job.candidates,
        "people": job.people,
        "created": job.created,
        "updated": job.updated,
        "total": job.total_amount,
    }
    return Run(size, people, workers, wall, job.duration.total_seconds(), peaks, job.chunks_total, figures)


def _report(out, kind, runs: list[Run], *, chunk_people: int) -> None:
    if not runs:
        return
    out.write("")
    out.write(f"{Job.Kind(kind).label} on real workers, chunks of {chunk_people:,} people")
    out.write(
        f"{'settlements':>12} {'people':>9} {'workers':>7} {'chunks':>6} {'wall s':>8} {'s / million':>11} "
        f"{'peak MB per worker':>20} {'× 1 worker':>10}  results"
    )
    one = {}
    for r in runs:
        if r.workers == 1:
            one.setdefault(r.settlements, r.wall)
    for r in runs:
        ratio = f"{r.wall / one[r.settlements]:.2f}" if r.settlements in one else ""
        peaks = " / ".join(f"{p:,.0f}" for p in r.peaks_mb)
        out.write(
            f"{r.settlements:>12,} {r.people:>9,} {r.workers:>7} {r.chunks:>6} {r.wall:>8.1f} "
            f"{r.wall / (r.settlements / 1e6):>11.1f} {peaks:>20} {ratio:>10}  "
            f"{r.job['people']:,} people, {r.job['created']:,} created, {r.job['total']} yuan"
        )
    for workers in sorted({r.workers for r in runs}):
        points = {}
        for r in runs:
            if r.workers == workers:
                points.setdefault(r.settlements, []).append(r.wall)
        if len(points) < 2:
            continue
        (x0, t0), (x1, t1) = [(x, min(ts)) for x, ts in sorted(points.items())][:1] + [
            (x, min(ts)) for x, ts in sorted(points.items())
        ][-1:]
        slope = (t1 - t0) / (x1 - x0)
        at = t0 + slope * (10_000_000 - x0)
        peak = max(max(r.peaks_mb) for r in runs if r.workers == workers)
        out.write(
            f"projection, {workers} worker(s), 10,000,000 settlements: {at:,.0f} s "
            f"({slope * 1e6:.1f} s per further million, straight line through the fastest runs at "
            f"{x0:,} and {x1:,}); peak memory per worker stays about {peak:,.0f} MB (chunks of fixed size)"
        )
