"""Each person's yearly burden after first-round assistance (DOMAIN §5, §8), set-based per year.

- a settlement counts when its service date lies in one of the person's identity windows and its first round
  is decided: paid one-stop (A0 > 0), granted or refused through an application, or not applicable (no
  first-round benefit for the categories valid that day, or E = 0). A settlement still waiting (an open case,
  or eligible and not yet applied for) does not count until decided;
- its burden is R = T − B − C − O minus the first-round assistance it received (A0 and approved bills linked to
  it by settlement number), so a bill linked to a settlement counts once;
- approved bills not linked to any imported settlement count as R − their first-round assistance;
- first-round assistance a recovery (追回) brought back no longer counts as assistance (Bill.recovered), and the
  bills of a case a recovery undid as not to be counted (身份不符, 重复享受, 欺诈骗保: Bill.disallowed) count
  only through their settlements, if any;
- out-of-policy costs are part of R.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from lib.chunks import chunks
from lib.sql import literals
from recipients.models import Person, Township
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql
from settlements.models import Settlement
from settlements.visits import service_date_sql

from ..jobs.scope import EVERYBODY, PersonRange, settlements_from
from ..models import DECIDED_STATUSES, GRANTED_STATUSES, OPEN_STATUSES, Bill, Case, LeadSettlement
from ..policy import engine
from ..policy.selectors import eligible_on_date_sql

ZERO = Decimal("0")
BILL_DAY = service_date_sql("b")
SETTLEMENTS, PERSONS, TOWNSHIPS = Settlement._meta.db_table, Person._meta.db_table, Township._meta.db_table
BILLS, CASES, LEAD_ITEMS = Bill._meta.db_table, Case._meta.db_table, LeadSettlement._meta.db_table


def _identity_on(day: str) -> str:
    return f"EXISTS (SELECT 1 FROM {IDENTITY_TABLE} i WHERE i.person_id = p.id AND {identity_valid_sql('i', day)})"


# Settlements with their burden after first round and whether their first round is decided.
_SETTLEMENTS_SQL = f"""
SELECT p.id AS person_id, p.township_id AS township_id, s.service_date AS service_date,
       s.total - s.basic - s.critical - s.other - s.onestop - COALESCE(g.granted, 0) AS burden,
       CASE
         WHEN EXISTS (SELECT 1 FROM {BILLS} b JOIN {CASES} c ON c.id = b.case_id
                      WHERE b.settlement_number = s.number AND c.status IN ({literals(OPEN_STATUSES)}))
           THEN 1
         WHEN s.onestop = 0 AND s.in_policy - s.basic - s.critical - s.other > 0
              AND g.settlement_number IS NULL
              AND NOT EXISTS (SELECT 1 FROM {LEAD_ITEMS} ls WHERE ls.settlement_number = s.number AND ls.handled)
              AND {eligible_on_date_sql(person="p.id", county="t.county_id", day="s.service_date", visit_type="s.visit_type")}
           THEN 1
         ELSE 0
       END AS pending
{{settlements}}
LEFT JOIN (
    SELECT b.settlement_number, SUM(COALESCE(b.granted, 0) - b.recovered) AS granted
    FROM {BILLS} b JOIN {CASES} c ON c.id = b.case_id
    WHERE c.status IN ({literals(DECIDED_STATUSES)}) AND b.settlement_number <> ''
    GROUP BY b.settlement_number
) g ON g.settlement_number = s.number
WHERE s.service_date >= %(start)s AND s.service_date < %(end)s
  {{people}}
  AND {_identity_on("s.service_date")}
"""

# Approved bills with no imported settlement behind them.
_BILLS_SQL = f"""
SELECT p.id, p.township_id, {BILL_DAY},
       b.total - b.basic - b.critical - b.other - b.donation - (COALESCE(b.granted, 0) - b.recovered), 0
FROM {BILLS} b
JOIN {CASES} c ON c.id = b.case_id
JOIN {PERSONS} p ON p.id = c.person_id
WHERE c.status IN ({literals(GRANTED_STATUSES)}) AND NOT b.disallowed
  AND NOT EXISTS (SELECT 1 FROM {SETTLEMENTS} s WHERE s.number = b.settlement_number)
  AND {BILL_DAY} >= %(start)s AND {BILL_DAY} < %(end)s
  {{people}}
  AND {_identity_on(BILL_DAY)}
"""


@dataclass
class Burden:
    person_id: int
    township_id: int
    year: int
    burden: Decimal = ZERO
    items: int = 0
    pending: int = 0
    last_date: datetime.date | None = None
    categories: set[str] = field(default_factory=set)


def yearly_burdens(
    *, year: int, person_ids: list[int] | None = None, scope: PersonRange = EVERYBODY
) -> dict[int, Burden]:
    """Burden after first-round assistance of every person in `scope` (or of the given people) in one year."""
    params = {"start": datetime.date(year, 1, 1), "end": datetime.date(year + 1, 1, 1)}
    people = scope.sql()
    if person_ids is not None:
        people += " AND p.id IN (SELECT person_id FROM secondary_people)"
    result: dict[int, Burden] = {}
    whole = scope.everybody and person_ids is None
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Hash joins whatever the statistics say (as in candidates.find_candidates); a chunk's or a list's
            # settlements are still read person by person through the index, without JIT compilation.
            cursor.execute("SET LOCAL enable_nestloop = off")
            if not whole:
                cursor.execute("SET LOCAL jit = off")
        if person_ids is not None:
            cursor.execute("CREATE TEMP TABLE secondary_people (person_id bigint PRIMARY KEY)")
            for chunk in chunks(sorted(set(person_ids)), 5000):
                cursor.execute(
                    "INSERT INTO secondary_people (person_id) VALUES " + ", ".join(["(%s)"] * len(chunk)), chunk
                )
        cursor.execute(
            "CREATE TEMP TABLE secondary_items AS "
            + _SETTLEMENTS_SQL.format(
                people=people, settlements=settlements_from(by_person=not whole and connection.vendor == "postgresql")
            )
            + " UNION ALL "
            + _BILLS_SQL.format(people=people),
            params,
        )
        cursor.execute(
            """
            SELECT person_id, township_id,
                   SUM(CASE WHEN pending = 0 THEN burden ELSE 0 END),
                   SUM(1 - pending), SUM(pending),
                   MAX(CASE WHEN pending = 0 THEN service_date END)
            FROM secondary_items GROUP BY person_id, township_id
            """
        )
        for person_id, township_id, burden, items, pending, last in cursor.fetchall():
            if isinstance(last, str):  # SQLite hands back dates of an expression as text
                last = datetime.date.fromisoformat(last)
            result[person_id] = Burden(
                person_id, township_id, year, as_money(burden), int(items or 0), int(pending or 0), last
            )
        cursor.execute(
            f"""
            SELECT DISTINCT c.person_id, i.category
            FROM secondary_items c JOIN {IDENTITY_TABLE} i ON i.person_id = c.person_id
            WHERE c.pending = 0 AND {identity_valid_sql("i", "c.service_date")}
            """
        )
        for person_id, category in cursor.fetchall():
            result[person_id].categories.add(category)
        cursor.execute("DROP TABLE secondary_items")
        if person_ids is not None:
            cursor.execute("DROP TABLE secondary_people")
    return result


def as_money(value) -> Decimal:
    """A sum from a raw cursor, to the cent: SQLite hands sums back as int or float, whose repr is the exact sum
    of two-decimal amounts."""
    if value is None:
        return engine.money(ZERO)
    return engine.money(value if isinstance(value, Decimal) else Decimal(str(value)))
