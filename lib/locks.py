"""PostgreSQL advisory locks by name; on other databases (the embedded SQLite of `make run`, which
serialises writers anyway) they do nothing."""

import contextlib

from django.db import connection


def xact_lock(name: str, key: int = 0) -> None:
    """Hold a named lock until the current transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", [name, key])


def xact_lock_shared(name: str, key: int = 0) -> None:
    """Hold a named lock shared with other holders of it shared, until the current transaction ends: it waits
    for, and holds off, an xact_lock of the same name and key."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s), %s)", [name, key])


@contextlib.contextmanager
def session_lock(name: str, key: int = 0):
    """Hold a named lock for the block; PostgreSQL releases it when the connection ends, even if the
    process dies, so a lock never outlives its holder."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [name, key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [name, key])
