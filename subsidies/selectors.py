"""Reads of 资助参保, one question each: the rules in force for a county-year, the list with each person's
enrolment, the 资助参保率 by township and category, the subsidy spending, a person's subsidies by year."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from recipients.categories import CATEGORY_ORDER

from .models import Enrolment, EnrolmentStatus, SubsidyContact, SubsidyEntry, SubsidyRuleSet

ZERO = Decimal("0")


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


def _rates(entries, key: str) -> dict:
    listed = entries.values(key).annotate(n=Count("id"))
    enrolled = entries.filter(enrolled_filter()).values(key).annotate(n=Count("id"), amount=Sum("amount"))
    rates = {row[key]: Rate(listed=row["n"]) for row in listed}
    for row in enrolled:
        rate = rates.setdefault(row[key], Rate())
        rate.enrolled, rate.amount = row["n"], row["amount"] or ZERO
    return rates


def coverage(*, year: int, township=None, county=None) -> Coverage:
    """资助参保率 = enrolled ÷ listed (DOMAIN §12.1) of one township, one county or every county (neither), against
    the target of the rules in force (several counties: a target only when they share it; met when all are)."""
    entries = SubsidyEntry.objects.filter(year=year)
    if township is not None:
        entries = entries.filter(township=township)
    elif county is not None:
        entries = entries.filter(county=county)
    totals = entries.aggregate(listed=Count("id"))
    enrolled = entries.filter(enrolled_filter()).aggregate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    total = Rate(listed=totals["listed"], enrolled=enrolled["n"], amount=enrolled["amount"])
    towns = _rates(entries, "township__name")
    cats = _rates(entries, "category")
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
        mets = []
        for county_id, target in per_county:
            rate = total if len(per_county) == 1 else _county_rate(entries, county_id)
            mets.append(None if rate.value is None else rate.value >= target)
        result.met = None if any(m is None for m in mets) else all(mets)
    return result


def _county_rate(entries, county_id: int) -> Rate:
    mine = entries.filter(county_id=county_id)
    enrolled = mine.filter(enrolled_filter()).aggregate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    return Rate(listed=mine.count(), enrolled=enrolled["n"], amount=enrolled["amount"])


def subsidy_spending(*, year: int, county=None) -> Decimal:
    """What the fund pays for the year's premiums: Σ subsidy of the listed people reported enrolled."""
    entries = SubsidyEntry.objects.filter(year=year).filter(enrolled_filter())
    if county is not None:
        entries = entries.filter(county=county)
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
