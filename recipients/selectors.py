"""Reads of the registry that later parts of the portal lean on.

"Identities valid on a date" is answered here once: as a queryset (`identities_valid_on`), over windows
already in memory (`valid_categories`, for jobs that read many people at once), and as the SQL condition
set-based queries embed (`identity_valid_sql`). All three read the window 认定日期 .. 退出日期 inclusive at
both ends, an empty 退出日期 meaning still valid.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.models import Count

from lib.cached import remembered
from lib.chunks import chunks

from .categories import Category
from .models import Identity, Person, RosterImport, Township, scoped_to_user

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
    # By township (in the order they were entered), then name: the order of the (township, name, ID) index, so
    # that a page is read from it rather than sorted out of the whole county.
    people = (
        Person.objects.visible_to(user)
        .select_related("township", "village")
        .order_by("township_id", "name", "id_number")
    )
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


def registry_version() -> tuple:
    """What tells cheaply that the registry changed: the newest person and identity, the latest roster import
    written (one query of three index lookups)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(id) FROM {Person._meta.db_table}), (SELECT max(id) FROM {IDENTITY_TABLE}), "
            f"(SELECT max(applied_at) FROM {RosterImport._meta.db_table})"
        )
        return tuple(cursor.fetchone())


def _scope(user) -> tuple:
    """The rows a user's registry figures are of: the same for every user of one township or county."""
    return (
        user.is_superuser,
        user.has_perm("recipients.view_person"),
        user.prefecture_wide,
        user.scope_county_id,
        user.township_id if user.township_scoped else None,
    )


def _visible_identities(user):
    """Identities of the people the user may see, filtered through joins (no list of the county's people)."""
    return scoped_to_user(
        Identity.objects.all(),
        user,
        "recipients.view_person",
        township="person__township",
        county="person__township__county",
    )


def _remembered(name: str, user, day: datetime.date, compute):
    key = ("recipients", name, _scope(user), day, registry_version())
    return remembered(key, compute, seconds=settings.SUMMARY_CACHE_SECONDS)


def registry_summary(*, user, day: datetime.date) -> dict:
    """Counts for the home page: people, identities valid on the day by category, windows ending soon. The counts
    read the whole registry of the user's county, so they are kept (lib.cached) until the registry changes."""
    valid = _visible_identities(user).valid_on(day)
    # Valid on the day and ending within 30 days, as one range of the end date (identity_ending's).
    ending_soon = _visible_identities(user).filter(
        valid_from__lte=day, valid_to__gte=day, valid_to__lte=day + datetime.timedelta(days=30)
    )

    def counts():
        by_category = dict(valid.values_list("category").annotate(n=Count("person_id", distinct=True)))
        return {
            "people": Person.objects.visible_to(user).count(),
            "people_valid": valid.values("person_id").distinct().count(),
            "by_category": [(c.label, c.value, by_category.get(c.value, 0)) for c in Category],
            "ending_soon_count": ending_soon.count(),
        }

    return {
        **_remembered("registry", user, day, counts),
        "ending_soon": ending_soon.select_related("person", "person__township").order_by("valid_to", "pk")[:20],
    }


def people_by_township(*, user, day: datetime.date):
    """People holding a valid identity on the day, per township (supervisor overview); kept as registry_summary."""

    def counts():
        valid = _visible_identities(user).valid_on(day)
        by_town = valid.values_list("person__township_id").annotate(n=Count("person_id", distinct=True))
        totals = Person.objects.visible_to(user).values_list("township_id").annotate(n=Count("id"))
        return dict(by_town), dict(totals)

    counts_valid, totals = _remembered("by_township", user, day, counts)
    return [(t, totals.get(t.id, 0), counts_valid.get(t.id, 0)) for t in Township.objects.visible_to(user)]
