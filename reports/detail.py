"""The rows of the report's 明细 sheet: every assistance the summary (reports.facts) counts as one 人次, each under
the category the summary counts it under, read as a stream (memory grows with the roster, never with the rows).

- a one-stop settlement with assistance: the person's (by ID number) first identity by precedence among those
  valid on the service date (recipients.categories.CATEGORY_ORDER);
- an approved or paid first-round bill with a grant: the same, for the case's person on the bill's service date;
- an approved or paid secondary case: the category of the person-year's burden (YearlyBurden), as the summary.

An empty category is assistance counted without a valid identity on the day (labels.UNIDENTIFIED).
"""

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from applications.models import GRANTED_STATUSES, Bill, Case, YearlyBurden
from recipients.categories import most_favoured
from recipients.models import Person
from recipients.selectors import identity_windows, valid_categories
from settlements.models import Settlement
from settlements.visits import service_date

from .models import Benefit, Channel
from .selectors import in_scope

CHANNEL_NAMES = dict(Channel.choices)


class DetailRow(NamedTuple):
    channel: str
    benefit: str
    day: datetime.date | None
    township: str
    name: str
    id_number: str
    category: str  # a code, "" without a valid identity on the day
    amount: Decimal


def detail_rows(year: int, township=None, county=None) -> Iterator[DetailRow]:
    """Every direct and secondary assistance of the year: one-stop settlements, approved bills, secondary cases;
    of one township, one county, or (neither) every county."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    people = in_scope(Person.objects.all(), township=township, county=county)
    names = {
        n: (pk, name, town)
        for pk, n, name, town in people.values_list("pk", "id_number", "name", "township__name").iterator(5000)
    }
    windows = identity_windows()

    def category(person_id, day) -> str:
        return most_favoured(valid_categories(windows.get(person_id, ()), day)) if day else ""

    onestop = CHANNEL_NAMES[Channel.ONESTOP]
    for id_number, day, visit_type, amount in (
        Settlement.objects.filter(onestop__gt=0, service_date__gte=start, service_date__lte=end)
        .order_by("service_date", "number")
        .values_list("id_number", "service_date", "visit_type", "onestop")
        .iterator(10000)
    ):
        known = names.get(id_number)
        if known is not None:
            pid, name, town = known
            yield DetailRow(onestop, visit_type, day, town, name, id_number, category(pid, day), amount)
    bills = Bill.objects.filter(case__status__in=GRANTED_STATUSES, granted__gt=0).exclude(
        case__source=Case.Source.SECONDARY
    )
    bills = in_scope(bills, township=township, county=county, township_path="case__township")
    manual = CHANNEL_NAMES[Channel.MANUAL]
    for visit_type, discharged, visit, town, pid, name, id_number, amount in bills.values_list(
        "visit_type",
        "discharged_on",
        "visit_on",
        "case__township__name",
        "case__person_id",
        "case__person__name",
        "case__person__id_number",
        "granted",
    ).iterator(5000):
        day = service_date(visit_type, discharged, visit)
        if day and start <= day <= end:
            yield DetailRow(manual, visit_type, day, town, name, id_number, category(pid, day), amount)
    burden_category = YearlyBurden.objects.filter(person_id=OuterRef("person_id"), year=OuterRef("year")).values(
        "category"
    )[:1]
    cases = Case.objects.filter(source=Case.Source.SECONDARY, year=year, status__in=GRANTED_STATUSES).annotate(
        burden_category=Subquery(burden_category)
    )
    cases = in_scope(cases, township=township, county=county)
    secondary = CHANNEL_NAMES[Channel.SECONDARY]
    for decided, town, name, id_number, amount, code in (
        cases.order_by("decided_at", "pk")
        .values_list(
            "decided_at", "township__name", "person__name", "person__id_number", "approved_amount", "burden_category"
        )
        .iterator(5000)
    ):
        day = timezone.localtime(decided).date() if decided else None
        yield DetailRow(
            secondary, Benefit.SECONDARY.value, day, town, name, id_number, code or "", amount or Decimal("0")
        )
