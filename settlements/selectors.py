"""Reads of the settlement data, scoped by the user."""

import datetime

from django.db.models import Count, Q, QuerySet, Sum

from .models import MedicalCategory, Settlement

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


def _in_year(settlements: QuerySet, year: int | None) -> QuerySet:
    if year is None:
        return settlements
    # A range on the date, not an extract of the year: the (id_number, service_date) index stays usable.
    return settlements.filter(
        service_date__gte=datetime.date(year, 1, 1), service_date__lt=datetime.date(year + 1, 1, 1)
    )


def hospital_summary(*, user, year: int | None = None) -> list[dict]:
    """Per hospital: number of settlements, total cost, and how many had no one-stop assistance; one query."""
    settlements = _in_year(Settlement.objects.visible_to(user), year)
    return list(
        settlements.order_by()
        .values("hospital")
        .annotate(
            count=Count("number"),
            total=Sum("total"),
            without_onestop=Count("number", filter=Q(onestop=0)),
        )
        .order_by("-count", "hospital")
    )


def hospital_settlements(*, user, hospital: str, year: int | None = None) -> QuerySet:
    """The settlements of one hospital that the user may see, newest first."""
    settlements = Settlement.objects.visible_to(user).filter(hospital=hospital)
    return _in_year(settlements, year).only(*LIST_FIELDS).order_by("-service_date", "number")


def numbered_settlements(*, user, number: str, year: int | None = None) -> QuerySet:
    """The settlements the user may see whose 结算单号 is or begins with the text (the key's index serves it)."""
    settlements = Settlement.objects.visible_to(user).filter(number__startswith=number)
    return _in_year(settlements, year).only(*LIST_FIELDS).order_by("number")


def person_settlements(*, id_number: str) -> QuerySet:
    """The settlements under one ID number, newest first. The caller has checked the person is visible."""
    return Settlement.objects.filter(id_number=id_number).only(*LIST_FIELDS).order_by("-service_date", "number")


def medical_category_rows() -> list[tuple[str, str, str]]:
    """The 医疗类别 table an administrator edits, as (code, name, 就诊类型) rows: how a platform list's med_type
    becomes a visit type (imports.mapping.Lookup: a code, a name, or the longest code prefix)."""
    return list(MedicalCategory.objects.order_by("code").values_list("code", "name", "visit_type"))
