"""Each person's burden after insurance and every assistance paid (DOMAIN §4, §12.4), over all the settlement
data the portal holds — people in no registry included, keyed by ID number — by one set-based pass.

Per item, burden = T − B − C − O − D − assistance:
- a settlement: T − B − C − O − A0 (one-stop assistance) − the first-round assistance granted through
  applications whose bills carry its 结算单号 (a settlement has no 社会捐赠 column: D = 0);
- an approved bill with no imported settlement behind it: T − B − C − O − D − its first-round assistance;
- a granted 二次救助 case: − its approved amount. It counts in the calendar year it was granted for, and in the
  rolling window when it was decided inside it (a case has no service date of its own).

Two figures per person for month M: the rolling 12 months (the first day of M − 11 months to the last day of M)
and the calendar year to date (1 January to the last day of M). Only sums leave the database; memory does not
grow with the settlements.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils import timezone

from applications.models import GRANTED_STATUSES, Bill, Case
from lib.sql import literals
from recipients.models import Person, Township
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql
from settlements.models import Settlement, SettlementImport
from settlements.visits import service_date_sql

SETTLEMENTS, IMPORTS = Settlement._meta.db_table, SettlementImport._meta.db_table
BILLS, CASES = Bill._meta.db_table, Case._meta.db_table
PERSONS, TOWNSHIPS = Person._meta.db_table, Township._meta.db_table
BILL_DAY = service_date_sql("b")
GRANTED = literals(GRANTED_STATUSES)
TABLE = "monitor_burden"


@dataclass(frozen=True)
class Window:
    month: datetime.date  # first day of the month
    rolling_start: datetime.date
    year_start: datetime.date
    end: datetime.date  # last day of the month

    @classmethod
    def of(cls, month: datetime.date) -> "Window":
        first = month.replace(day=1)
        return cls(
            month=first,
            rolling_start=first - relativedelta(months=11),
            year_start=first.replace(month=1),
            end=first + relativedelta(months=1) - datetime.timedelta(days=1),
        )


_ITEMS_SQL = f"""
SELECT s.id_number AS id_number, s.name AS name, si.county_id AS import_county,
       s.total - s.basic - s.critical - s.other - s.onestop - COALESCE(g.granted, 0) AS burden,
       1 AS in_rolling,
       CASE WHEN s.service_date >= %(year_start)s THEN 1 ELSE 0 END AS in_year
FROM {SETTLEMENTS} s
LEFT JOIN (
    SELECT b.settlement_number AS settlement_number, SUM(COALESCE(b.granted, 0)) AS granted
    FROM {BILLS} b JOIN {CASES} c ON c.id = b.case_id
    WHERE c.status IN ({GRANTED}) AND b.settlement_number <> ''
    GROUP BY b.settlement_number
) g ON g.settlement_number = s.number
LEFT JOIN {IMPORTS} si ON si.id = s.last_import_id
WHERE s.service_date >= %(rolling_start)s AND s.service_date <= %(end)s
UNION ALL
SELECT p.id_number, p.name, NULL,
       b.total - b.basic - b.critical - b.other - b.donation - COALESCE(b.granted, 0),
       1,
       CASE WHEN {BILL_DAY} >= %(year_start)s THEN 1 ELSE 0 END
FROM {BILLS} b
JOIN {CASES} c ON c.id = b.case_id
JOIN {PERSONS} p ON p.id = c.person_id
WHERE c.status IN ({GRANTED})
  AND NOT EXISTS (SELECT 1 FROM {SETTLEMENTS} s2 WHERE s2.number = b.settlement_number)
  AND {BILL_DAY} >= %(rolling_start)s AND {BILL_DAY} <= %(end)s
UNION ALL
SELECT p.id_number, p.name, NULL, 0 - c.approved_amount,
       CASE WHEN c.decided_at >= %(rolling_from)s AND c.decided_at < %(until)s THEN 1 ELSE 0 END,
       CASE WHEN c.year = %(year)s AND c.decided_at < %(until)s THEN 1 ELSE 0 END
FROM {CASES} c
JOIN {PERSONS} p ON p.id = c.person_id
WHERE c.source = 'secondary' AND c.status IN ({GRANTED}) AND c.approved_amount IS NOT NULL
  AND c.decided_at IS NOT NULL AND c.decided_at < %(until)s
  AND (c.year = %(year)s OR c.decided_at >= %(rolling_from)s)
"""

_BURDEN_SQL = f"""
CREATE TEMP TABLE {TABLE} AS
SELECT g.id_number AS id_number, COALESCE(p.name, g.name) AS name, g.rolling AS rolling, g.ytd AS ytd,
       p.id AS person_id, p.township_id AS township_id, COALESCE(t.county_id, g.import_county, %(only_county)s) AS county_id,
       CASE WHEN p.id IS NOT NULL AND EXISTS (
           SELECT 1 FROM {IDENTITY_TABLE} i WHERE i.person_id = p.id AND {identity_valid_sql("i", "%(end)s")}
       ) THEN 1 ELSE 0 END AS registry
FROM (
    SELECT x.id_number AS id_number, MAX(x.name) AS name, MAX(x.import_county) AS import_county,
           SUM(x.in_rolling * x.burden) AS rolling, SUM(x.in_year * x.burden) AS ytd
    FROM ({_ITEMS_SQL}) x
    GROUP BY x.id_number
) g
LEFT JOIN {PERSONS} p ON p.id_number = g.id_number
LEFT JOIN {TOWNSHIPS} t ON t.id = p.township_id
"""


def _local_midnight(day: datetime.date):
    value = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return connection.ops.adapt_datetimefield_value(value)


def burden_table(cursor, window: Window, *, only_county: int | None = None) -> int:
    """Build the temporary table `monitor_burden` (id_number, name, rolling, ytd, person_id, township_id,
    county_id, registry) for the window; a person in no registry whose settlements no county imported (written
    by a script) is `only_county`'s, the instance's one county. Returns how many people it holds. Call inside a transaction; drop the
    table with `burden_table_drop`."""
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL enable_nestloop = off")  # whole-table joins: hash joins
    params = {
        "rolling_start": window.rolling_start,
        "year_start": window.year_start,
        "end": window.end,
        "year": window.month.year,
        "rolling_from": _local_midnight(window.rolling_start),
        "until": _local_midnight(window.end + datetime.timedelta(days=1)),
        "only_county": only_county,
    }
    cursor.execute(_BURDEN_SQL, params)
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {TABLE}")
    cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
    return int(cursor.fetchone()[0])


def burden_table_drop(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
