import datetime

from recipients.models import Identity
from recipients.selectors import identities_valid_on
from tests.factories import IdentityFactory, PersonFactory


def test_identities_valid_on_includes_both_window_ends(db):
    person = PersonFactory()
    db_ = IdentityFactory(
        person=person, category="DB", valid_from=datetime.date(2023, 1, 1), valid_to=datetime.date(2023, 6, 30)
    )
    tk = IdentityFactory(person=person, category="TK", valid_from=datetime.date(2023, 6, 30))
    IdentityFactory(
        person=person, category="JD", valid_from=datetime.date(2020, 1, 1), valid_to=datetime.date(2022, 12, 31)
    )

    def on(day):
        return set(identities_valid_on(person=person, day=day))

    assert on(datetime.date(2022, 12, 31)) == {Identity.objects.get(category="JD")}
    assert on(datetime.date(2023, 1, 1)) == {db_}
    assert on(datetime.date(2023, 6, 30)) == {db_, tk}  # overlapping identities on the same day
    assert on(datetime.date(2023, 7, 1)) == {tk}
    assert on(datetime.date(2019, 12, 31)) == set()
    assert set(identities_valid_on(person=person.pk, day=datetime.date(2030, 1, 1))) == {tk}


def test_valid_on_is_a_queryset_filter_for_set_based_use(db):
    a, b = PersonFactory(), PersonFactory()
    IdentityFactory(person=a, valid_from=datetime.date(2024, 1, 1))
    IdentityFactory(person=b, valid_from=datetime.date(2024, 1, 1), valid_to=datetime.date(2024, 1, 31))
    day = datetime.date(2024, 2, 1)
    assert list(Identity.objects.valid_on(day).values_list("person_id", flat=True)) == [a.pk]
