"""lib.stats: statistics refreshed inside the writing transaction after a large write."""

import pytest
from django.db import connection

from lib.stats import refresh_statistics


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_large_write_is_analysed_a_small_one_is_not():
    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE and pg_class are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE stats_probe (x integer)")
        cursor.execute("INSERT INTO stats_probe SELECT generate_series(1, 20000)")
        assert not refresh_statistics(cursor, "stats_probe", rows_written=999)
        assert refresh_statistics(cursor, "stats_probe", rows_written=20000)
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'stats_probe'::regclass")
        assert cursor.fetchone()[0] == 20000  # counted inside the transaction that wrote the rows
        assert not refresh_statistics(cursor, "stats_probe", rows_written=1500)  # under 10% of what is known
        assert refresh_statistics(cursor, "stats_probe", rows_written=2000)
