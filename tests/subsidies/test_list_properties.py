"""The set-based list agrees with the plain rule (subsidies.rules.most_favourable) on random registries and rules:
each person once, at the most favourable rule of the identities valid on the reference date, else (when the rules
say so) of those gained later in the insurance year; never a negative amount, never more than the premium."""

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lib.bench import rolled_back
from recipients.models import Identity
from subsidies import rules as R
from subsidies.models import SubsidyEntry
from tests.conftest import db_examples
from tests.factories import PersonFactory

from .helpers import REFERENCE, YEAR, built, rule_set

CATEGORIES = ["TK", "GE", "DB", "JD", "FP", "BY", "DSR", "ZB"]
DAY0 = datetime.date(2024, 1, 1)
how = st.one_of(st.just("full"), st.just("none"), st.integers(0, 500).map(str))
windows = st.lists(
    st.tuples(st.sampled_from(CATEGORIES), st.integers(0, 1000), st.one_of(st.none(), st.integers(0, 400))),
    min_size=1,
    max_size=3,
    unique_by=lambda w: (w[0], w[1]),
)


def expected(identities, rules, premium, new_in_year):
    def best(found):
        rule = R.most_favourable([c for c, _ in found], rules, premium)
        if rule is None:
            return None
        return rule, min(start for c, start in found if c == rule.category)

    on_reference = [(i.category, i.valid_from) for i in identities if i.is_valid_on(REFERENCE)]
    found = best(on_reference)
    if found:
        return "reference", *found
    later = [(i.category, i.valid_from) for i in identities if REFERENCE < i.valid_from <= datetime.date(YEAR, 12, 31)]
    found = best(later) if new_in_year else None
    return ("added", *found) if found else None


@db_examples(15)
@given(
    rules=st.fixed_dictionaries({}, optional={c: how for c in CATEGORIES}),
    people=st.lists(windows, min_size=1, max_size=6),
    new_in_year=st.booleans(),
)
def test_list_agrees_with_the_plain_rule(township, rules, people, new_in_year):
    premium = Decimal("380")
    plain = [
        R.Rule(c, "fixed" if h not in ("full", "none") else h, Decimal(h) if h not in ("full", "none") else None)
        for c, h in rules.items()
    ]
    with rolled_back():
        persons = []
        for person_windows in people:
            person = PersonFactory(township=township)
            for category, start, length in person_windows:
                valid_from = DAY0 + datetime.timedelta(days=start)
                valid_to = None if length is None else valid_from + datetime.timedelta(days=length)
                Identity.objects.create(
                    person=person, category=category, source="MZ", valid_from=valid_from, valid_to=valid_to
                )
            persons.append(person)
        built(rule_set(township.county, rules=rules or {"TK": "none"}, new_in_year=new_in_year))
        for person in persons:
            want = expected(list(person.identities.all()), plain, premium, new_in_year)
            got = SubsidyEntry.objects.filter(person=person).first()
            if want is None:
                assert got is None
                continue
            kind, rule, identified_on = want
            assert (got.kind, got.category, got.identified_on) == (kind, rule.category, identified_on)
            assert got.amount == R.subsidy(rule, premium) and 0 < got.amount <= premium
            assert got.person_pays == premium - got.amount
