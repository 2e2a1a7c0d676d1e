"""Reads of 资助参保, one question each: the rules in force for a county-year, the list with each person's
enrolment, the 资助参保率 by township and category, the subsidy spending, a person's subsidies by year."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from lib.stats import hash_joins
from recipients.categories import CATEGORY_ORDER

from .models import Enrolment, EnrolmentStatus, SubsidyContact, SubsidyEntry, SubsidyRuleSet

ZERO = Decimal("0")
CENT = Decimal("0.01")


def rules_in_force(*, county_id: int, year: int) -> SubsidyRuleSet | None:
    """The rule set in force for a county and insurance year, if any."""
    return (
        SubsidyRuleSet.objects.filter(county_id=county_id, year=year, status=SubsidyRuleSet.Status.ACTIVE)
        .prefetch_related("rules")
        .first()
    )


def _result(field_name: str):
    return Subquery(
        Enrolment.objects.filter(person_id=OuterRef("person_id"), year=OuterRef("year")).values(field_name)[:1]
    )


def enrolled_filter() -> Exists:
    """The condition that a list entry's person is reported enrolled for the entry's year."""
    return Exists(
        Enrolment.objects.filter(
            person_id=OuterRef("person_id"), year=OuterRef("year"), status=EnrolmentStatus.ENROLLED
        )
    )


def with_results(entries):
    """Entries with the last reported enrolment result (status, paid amount, date) and the latest contact."""
    latest_contact = SubsidyContact.objects.filter(person_id=OuterRef("person_id"), year=OuterRef("year")).order_by(
        "-contacted_on", "-id"
    )
    return entries.annotate(
        result_status=_result("status"),
        result_paid=_result("paid_amount"),
        result_paid_on=_result("paid_on"),
        last_outcome=Subquery(latest_contact.values("outcome")[:1]),
        last_contacted_on=Subquery(latest_contact.values("contacted_on")[:1]),
    )


def not_enrolled(entries):
    """The entries whose person is not reported enrolled (未参保, or no result yet): the townships' work list."""
    return entries.exclude(enrolled_filter())


@dataclass
class Rate:
    listed: int = 0
    enrolled: int = 0
    amount: Decimal = ZERO  # Σ subsidy of the enrolled: the fund's spending

    @property
    def value(self) -> Decimal | None:
        return None if not self.listed else Decimal(self.enrolled) / Decimal(self.listed)

    @property
    def not_enrolled(self) -> int:
        return self.listed - self.enrolled

    @property
    def detail(self) -> str:
        return f"{self.enrolled:,} ÷ {self.listed:,}"


@dataclass
class Coverage:
    """资助参保率 of a scope and year: the whole, by township, by category, with the target of the rules."""

    year: int
    total: Rate
    by_township: list[tuple[str, Rate]] = field(default_factory=list)
    by_category: list[tuple[str, Rate]] = field(default_factory=list)
    target: Decimal | None = None
    met: bool | None = None
    rules: bool = False  # some county of the scope has rules in force for the year


def _grouped(*, year: int, township=None, county=None, detail: bool) -> list[dict]:
    """Listed, enrolled and the subsidy of the enrolled by county (and township and category): one pass over the
    year's entries, each joined to its result (a hash join; a correlated EXISTS per entry costs three times more)."""
    where, params = ["e.year = %s"], [year]
    if township is not None:
        where.append("e.township_id = %s")
        params.append(township.pk)
    elif county is not None:
        where.append("t.county_id = %s")
        params.append(county.pk)
    keys = ["t.county_id", "t.name", "e.category"] if detail else ["t.county_id"]
    enrolled = f"r.status = '{EnrolmentStatus.ENROLLED}'"
    sql = f"""
        SELECT {", ".join(keys)}, COUNT(*), COALESCE(SUM(CASE WHEN {enrolled} THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN {enrolled} THEN e.amount ELSE 0 END), 0)
        FROM {SubsidyEntry._meta.db_table} e
        JOIN recipients_township t ON t.id = e.township_id
        LEFT JOIN {Enrolment._meta.db_table} r ON r.person_id = e.person_id AND r.year = %s
        WHERE {" AND ".join(where)}
        GROUP BY {", ".join(keys)}"""
    # A pass over the whole year: hash joins, even when the statistics have not yet seen results just imported
    # (they called them few, and each entry's was looked up by index: three times slower).
    with transaction.atomic(), connection.cursor() as cursor, hash_joins(cursor):
        cursor.execute(sql, [year, *params])  # the join's year, then the filters
        rows = cursor.fetchall()
    names = ("county_id", "township", "category")[: len(keys)]
    return [
        {
            **dict(zip(names, row[: len(keys)], strict=True)),
            "listed": row[-3],
            "enrolled": row[-2],
            "amount": Decimal(str(row[-1])).quantize(CENT),
        }
        for row in rows
    ]


def _add(rate: Rate, row: dict) -> None:
    rate.listed += row["listed"]
    rate.enrolled += row["enrolled"]
    rate.amount += row["amount"]


def coverage(*, year: int, township=None, county=None, detail: bool = True) -> Coverage:
    """资助参保率 = enrolled ÷ listed (DOMAIN §12.1) of one township, one county or every county (neither), against
    the target of the rules in force (several counties: a target only when they share it; met when all are).
    `detail=False` leaves out the rows by township and category."""
    total, towns, cats, counties = Rate(), {}, {}, {}
    for row in _grouped(year=year, township=township, county=county, detail=detail):
        _add(total, row)
        _add(counties.setdefault(row["county_id"], Rate()), row)
        if detail:
            _add(towns.setdefault(row["township"], Rate()), row)
            _add(cats.setdefault(row["category"], Rate()), row)
    rank = {c: n for n, c in enumerate(CATEGORY_ORDER)}
    result = Coverage(
        year=year,
        total=total,
        by_township=sorted(towns.items()),
        by_category=sorted(cats.items(), key=lambda item: rank.get(item[0], len(rank))),
    )
    sets = SubsidyRuleSet.objects.filter(year=year, status=SubsidyRuleSet.Status.ACTIVE)
    if township is not None:
        sets = sets.filter(county_id=township.county_id)
    elif county is not None:
        sets = sets.filter(county=county)
    per_county = list(sets.values_list("county_id", "target"))
    result.rules = bool(per_county)
    targets = {t for _, t in per_county}
    if len(targets) == 1:
        result.target = targets.pop()
    if per_county:
        values = [counties.get(county_id, Rate()).value for county_id, _ in per_county]
        mets = [None if v is None else v >= t for v, (_, t) in zip(values, per_county, strict=True)]
        result.met = None if any(m is None for m in mets) else all(mets)
    return result


def work_list_year(*, user, today=None) -> tuple[int, int] | None:
    """The insurance year a township works on (the latest with rules in force, up to next year's, collected
    this year) and how many of the user's listed people are not reported enrolled for it; None without rules."""
    today = today or timezone.localdate()
    years = SubsidyRuleSet.objects.visible_to(user).filter(
        status=SubsidyRuleSet.Status.ACTIVE, year__lte=today.year + 1
    )
    year = years.order_by("-year").values_list("year", flat=True).first()
    if year is None:
        return None
    return year, not_enrolled(SubsidyEntry.objects.visible_to(user).filter(year=year)).count()


def subsidy_spending(*, year: int, county=None) -> Decimal:
    """What the fund pays for the year's premiums: Σ subsidy of the listed people reported enrolled."""
    entries = SubsidyEntry.objects.filter(year=year).filter(enrolled_filter())
    if county is not None:
        entries = entries.filter(township__county=county)
    return entries.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]


def person_subsidies(*, person) -> list[dict]:
    """A person's subsidy and enrolment by insurance year, newest first: the years they are listed, and the
    years a result came back for them without a listing."""
    entries = {e.year: e for e in SubsidyEntry.objects.filter(person=person).select_related("rule_set")}
    results = {r.year: r for r in Enrolment.objects.filter(person=person)}
    contacts = dict(
        SubsidyContact.objects.filter(person=person).values("year").annotate(n=Count("id")).values_list("year", "n")
    )
    return [
        {"year": year, "entry": entries.get(year), "result": results.get(year), "contacts": contacts.get(year, 0)}
        for year in sorted(set(entries) | set(results), reverse=True)
    ]


def entry_filters(
    entries, *, township=None, category: str = "", kind: str = "", status: str = "", added_from=None, added_to=None
):
    """The list's filters: township, category, kind (参保时点在册 / 当年新增, with the period of recognition for the
    latter), enrolment status (已参保 / 未参保 or no result yet)."""
    if township is not None:
        entries = entries.filter(township=township)
    if category:
        entries = entries.filter(category=category)
    if kind:
        entries = entries.filter(kind=kind)
    if added_from is not None:
        entries = entries.filter(identified_on__gte=added_from)
    if added_to is not None:
        entries = entries.filter(identified_on__lte=added_to)
    if status == EnrolmentStatus.ENROLLED:
        entries = entries.filter(enrolled_filter())
    elif status == EnrolmentStatus.NOT_ENROLLED:
        entries = not_enrolled(entries)
    return entries
