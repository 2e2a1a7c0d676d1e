"""Benchmark commands build their data inside a transaction that is always rolled back."""

import contextlib

from django.db import transaction


@contextlib.contextmanager
def rolled_back():
    """Run the block in a transaction that is rolled back at the end: the database is left as it was."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
