"""A lead's estimate is what the review of the application it becomes will propose (DOMAIN §7): the cross-check
and the review read the person's year the same way — earlier approved cases, one-stop assistance (A0 > 0)
using up cap and deductible, identities changing during the year."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from hypothesis import event, given
from hypothesis import strategies as st

from applications.cases.services import case_accept, case_approve, case_review, case_submit
from applications.models import Lead, RegionIncome
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now
from applications.proactive.services import lead_convert
from lib.bench import rolled_back
from recipients.categories import Category
from tests.applications.strategies import VISIT_TYPES, day_in, money
from tests.conftest import db_examples
from tests.factories import IdentityFactory, PersonFactory, bill_on, case_in_approval, settle

D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


# Categories with a first-round benefit under each preset (the person's main identity is one of them).
ELIGIBLE = {
    "maoming-2018": ["TK", "GE", "DB", "JD", "QT"],
    "national-2021": ["TK", "GE", "DB", "SW", "BY", "FP", "ZB"],
}
WINDOWS = [
    (datetime.date(2024, 1, 1), None),
    (datetime.date(2025, 4, 1), None),
    (datetime.date(2024, 1, 1), datetime.date(2025, 4, 30)),
    (datetime.date(2025, 3, 1), datetime.date(2025, 6, 30)),
]


@pytest.fixture(params=list(ELIGIBLE))
def preset(request, township):
    policy_load_preset(name=request.param, county=township.county)
    RegionIncome.objects.create(county=township.county, year=2024, amount=D("30000"))  # BY/FP 3,000, ZB 7,500
    return request.param


@st.composite
def person_years(draw):
    """A person's 2025: identities, settlements waiting for assistance (A0 = 0), one-stop ones (A0 > 0) and
    window applications already approved. Each approved bill has a month of its own (no overlap to hold the
    approval up); settlements may share a day."""
    extra = draw(st.lists(st.tuples(st.sampled_from(Category.values), st.sampled_from(WINDOWS)), max_size=2))
    months = draw(st.permutations(range(1, 9)))
    approved = draw(st.lists(st.tuples(st.sampled_from(VISIT_TYPES), money()), max_size=2))
    free = months[len(approved) :]
    waiting = draw(
        st.lists(st.tuples(st.sampled_from(free), st.sampled_from(VISIT_TYPES), money()), min_size=1, max_size=3)
    )
    onestop = draw(
        st.lists(st.tuples(st.sampled_from(free), st.sampled_from(VISIT_TYPES), money(onestop=True)), max_size=2)
    )
    return {
        "main": draw(st.integers(0, 99)),  # which eligible category, whatever the preset
        "extra": extra,
        "approved": list(zip(months, approved, strict=False)),
        "waiting": waiting,
        "onestop": onestop,
    }


@db_examples(8)
@given(year=person_years())
def test_the_lead_estimate_is_what_the_review_proposes_for_the_same_bills(
    preset, township, clerk, reviewer, approver, year
):
    with rolled_back():
        person = PersonFactory(township=township)
        main = ELIGIBLE[preset][year["main"] % len(ELIGIBLE[preset])]
        held = {(main, datetime.date(2024, 1, 1)): None}
        for category, (start, end) in year["extra"]:
            held.setdefault((category, start), end)  # one window per category and start (a roster rule)
        for (category, start), end in held.items():
            IdentityFactory(person=person, category=category, valid_from=start, valid_to=end)
        for month, visit_type, amounts in year["onestop"]:
            settle(person, day=day_in(month, 10), visit_type=visit_type, **amounts)
        for month, (visit_type, amounts) in year["approved"]:
            bill = bill_on(day_in(month), visit_type=visit_type, invoice=f"W{month}", **amounts)
            case_approve(
                case=case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill]),
                user=approver,
                accept_zero=True,
            )
        for month, visit_type, amounts in year["waiting"]:
            settle(person, day=day_in(month, 10), visit_type=visit_type, **amounts)

        crosscheck_now()
        lead = Lead.objects.filter(person=person, year=2025, status=Lead.Status.OPEN).first()
        if lead is None:
            event("nothing to estimate: no lead")
            return
        estimates = dict(lead.items.filter(active=True).values_list("settlement_number", "estimate"))
        case = lead_convert(lead=lead, user=clerk)
        settlement_of = dict(case.bills.values_list("pk", "settlement_number"))
        case = case_review(case=case_submit(case=case_accept(case=case, user=clerk), user=clerk), user=reviewer)
        proposed = {settlement_of[line["bill"]]: D(line["amount"]) for line in case.calculation}
        assert proposed == estimates  # settlement by settlement
        assert case.proposed_amount == lead.estimate
