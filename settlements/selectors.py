"""Reads of the settlement data, scoped by the user."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from lib.cached import remembered
from recipients.models import Person, Township
from recipients.selectors import registry_version

from .models import MedicalCategory, Settlement, SettlementImport

CENT = Decimal("0.01")

# Columns the lists show: never the diagnosis, which is health data no list needs.
LIST_FIELDS = [
    "number",
    "id_number",
    "name",
    "hospital",
    "visit_type",
    "service_date",
    "total",
    "in_policy",
    "basic",
    "critical",
    "onestop",
    "out_of_area",
    "major_disease",
]


def _year_range(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def _in_year(settlements: QuerySet, year: int | None) -> QuerySet:
    if year is None:
        return settlements
    # A range on the date, not an extract of the year: the (id_number, service_date) index stays usable.
    start, end = _year_range(year)
    return settlements.filter(service_date__gte=start, service_date__lt=end)


def settlement_version() -> tuple:
    """What tells cheaply that the settlements changed: the highest 结算单号 and the latest import written (index
    lookups), with the registry's own (whose residents a county sees)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(number) FROM {Settlement._meta.db_table}), "
            f"(SELECT max(applied_at) FROM {SettlementImport._meta.db_table})"
        )
        return (*cursor.fetchone(), *registry_version())


def _hospital_rows(year: int | None) -> list[tuple]:
    """The year's settlements (every year's with None) per hospital, township of the person in the registry (None:
    not in it) and county of the import that wrote them: count, total cost, count without one-stop assistance.
    One query over the whole table, so it is kept (lib.cached) until the settlements or the registry change."""
    where, params = "", []
    if year is not None:
        where, params = "WHERE s.service_date >= %s AND s.service_date < %s", [*_year_range(year)]
    statement = f"""
        SELECT s.hospital, p.township_id, i.county_id, COUNT(*), SUM(s.total),
               SUM(CASE WHEN s.onestop = 0 THEN 1 ELSE 0 END)
        FROM {Settlement._meta.db_table} s
        LEFT JOIN {Person._meta.db_table} p ON p.id_number = s.id_number
        LEFT JOIN {SettlementImport._meta.db_table} i ON i.id = s.last_import_id
        {where}
        GROUP BY s.hospital, p.township_id, i.county_id"""

    def rows():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [(h, t, c, n, _money(total), bare) for h, t, c, n, total, bare in cursor.fetchall()]

    key = ("settlements.hospitals", year, settlement_version())
    return remembered(key, rows, seconds=settings.SUMMARY_CACHE_SECONDS)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)  # SQLite sums decimals as floats


def hospital_summary(*, user, year: int | None = None) -> list[dict]:
    """Per hospital: number of settlements, total cost, and how many had no one-stop assistance, of the
    settlements the user may see (as Settlement.objects.visible_to: a clerk's township's residents; a county's
    residents and what the county imported; everything for the prefecture)."""
    if not user.is_authenticated or not (user.is_superuser or user.has_perm("settlements.view_settlement")):
        return []
    rows = _hospital_rows(year)
    if user.township_scoped:
        rows = [r for r in rows if r[1] == user.township_id]
    elif not user.prefecture_wide:
        county = user.scope_county_id
        towns = set(Township.objects.filter(county_id=county).values_list("pk", flat=True)) if county else set()
        rows = [r for r in rows if county is not None and (r[1] in towns or r[2] == county)]
    hospitals: dict[str, dict] = {}
    for hospital, _, _, n, total, bare in rows:
        h = hospitals.setdefault(
            hospital, {"hospital": hospital, "count": 0, "total": Decimal("0.00"), "without_onestop": 0}
        )
        h["count"] += n
        h["total"] += total
        h["without_onestop"] += bare
    return sorted(hospitals.values(), key=lambda h: (-h["count"], h["hospital"]))


def hospital_settlements(*, user, hospital: str, year: int | None = None) -> QuerySet:
    """The settlements of one hospital that the user may see, newest first."""
    settlements = Settlement.objects.visible_to(user).filter(hospital=hospital)
    return _in_year(settlements, year).only(*LIST_FIELDS).order_by("-service_date", "number")


def numbered_settlements(*, user, number: str, year: int | None = None) -> QuerySet:
    """The settlements the user may see whose 结算单号 is or begins with the text (the key's index serves it)."""
    settlements = Settlement.objects.visible_to(user).filter(number__startswith=number)
    last = number[-1:]
    if last.isascii() and last.isalnum() and last not in "9Zz":
        # The same rows as a range of the key, which the primary key's index is entered with (a LIKE prefix is
        # not, under a collation other than C).
        settlements = settlements.filter(number__gte=number, number__lt=number[:-1] + chr(ord(last) + 1))
    return _in_year(settlements, year).only(*LIST_FIELDS).order_by("number")


def person_settlements(*, id_number: str) -> QuerySet:
    """The settlements under one ID number, newest first. The caller has checked the person is visible."""
    return Settlement.objects.filter(id_number=id_number).only(*LIST_FIELDS).order_by("-service_date", "number")


def medical_category_rows() -> list[tuple[str, str, str]]:
    """The 医疗类别 table an administrator edits, as (code, name, 就诊类型) rows: how a platform list's med_type
    becomes a visit type (imports.mapping.Lookup: a code, a name, or the longest code prefix)."""
    return list(MedicalCategory.objects.order_by("code").values_list("code", "name", "visit_type"))
