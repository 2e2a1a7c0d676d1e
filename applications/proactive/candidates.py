"""The candidates of the 主动救助 cross-check (DOMAIN §7), in one set-based query: settlements without one-stop
assistance (A0 = 0) and with in-policy self-pay (E > 0), of a person who on the service date held an identity
whose category has a first-round benefit for the visit type under the policy in force, not claimed by a live
case's bill (by settlement number), and not already dealt with through a lead. Bills entered from paper
without a settlement number are matched by person, visit type, service date and hospital."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from lib.chunks import chunks
from lib.sql import literals
from recipients.models import Person, Township
from settlements.models import Settlement
from settlements.visits import service_date

from ..jobs.scope import EVERYBODY, PersonRange, settlements_from
from ..models import DEAD_STATUSES, Bill, Case, LeadSettlement
from ..models.cases import normalized_key
from ..policy import engine
from ..policy.selectors import eligible_on_date_sql

ZERO = Decimal("0")
CHUNK_IDENTITIES = "/* chunk identities */"  # replaced by the chunk's id bounds on the identities

_CANDIDATES_SQL = f"""
SELECT s.number, p.id, p.township_id, s.service_date, s.visit_type, s.hospital,
       s.total, s.in_policy, s.basic, s.critical, s.other
{{settlements}}
WHERE s.onestop = 0
  AND s.in_policy - s.basic - s.critical - s.other > 0
  AND s.service_date >= %(start)s AND s.service_date < %(end)s
  AND {
    eligible_on_date_sql(
        person="p.id",
        county="t.county_id",
        day="s.service_date",
        visit_type="s.visit_type",
        identities=CHUNK_IDENTITIES,
    )
}
  AND NOT EXISTS (
      SELECT 1 FROM {Bill._meta.db_table} b JOIN {Case._meta.db_table} c ON c.id = b.case_id
      WHERE b.settlement_number = s.number AND c.status NOT IN ({literals(DEAD_STATUSES)}))
  AND NOT EXISTS (
      SELECT 1 FROM {LeadSettlement._meta.db_table} ls
      WHERE ls.settlement_number = s.number AND ls.handled)
"""
CANDIDATES_SQL = _CANDIDATES_SQL.replace("{settlements}", settlements_from(by_person=False))  # whole tables
CANDIDATES_BY_PERSON_SQL = _CANDIDATES_SQL.replace(
    "{settlements}", settlements_from(by_person=True)
)  # a chunk's people

EXAMINED_SQL = f"""
SELECT count(*) FROM {Settlement._meta.db_table} s WHERE s.service_date >= %(start)s AND s.service_date < %(end)s
"""

# The settlements of one county's people (a county's job examines those).
EXAMINED_IN_COUNTY_SQL = f"""
SELECT count(*) FROM {Settlement._meta.db_table} s
JOIN {Person._meta.db_table} p ON p.id_number = s.id_number
JOIN {Township._meta.db_table} t ON t.id = p.township_id
WHERE s.service_date >= %(start)s AND s.service_date < %(end)s AND t.county_id = %(county)s
"""
FETCH = 2000  # rows per round trip of the server-side cursor


@dataclass
class Candidate:
    number: str
    person_id: int
    township_id: int
    service_date: datetime.date
    visit_type: str
    hospital: str
    amounts: engine.Amounts
    estimate: Decimal = ZERO
    category: str | None = None


def year_window(year: int | None) -> tuple[datetime.date, datetime.date]:
    """[start, end) of a calendar year, or of all time for None."""
    if year is None:
        return datetime.date(1900, 1, 1), datetime.date(9999, 1, 1)
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def examined(year: int | None, county_id: int | None = None) -> int:
    """How many settlements the check looks at (for the job's record): all of the window, or those of one
    county's people."""
    start, end = year_window(year)
    with connection.cursor() as cursor:
        if county_id is None:
            cursor.execute(EXAMINED_SQL, {"start": start, "end": end})
        else:
            cursor.execute(EXAMINED_IN_COUNTY_SQL, {"start": start, "end": end, "county": county_id})
        return cursor.fetchone()[0]


def find_candidates(*, year: int | None = None, scope: PersonRange = EVERYBODY) -> list[Candidate]:
    """The candidate settlements of the people in `scope`, by one set-based query read through a server-side
    cursor (plus a filter on the few bills that carry no settlement number). Call inside a transaction on
    PostgreSQL."""
    start, end = year_window(year)
    billed = _bills_without_settlement_number(scope)
    candidates = []
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            # Hash joins whatever the (possibly stale) statistics say: nested loops planned on statistics that
            # called a table empty read it once per candidate (50 s for a chunk answered in 0.5 s). A chunk's
            # settlements are still read through the index, person by person (settlements_from), and without the
            # JIT compilation that plan's cost set off (it took longer than the query). Every row is read: the
            # cursor's plan is chosen for all of them, not for the first tenth.
            cursor.execute("SET LOCAL enable_nestloop = off")
            if not scope.everybody:
                cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
    with connection.chunked_cursor() as cursor:
        by_person = connection.vendor == "postgresql" and not scope.everybody
        query = CANDIDATES_BY_PERSON_SQL if by_person else CANDIDATES_SQL
        # A chunk's hash of identities holds its own people's only (the whole table's grew with the registry).
        query = query.replace(CHUNK_IDENTITIES, scope.bounds_sql("i.person_id"))
        cursor.execute(query + scope.sql(), {"start": start, "end": end})
        while rows := cursor.fetchmany(FETCH):
            for (
                number,
                person_id,
                township_id,
                day,
                visit_type,
                hospital,
                total,
                in_policy,
                basic,
                critical,
                other,
            ) in rows:
                if billed and (person_id, day, visit_type, normalized_key(hospital)) in billed:
                    continue
                candidates.append(
                    Candidate(
                        number=number,
                        person_id=person_id,
                        township_id=township_id,
                        service_date=day,
                        visit_type=visit_type,
                        hospital=hospital,
                        amounts=engine.Amounts(
                            total=as_decimal(total),
                            in_policy=as_decimal(in_policy),
                            basic=as_decimal(basic),
                            critical=as_decimal(critical),
                            other=as_decimal(other),
                        ),
                    )
                )
    return candidates


def as_decimal(value) -> Decimal:
    """A money value from a raw cursor: SQLite hands numeric columns back as float or int, whose repr is the
    stored amount."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _bills_without_settlement_number(scope: PersonRange = EVERYBODY) -> set[tuple]:
    """Live bills entered from paper without a settlement number, of the people in `scope`, keyed for matching
    settlements."""
    bills = (
        Bill.objects.filter(settlement_number="")
        .filter(scope.q("case__person"))
        .exclude(case__status__in=DEAD_STATUSES)
        .values_list("case__person_id", "visit_type", "discharged_on", "visit_on", "hospital")
    )
    return {
        (person_id, service_date(visit_type, discharged_on, visit_on), visit_type, normalized_key(hospital))
        for person_id, visit_type, discharged_on, visit_on, hospital in bills.iterator()
    }


def dealt_with_since(numbers: list[str]) -> set[str]:
    """Of these settlement numbers, those now handled through a lead or claimed by a live application."""
    gone: set[str] = set()
    for chunk in chunks(numbers, 5000):
        gone.update(
            LeadSettlement.objects.filter(handled=True, settlement_number__in=chunk).values_list(
                "settlement_number", flat=True
            )
        )
        gone.update(
            Bill.objects.filter(settlement_number__in=chunk)
            .exclude(case__status__in=DEAD_STATUSES)
            .values_list("settlement_number", flat=True)
        )
    return gone
