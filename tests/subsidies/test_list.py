"""The 资助参保名单: everyone with an identity valid on the reference date in a subsidised category, once, at the
most favourable rule (就高不重复), with the amount and what the person still pays; and the 当年新增."""

import datetime
from decimal import Decimal

import pytest

from subsidies import rules as R
from subsidies.models import SubsidyEntry
from tests.factories import CountyFactory, IdentityFactory, PersonFactory, TownshipFactory

from .helpers import REFERENCE, YEAR, built, rule_set

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def town(db):
    return TownshipFactory(name="石鼓镇")


def holder(town, *windows):
    person = PersonFactory(township=town)
    for category, start, end in windows:
        IdentityFactory(person=person, category=category, valid_from=start, valid_to=end)
    return person


def entry(person):
    return SubsidyEntry.objects.get(person=person, year=YEAR)


def test_full_and_fixed_rules(town):
    tk = holder(town, ("TK", datetime.date(2020, 1, 1), None))
    db = holder(town, ("DB", datetime.date(2021, 3, 1), None))
    counts = built(rule_set(town.county, rules={"TK": "full", "DB": "250"}))
    assert (entry(tk).mode, entry(tk).amount, entry(tk).person_pays) == ("full", D("380.00"), D("0.00"))
    assert (entry(db).mode, entry(db).amount, entry(db).person_pays) == ("fixed", D("250.00"), D("130.00"))
    assert (counts.listed, counts.added, counts.total) == (2, 2, D("630.00"))


def test_tk_and_db_holder_gets_the_full_subsidy_once(town):
    both = holder(town, ("DB", datetime.date(2019, 1, 1), None), ("TK", datetime.date(2022, 5, 1), None))
    counts = built(rule_set(town.county, rules={"TK": "full", "DB": "250"}))
    assert SubsidyEntry.objects.filter(person=both).count() == 1
    assert (entry(both).category, entry(both).amount) == ("TK", D("380.00"))
    assert counts.total == D("380.00")


def test_larger_fixed_amount_beats_category_precedence(town):
    # TK ranks above DB, but a TK rule paying less is less favourable.
    person = holder(town, ("DB", datetime.date(2019, 1, 1), None), ("TK", datetime.date(2019, 1, 1), None))
    built(rule_set(town.county, rules={"TK": "100", "DB": "full"}))
    assert (entry(person).category, entry(person).mode) == ("DB", "full")


def test_identity_ending_the_day_before_the_reference_date_is_out(town):
    ended = holder(town, ("DB", datetime.date(2020, 1, 1), REFERENCE - datetime.timedelta(days=1)))
    on_the_day = holder(town, ("DB", datetime.date(2020, 1, 1), REFERENCE))
    built(rule_set(town.county, new_in_year=False))
    assert not SubsidyEntry.objects.filter(person=ended).exists()
    assert entry(on_the_day).kind == "reference"


def test_unsubsidised_category_and_other_county_are_out(town):
    zb = holder(town, ("ZB", datetime.date(2020, 1, 1), None))
    elsewhere = TownshipFactory(county=CountyFactory(name="化州市", code="440982"), name="化州镇")
    other = holder(elsewhere, ("TK", datetime.date(2020, 1, 1), None))
    built(rule_set(town.county))
    assert not SubsidyEntry.objects.filter(person__in=[zb, other]).exists()


def test_new_in_year(town):
    new = holder(town, ("DB", datetime.date(YEAR, 4, 1), None))
    next_year = holder(town, ("DB", datetime.date(YEAR + 1, 1, 1), None))
    counts = built(rule_set(town.county))
    assert (entry(new).kind, entry(new).identified_on, entry(new).amount) == (
        "added",
        datetime.date(YEAR, 4, 1),
        D("250"),
    )
    assert not SubsidyEntry.objects.filter(person=next_year).exists()
    assert (counts.reference, counts.new_in_year) == (0, 1)


def test_new_in_year_not_subsidised_when_the_rules_say_so(town):
    holder(town, ("DB", datetime.date(YEAR, 4, 1), None))
    assert built(rule_set(town.county, new_in_year=False)).listed == 0


def test_someone_listed_on_the_reference_date_is_not_added_again(town):
    person = holder(town, ("DB", datetime.date(2020, 1, 1), None), ("TK", datetime.date(YEAR, 3, 1), None))
    built(rule_set(town.county))
    assert (entry(person).kind, entry(person).category) == ("reference", "DB")


def test_rebuild_follows_the_registry(town):
    person = holder(town, ("DB", datetime.date(2020, 1, 1), None))
    rs = rule_set(town.county)
    built(rs)
    again = built(rs)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    identity = person.identities.get()
    identity.valid_to = datetime.date(2025, 6, 30)
    identity.save()
    assert built(rs).removed == 1
    assert not SubsidyEntry.objects.filter(person=person).exists()


def test_most_favourable_rule_is_pure():
    rules = [R.Rule("TK", "full"), R.Rule("DB", "fixed", D("250")), R.Rule("ZB", "none")]
    assert R.most_favourable(["DB", "TK"], rules, D("380")).category == "TK"
    assert R.most_favourable(["ZB"], rules, D("380")) is None
    assert R.subsidy(R.Rule("DB", "fixed", D("500")), D("380")) == D("380")


def test_rule_errors():
    twice = R.rule_errors([R.Rule("DB", "fixed", D("250")), R.Rule("DB", "full")], D("380"))
    assert twice == ["最低生活保障对象（DB）列了不止一次，每个类别只能有一条资助规则"]
    assert R.rule_errors([R.Rule("DB", "fixed", D("-1"))], D("380")) == ["最低生活保障对象：定额资助金额不能为负数"]


def test_a_roster_import_rebuilds_the_lists_it_touches(town, django_capture_on_commit_callbacks, eager_tasks):
    import time_machine

    from recipients.demo import ROSTER_HEADERS, to_csv
    from recipients.services import roster_import_create, roster_import_run

    rule_set(town.county)
    person = PersonFactory.build(township=town)
    row = [person.id_number, "新认定", "低保", "2024-05-01", "", town.name, "", "", "", "", "民政"]
    content = to_csv([row], headers=ROSTER_HEADERS)
    with (
        time_machine.travel(datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record = roster_import_create(user=None, file_name="r.csv", content=content, source="MZ", enqueue=False)
        record = roster_import_run(roster_import=record, user=None)
    assert record.status == "done", record.errors
    listed = SubsidyEntry.objects.get(person__id_number=person.id_number)
    assert (listed.category, listed.amount) == ("DB", D("250.00"))
