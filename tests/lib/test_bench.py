"""lib.bench: benchmark data built inside a transaction that is always rolled back."""

import pytest

from lib.bench import rolled_back
from recipients.models import County


def test_what_the_block_writes_is_gone_afterwards(db):
    with rolled_back():
        County.objects.create(name="测试县", code="999999")
        assert County.objects.filter(code="999999").exists()
    assert not County.objects.filter(code="999999").exists()


def test_an_error_in_the_block_is_raised_and_nothing_is_kept(db):
    with pytest.raises(ZeroDivisionError), rolled_back():
        County.objects.create(name="测试县", code="999998")
        1 / 0  # noqa: B018
    assert not County.objects.filter(code="999998").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_vacuum_clears_what_rolled_back_rows_left():
    from django.db import connection, transaction

    from lib.bench import vacuum

    if connection.vendor != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_vacuum_probe (id bigint PRIMARY KEY, pad text)")
        try:
            with transaction.atomic():
                cursor.execute(
                    "INSERT INTO bench_vacuum_probe SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"
                )
                transaction.set_rollback(True)  # as a benchmark's data: rolled back, its pages left behind
            vacuum("bench_vacuum_probe")
            cursor.execute("SELECT relpages FROM pg_class WHERE relname = 'bench_vacuum_probe'")
            assert cursor.fetchone()[0] == 0  # the dead rows' pages are gone
        finally:
            cursor.execute("DROP TABLE bench_vacuum_probe")
