"""lib.locks: named PostgreSQL advisory locks; nothing at all on SQLite (which serialises writers anyway)."""

import threading

import pytest
from django.db import connection, transaction

from lib.locks import session_lock, xact_lock

WAIT = 10  # seconds: only reached if something is broken


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only")


def test_on_sqlite_the_locks_do_nothing(db, django_assert_num_queries):
    if connection.vendor != "sqlite":
        pytest.skip("the no-op is SQLite's")
    with django_assert_num_queries(0):
        xact_lock("tests.lock")
        with session_lock("tests.lock", 3):
            pass


def free(name: str, key: int = 0) -> bool:
    """Whether this connection could take the lock now (it is released again at once)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s), %s)", [name, key])
        return cursor.fetchone()[0]


def in_thread(target):
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_connection_waits_for_a_transaction_lock_until_the_transaction_ends():
    needs_postgresql()
    holding, release, acquired = threading.Event(), threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            xact_lock("tests.lock")
            holding.set()
            release.wait(WAIT)

    def waiter():
        with transaction.atomic():
            xact_lock("tests.lock")
            acquired.set()

    first = in_thread(holder)
    assert holding.wait(WAIT)
    second = in_thread(waiter)
    assert not acquired.wait(0.5)  # blocked while the first transaction is open
    assert free("tests.lock", key=1) and free("tests.other")  # another key or name is not held
    release.set()
    assert acquired.wait(WAIT)
    first.join(WAIT), second.join(WAIT)
    assert free("tests.lock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_lock_holds_across_transactions_until_the_block_ends():
    needs_postgresql()
    holding, release = threading.Event(), threading.Event()

    def holder():
        with session_lock("tests.session", 2):
            with transaction.atomic():
                pass  # a transaction ending inside the block does not release it
            holding.set()
            release.wait(WAIT)

    thread = in_thread(holder)
    assert holding.wait(WAIT)
    assert not free("tests.session", 2)
    release.set()
    thread.join(WAIT)
    assert free("tests.session", 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_lock_dies_with_its_connection():
    needs_postgresql()
    holding, gone, checked = threading.Event(), threading.Event(), threading.Event()

    def holder():
        with session_lock("tests.session"):
            holding.set()
            connection.close()  # the worker process dies here: its connection ends without an unlock
            gone.set()
            checked.wait(WAIT)

    thread = in_thread(holder)
    assert holding.wait(WAIT) and gone.wait(WAIT)
    try:
        assert free("tests.session")
    finally:
        checked.set()
        thread.join(WAIT)
