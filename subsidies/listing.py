"""The 资助参保名单 of a county and insurance year, built from the registry by a few set-based statements (the same
SQL on PostgreSQL and SQLite):

1. everyone holding, on the reference date, an identity of a category the rules subsidise — each person once, at
   the most favourable rule (就高不重复: the larger subsidy, 全额 before 定额, then the category's precedence);
2. when the rules subsidise them, the people not on that list who gain such an identity later in the insurance
   year (当年新增), at the most favourable rule among those identities;
3. merged into SubsidyEntry: new people added, changed ones updated, people no longer eligible removed (their
   enrolment results and contact log are kept: they are stored by person and year).

The ranking is computed in Python over the few rule rows (subsidies.rules) and enters the SQL as CASE literals."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from lib.locks import xact_lock
from lib.sql import literal, literals
from lib.stats import refresh_statistics
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql

from . import rules as R
from .models import SubsidyEntry, SubsidyRuleSet
from .selectors import rules_in_force

ENTRY_TABLE = SubsidyEntry._meta.db_table
STAGE = "subsidy_list_new"
# An entry of the county (by its person's township when the list was built).
IN_COUNTY = "township_id IN (SELECT id FROM recipients_township WHERE county_id = %s)"
COMPARED = (
    "township_id",
    "rule_set_id",
    "kind",
    "category",
    "mode",
    "premium",
    "amount",
    "person_pays",
    "identified_on",
)


@dataclass
class ListCounts:
    listed: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    reference: int = 0
    new_in_year: int = 0
    total: Decimal = Decimal("0")


def paying_rules(rule_set: SubsidyRuleSet) -> list[R.Rule]:
    """The rule set's rules that pay something, most favourable first."""
    if rule_set.premium is None:
        return []
    rules = [R.Rule(r.category, r.mode, r.amount) for r in rule_set.rules.all()]
    return R.paying(rules, rule_set.premium)


def _cases(rules: list[R.Rule], premium: Decimal) -> tuple[str, str, str]:
    """CASE expressions over the identity's category: its rank, its mode and its subsidy."""
    rank = " ".join(f"WHEN {literal(r.category)} THEN {n}" for n, r in enumerate(rules))
    mode = " ".join(f"WHEN {literal(r.category)} THEN {literal(r.mode)}" for r in rules)
    amount = " ".join(f"WHEN {literal(r.category)} THEN {R.subsidy(r, premium):.2f}" for r in rules)
    return f"CASE i.category {rank} END", f"CASE i.category {mode} END", f"CASE i.category {amount} END"


def _select(rules, premium, kind: str, window: str) -> str:
    rank, mode, amount = _cases(rules, premium)
    return f"""
        INSERT INTO {STAGE} (person_id, township_id, kind, category, mode, amount, identified_on)
        SELECT person_id, township_id, {literal(kind)}, category, mode, amount, valid_from FROM (
            SELECT i.person_id, p.township_id, i.category, {mode} AS mode, {amount} AS amount, i.valid_from,
                   ROW_NUMBER() OVER (PARTITION BY i.person_id ORDER BY {rank}, i.valid_from) AS n
            FROM {IDENTITY_TABLE} i
            JOIN recipients_person p ON p.id = i.person_id
            JOIN recipients_township t ON t.id = p.township_id
            WHERE t.county_id = %s AND i.category IN ({literals(r.category for r in rules)}) AND {window}
        ) ranked WHERE n = 1"""


@transaction.atomic
def rebuild_in_force(*, county_id: int, year: int) -> ListCounts | None:
    """Rebuild a county-year's list under the rules in force (none in force: the list is left as it is)."""
    xact_lock(f"subsidies.list.{year}", county_id)
    rule_set = rules_in_force(county_id=county_id, year=year)
    return None if rule_set is None else build_list(rule_set)


@transaction.atomic
def build_list(rule_set: SubsidyRuleSet, *, now: datetime.datetime | None = None) -> ListCounts:
    """Rebuild the list of the rule set's county and year from the registry as it is now (see the module)."""
    now = now or timezone.now()
    ops = connection.ops
    county, year, premium = rule_set.county_id, rule_set.year, rule_set.premium
    reference = ops.adapt_datefield_value(rule_set.reference_date)
    year_end = ops.adapt_datefield_value(datetime.date(year, 12, 31))
    stamp = ops.adapt_datetimefield_value(now)
    rules = paying_rules(rule_set)
    counts = ListCounts()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {STAGE} (person_id bigint PRIMARY KEY, township_id bigint, kind varchar(10), "
            "category varchar(4), mode varchar(8), amount numeric(14, 2), identified_on date)"
        )
        if rules:
            cursor.execute(
                _select(rules, premium, "reference", identity_valid_sql("i", "%s")), [county, reference, reference]
            )
            if rule_set.new_in_year:
                window = (
                    f"i.valid_from > %s AND i.valid_from <= %s "
                    f"AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.person_id = i.person_id)"
                )
                cursor.execute(_select(rules, premium, "added", window), [county, reference, year_end])
        cursor.execute(
            f"""SELECT COUNT(*),
                       COALESCE(SUM(CASE WHEN e.id IS NULL THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN e.id IS NOT NULL AND ({_differs("e", "n")}) THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN n.kind = 'reference' THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(n.amount), 0)
                FROM ({_stage_rows(rule_set)}) n
                LEFT JOIN {ENTRY_TABLE} e ON e.person_id = n.person_id AND e.year = %s""",
            [premium, premium, year],
        )
        listed, added, changed, in_reference, total = cursor.fetchone()
        cursor.execute(
            f"SELECT COUNT(*) FROM {ENTRY_TABLE} WHERE {IN_COUNTY} AND year = %s "
            f"AND person_id NOT IN (SELECT person_id FROM {STAGE})",
            [county, year],
        )
        (removed,) = cursor.fetchone()
        if removed:
            cursor.execute(
                f"DELETE FROM {ENTRY_TABLE} WHERE {IN_COUNTY} AND year = %s "
                f"AND person_id NOT IN (SELECT person_id FROM {STAGE})",
                [county, year],
            )
        if added or changed:
            columns = (*COMPARED, "updated_at")
            cursor.execute(
                f"""INSERT INTO {ENTRY_TABLE} (person_id, year, {", ".join(columns)}, created_at)
                    SELECT n.person_id, %s, n.township_id, n.rule_set_id, n.kind, n.category, n.mode, n.premium,
                           n.amount, n.person_pays, n.identified_on, %s, %s
                    FROM ({_stage_rows(rule_set)}) n WHERE 1 = 1
                    ON CONFLICT (person_id, year) DO UPDATE SET
                        {", ".join(f"{c} = excluded.{c}" for c in columns)}
                    WHERE {_differs(ENTRY_TABLE, "excluded")}""",
                [year, stamp, stamp, premium, premium],
            )
            if connection.vendor == "postgresql":
                refresh_statistics(cursor, ENTRY_TABLE, rows_written=added + changed)
        cursor.execute(f"DROP TABLE {STAGE}")
    SubsidyRuleSet.objects.filter(pk=rule_set.pk).update(list_built_at=now)
    counts.listed, counts.added, counts.changed, counts.removed = listed, added, changed, removed
    counts.reference, counts.new_in_year = in_reference, listed - in_reference
    counts.total = Decimal(str(total)).quantize(R.CENT)
    return counts


def _stage_rows(rule_set: SubsidyRuleSet) -> str:
    """The staged people as entry columns (premium given twice as parameters, for premium and person_pays)."""
    return (
        f"SELECT person_id, township_id, {rule_set.pk} AS rule_set_id, kind, category, mode, "
        f"CAST(%s AS numeric(14, 2)) AS premium, amount, CAST(%s AS numeric(14, 2)) - amount AS person_pays, "
        f"identified_on FROM {STAGE}"
    )


def _differs(old: str, new: str) -> str:
    return " OR ".join(f"{old}.{c} <> {new}.{c}" for c in COMPARED)
