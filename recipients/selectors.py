"""Reads of the registry that later parts of the portal lean on.

"Identities valid on a date" is answered here once: as a queryset (`identities_valid_on`), over windows
already in memory (`valid_categories`, for jobs that read many people at once), and as the SQL condition
set-based queries embed (`identity_valid_sql`). All three read the window 认定日期 .. 退出日期 inclusive at
both ends, an empty 退出日期 meaning still valid.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count

from lib.chunks import chunks

from .categories import Category
from .models import Identity, Person, Township

IDENTITY_TABLE = Identity._meta.db_table


def identities_valid_on(*, person: Person | int, day: datetime.date):
    """The identities a person held on a given day (window inclusive at both ends)."""
    person_id = person.pk if isinstance(person, Person) else person
    return Identity.objects.filter(person_id=person_id).valid_on(day).order_by("category", "valid_from")


Window = tuple[str, datetime.date, datetime.date | None]  # (category, valid_from, valid_to)


def valid_categories(windows: Iterable[Window], day: datetime.date) -> list[str]:
    """The categories of the windows that contain the day."""
    return [category for category, start, end in windows if start <= day and (end is None or end >= day)]


def identity_windows(person_ids: Iterable[int] | None = None) -> dict[int, list[Window]]:
    """Every identity window per person (of the given people, or of everybody), read in chunks."""
    windows: dict[int, list[Window]] = defaultdict(list)
    rows = Identity.objects.values_list("person_id", "category", "valid_from", "valid_to")
    if person_ids is None:
        for pid, category, start, end in rows.iterator(chunk_size=5000):
            windows[pid].append((category, start, end))
        return windows
    for chunk in chunks(person_ids, 1000):
        for pid, category, start, end in rows.filter(person_id__in=chunk):
            windows[pid].append((category, start, end))
    return windows


def identity_valid_sql(alias: str, day: str) -> str:
    """The SQL condition that identity row `alias` is valid on the SQL date expression `day`."""
    return f"{alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= {day})"


def person_search(*, user, query: str = "", township_id: int | None = None):
    """People visible to the user matching an ID number (full or partial) or a name."""
    people = Person.objects.visible_to(user).select_related("township", "village")
    query = query.strip()
    if query:
        upper = query.upper()
        if len(upper) == 18:
            people = people.filter(id_number=upper)
        elif upper[:1].isdigit():
            people = (
                people.filter(id_number__startswith=upper)
                if len(upper) >= 6
                else people.filter(id_number__endswith=upper)
            )
        else:
            people = people.filter(name__contains=query)
    if township_id:
        people = people.filter(township_id=township_id)
    return people


def registry_summary(*, user, day: datetime.date) -> dict:
    """Counts for the home page: people, identities valid on the day by category, windows ending soon."""
    people = Person.objects.visible_to(user)
    identities = Identity.objects.filter(person__in=people)
    valid = identities.valid_on(day)
    by_category = dict(valid.values_list("category").annotate(n=Count("person_id", distinct=True)))
    ending_soon = (
        valid.filter(valid_to__isnull=False, valid_to__lte=day + datetime.timedelta(days=30))
        .select_related("person", "person__township")
        .order_by("valid_to")
    )
    return {
        "people": people.count(),
        "people_valid": valid.values("person_id").distinct().count(),
        "by_category": [(c.label, c.value, by_category.get(c.value, 0)) for c in Category],
        "ending_soon": ending_soon[:20],
        "ending_soon_count": ending_soon.count(),
    }


def people_by_township(*, user, day: datetime.date):
    """People holding a valid identity on the day, per township (supervisor overview)."""
    people = Person.objects.visible_to(user)
    counts = dict(
        Identity.objects.filter(person__in=people)
        .valid_on(day)
        .values_list("person__township_id")
        .annotate(n=Count("person_id", distinct=True))
    )
    totals = dict(people.values_list("township_id").annotate(n=Count("id")))
    return [(t, totals.get(t.id, 0), counts.get(t.id, 0)) for t in Township.objects.visible_to(user)]
