"""The assistance summary (AssistanceFact): a year rebuilt in one set-based statement (DOMAIN §10).

Each one-stop settlement with assistance, each approved or paid first-round bill with a grant and each approved or
paid secondary case is one 人次. Inpatient stays nobody assisted (no one-stop payment, no granted bill claiming the
settlement number) add only their in-policy self-pay, under channel "none": the key-recipient ratio's denominator.
Rows are summed by month, township, category, benefit, channel, key and major, where

- township is the person's (settlements) or the case's (bills, secondary cases), and the policy in force is that
  of the township's county on the service date (applications.policy.selectors); none in force, not key, and
  major only by the flag;
- category is the first by precedence (recipients.categories) of the identities valid on the service date
  (recipients.selectors); a secondary case counts under the category of its yearly burden;
- key: the category is among the policy's key categories (重点救助对象);
- major: the settlement or bill is flagged 重特大疾病, or its diagnosis starts with one of the policy's major-disease
  codes (a prefix, case-insensitive).

The statement reads the policies from three small temporary tables filled first (the version in force per county
and day, by PolicyBook's rule; each version's key categories; its major-disease prefixes), so that JSON lists
are read the same way on PostgreSQL and on the embedded SQLite, and each row finds its policy by a hash join.
"""

import contextlib
import datetime

from django.db import connection, transaction
from django.utils import timezone

from applications.models import GRANTED_STATUSES, Bill, Case, YearlyBurden
from applications.policy.selectors import PolicyBook
from lib.locks import xact_lock
from lib.sql import literal, literals
from recipients.categories import CATEGORY_ORDER
from recipients.models import Person, Township
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql
from settlements.models import Settlement
from settlements.visits import INPATIENT, service_date_sql

from .models import AssistanceFact, Benefit, Channel, FactRefresh

DAY_TABLE = "reports_day_policy_tmp"
KEY_TABLE = "reports_key_category_tmp"
MAJOR_TABLE = "reports_major_prefix_tmp"
PG_SETTINGS = {"jit": "off", "enable_sort": "off", "work_mem": "64MB"}


def refresh_facts(*, year: int) -> int:
    """Rebuild the year's summary (one DELETE, one INSERT … SELECT … GROUP BY); returns its number of rows.

    Two refreshes of one year wait for each other (an advisory lock on PostgreSQL; SQLite serialises writers)."""
    with transaction.atomic():
        xact_lock("reports.facts", year)
        with connection.cursor() as cursor:
            fill_policy_tables(cursor, year)
            statement, params = summary_sql(year)
            cursor.execute(f"DELETE FROM {AssistanceFact._meta.db_table} WHERE year = %s", [year])
            with planner_settings(cursor):
                cursor.execute(statement, params)
                rows = cursor.rowcount
            for table in (DAY_TABLE, KEY_TABLE, MAJOR_TABLE):
                cursor.execute(f"DROP TABLE {table}")
        # These two fields only: a refresh requested meanwhile (requested_at) stays requested.
        now = timezone.now()
        if not FactRefresh.objects.filter(year=year).update(refreshed_at=now, rows=rows):
            FactRefresh.objects.bulk_create(
                [FactRefresh(year=year, refreshed_at=now, rows=rows)], ignore_conflicts=True
            )
    return rows


@contextlib.contextmanager
def planner_settings(cursor):
    """PostgreSQL planner settings for the summary statement, restored afterwards (call inside a transaction).

    The planner underestimates the rows the identity anti-join keeps by orders of magnitude, so it would sort a
    million rows to group them, and compile the plan with JIT (seconds, for little gain); the groups (at most tens
    of thousands) are hashed in memory instead."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in PG_SETTINGS))
    saved = dict(zip(PG_SETTINGS, cursor.fetchone(), strict=True))
    for name, value in PG_SETTINGS.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    try:
        yield
    finally:
        for name, value in saved.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def major_prefixes(codes) -> list[str]:
    """A policy's major-disease codes as the prefixes compared with upper-cased diagnoses (blank ones dropped:
    an empty prefix would make every diagnosis major)."""
    return sorted({str(code).strip().upper() for code in codes or () if str(code).strip()})


def fill_policy_tables(cursor, year: int) -> None:
    """Three small temporary tables from the active policy versions: the version in force for each county and
    day of the year (PolicyBook's rule), and each version's key categories and major-disease prefixes."""
    book = PolicyBook()
    days, key_rows, major_rows = [], set(), set()
    day, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    counties = sorted(set(Township.objects.values_list("county_id", flat=True)))
    while day <= end:
        for county in counties:
            version = book.version_on(county, day)
            if version is not None:
                days.append((county, day, version.pk))
        day += datetime.timedelta(days=1)
    for versions in book.versions.values():
        for v in versions:
            key_rows.update((v.pk, str(c)) for c in v.key_categories or ())
            major_rows.update((v.pk, prefix) for prefix in major_prefixes(v.major_disease_codes))
    tables = (
        (DAY_TABLE, "county_id bigint NOT NULL, day date NOT NULL, version_id bigint NOT NULL", days),
        (KEY_TABLE, "version_id bigint NOT NULL, category varchar(200) NOT NULL", sorted(key_rows)),
        (MAJOR_TABLE, "version_id bigint NOT NULL, prefix varchar(200) NOT NULL", sorted(major_rows)),
    )
    for table, columns, rows in tables:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _precedence(column: str) -> str:
    """A category's rank in CATEGORY_ORDER (unknown codes last)."""
    whens = " ".join(f"WHEN {literal(c)} THEN {rank}" for rank, c in enumerate(CATEGORY_ORDER))
    return f"CASE {column} {whens} ELSE {len(CATEGORY_ORDER)} END"


def _category_joins(person: str, day: str, *, required: bool = False) -> tuple[str, str]:
    """Joins that give each row `i`, the person's first identity by precedence among those valid on the day (ties
    by id), and the WHERE condition they need: `j` finds a better one, and a row keeps `i` only when there is
    none (an anti-join). Without `required`, a row without a valid identity stays, its category NULL."""
    better = (
        f"({_precedence('j.category')} < {_precedence('i.category')} "
        f"OR ({_precedence('j.category')} = {_precedence('i.category')} AND j.id < i.id))"
    )
    joins = (
        f"{'JOIN' if required else 'LEFT JOIN'} {IDENTITY_TABLE} i "
        f"ON i.person_id = {person} AND {identity_valid_sql('i', day)} "
        f"LEFT JOIN {IDENTITY_TABLE} j ON j.person_id = {person} AND {identity_valid_sql('j', day)} AND {better}"
    )
    return joins, "AND j.id IS NULL"


def _self_pay(alias: str) -> str:
    """E = max(0, P − B − C − O), the in-policy self-pay (DOMAIN §4)."""
    e = f"({alias}.in_policy - {alias}.basic - {alias}.critical - {alias}.other)"
    return f"CASE WHEN {e} > 0 THEN {e} ELSE 0 END"


def _fence() -> str:
    """Keeps a subquery from being merged into the outer query, which would evaluate its per-row subqueries once
    per reference instead of once."""
    return "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"


def rows_sql(year: int, *, categories: bool = True) -> tuple[str, list]:
    """Every row the summary counts, before grouping: (day, township_id, county_id, category, benefit, channel,
    flag, diagnosis, visits, assisted, self_pay). Without `categories` (the benchmark's baseline: the same rows
    and joins without the identities) the category is left NULL."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    settlement, person, township = Settlement._meta.db_table, Person._meta.db_table, Township._meta.db_table
    bill, case, burden = Bill._meta.db_table, Case._meta.db_table, YearlyBurden._meta.db_table
    granted = literals(GRANTED_STATUSES)
    secondary = literal(Case.Source.SECONDARY)
    bill_day = service_date_sql("b")
    tz = timezone.get_default_timezone_name()
    decided, decided_params = connection.ops.datetime_cast_date_sql("c.decided_at", (), tz)
    decided_params = list(decided_params)
    if categories:
        onestop_joins, onestop_best = _category_joins("p.id", "s.service_date")
        stay_joins, stay_best = _category_joins("p.id", "s.service_date", required=True)
        bill_joins, bill_best = _category_joins("c.person_id", bill_day)
        category = "i.category"
    else:
        onestop_joins = onestop_best = stay_joins = stay_best = bill_joins = bill_best = ""
        category = "CAST(NULL AS varchar(4))"
    sql = f"""
        SELECT s.service_date AS day, p.township_id AS township_id, t.county_id AS county_id,
               {category} AS category, s.visit_type AS benefit, {literal(Channel.ONESTOP)} AS channel,
               s.major_disease AS flag, s.diagnosis AS diagnosis, 1 AS visits, s.onestop AS assisted,
               {_self_pay("s")} AS self_pay
          FROM {settlement} s
          JOIN {person} p ON p.id_number = s.id_number
          JOIN {township} t ON t.id = p.township_id
          {onestop_joins}
         WHERE s.onestop > 0 AND s.service_date >= %s AND s.service_date <= %s {onestop_best}
        UNION ALL
        SELECT s.service_date, p.township_id, t.county_id, {category}, {literal(INPATIENT)}, {literal(Channel.NONE)},
               FALSE, '', 0, 0, {_self_pay("s")}
          FROM {settlement} s
          JOIN {person} p ON p.id_number = s.id_number
          JOIN {township} t ON t.id = p.township_id
          {stay_joins}
         WHERE s.onestop = 0 AND s.visit_type = {literal(INPATIENT)}
           AND s.service_date >= %s AND s.service_date <= %s {stay_best}
           AND s.number NOT IN (
               SELECT b.settlement_number FROM {bill} b JOIN {case} c ON c.id = b.case_id
                WHERE c.status IN ({granted}) AND b.settlement_number <> '')
        UNION ALL
        SELECT {bill_day}, c.township_id, t.county_id, {category}, b.visit_type, {literal(Channel.MANUAL)},
               b.major_disease, b.diagnosis, 1, b.granted, {_self_pay("b")}
          FROM {bill} b
          JOIN {case} c ON c.id = b.case_id
          JOIN {township} t ON t.id = c.township_id
          {bill_joins}
         WHERE c.status IN ({granted}) AND c.source <> {secondary} AND b.granted > 0
           AND {bill_day} >= %s AND {bill_day} <= %s {bill_best}
        UNION ALL
        SELECT CASE WHEN c.decided_at IS NULL THEN %s WHEN {decided} < %s THEN %s WHEN {decided} > %s THEN %s
                    ELSE {decided} END,
               c.township_id, t.county_id, COALESCE(y.category, ''), {literal(Benefit.SECONDARY)},
               {literal(Channel.SECONDARY)}, FALSE, '', 1, COALESCE(c.approved_amount, 0), 0
          FROM {case} c
          JOIN {township} t ON t.id = c.township_id
          LEFT JOIN {burden} y ON y.person_id = c.person_id AND y.year = c.year
         WHERE c.source = {secondary} AND c.status IN ({granted}) AND c.year = %s"""
    params = [start, end, start, end, start, end]
    params += [end, *decided_params, start, start, *decided_params, end, end, *decided_params, year]
    return sql, params


def summary_sql(year: int) -> tuple[str, list]:
    """The INSERT … SELECT … GROUP BY of the year's summary rows (fill_policy_tables first)."""
    rows, params = rows_sql(year)
    month, month_params = connection.ops.date_extract_sql("month", "r.day", ())
    quote = connection.ops.quote_name
    fields = ("year", "month", "township_id", "category", "benefit", "channel", "key", "major")
    columns = ", ".join(quote(f) for f in (*fields, "visits", "assisted", "self_pay"))
    sql = f"""
        INSERT INTO {AssistanceFact._meta.db_table} ({columns})
        SELECT %s, f.month, f.township_id, f.category, f.benefit, f.channel, f.is_key, f.is_major,
               SUM(f.visits), SUM(f.assisted), SUM(f.self_pay)
          FROM (
            SELECT {month} AS month, r.township_id, COALESCE(r.category, '') AS category, r.benefit, r.channel,
                   k.version_id IS NOT NULL AS is_key,
                   (r.flag OR EXISTS (SELECT 1 FROM {MAJOR_TABLE} m WHERE m.version_id = d.version_id
                                         AND SUBSTR(UPPER(r.diagnosis), 1, LENGTH(m.prefix)) = m.prefix)) AS is_major,
                   r.visits, r.assisted, r.self_pay
              FROM ({rows}) r
              LEFT JOIN {DAY_TABLE} d ON d.county_id = r.county_id AND d.day = r.day
              LEFT JOIN {KEY_TABLE} k ON k.version_id = d.version_id AND k.category = r.category
             {_fence()}
          ) f
         GROUP BY f.month, f.township_id, f.category, f.benefit, f.channel, f.is_key, f.is_major"""
    return sql, [year, *month_params, *params]
