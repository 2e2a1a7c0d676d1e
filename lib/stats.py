"""Planner statistics after bulk writes (PostgreSQL).

Autovacuum analyses a table some time after it changed; the jobs that run straight after a large import (the
cross-check, on commit) would meanwhile be planned for the table as it was: a first import into an empty
registry left statistics saying "empty", and the next cross-check took minutes of nested loops. ANALYZE inside
the writing transaction counts the rows it wrote, and its statistics become visible when the rows do.
"""

import contextlib

MIN_ROWS = 1000  # below this a plan cannot go badly wrong
SHARE = 0.1  # of the rows the statistics knew of (autovacuum's own default scale factor)


def refresh_statistics(cursor, table: str, *, rows_written: int) -> bool:
    """ANALYZE `table` when the rows just written are many, or many compared with what its statistics knew;
    returns whether it did. `table` is a name from the code, never from input."""
    if rows_written < MIN_ROWS:
        return False
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
    (known,) = cursor.fetchone()
    if rows_written < SHARE * max(known, 0):
        return False
    cursor.execute(f"ANALYZE {table}")
    return True


@contextlib.contextmanager
def hash_joins(cursor):
    """Nested loops off for the block (PostgreSQL; inside a transaction): for statements that join whole tables,
    whose statistics may lag behind rows written in the same transaction and call them tiny."""
    if cursor.db.vendor != "postgresql":
        yield
        return
    cursor.execute("SET LOCAL enable_nestloop = off")
    yield  # on an error, SET LOCAL ends with the transaction
    cursor.execute("RESET enable_nestloop")
