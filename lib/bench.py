"""Benchmark commands build their data inside a transaction that is always rolled back."""

import contextlib
import resource
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection, transaction


@contextlib.contextmanager
def rolled_back():
    """Run the block in a transaction that is rolled back at the end: the database is left as it was."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def vacuum(*tables: str) -> None:
    """VACUUM the tables a benchmark writes (outside any transaction): the rows an earlier run rolled back leave dead
    index entries under the same keys, which every insert of those keys steps over, while a limit's tables are new.
    A real installation's tables are kept clean by autovacuum. `tables` are names from the code."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")


def child_peak(command: str, *args: str) -> dict:
    """Run `manage.py <command> <args>` in a process of its own, rolled back (bench_child), and return its wall
    time and peak resident memory (the kernel's high-water mark of the child, in MB)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_child", command, *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "output": done.stdout}
