"""The calculation of an application at review (applications.cases.calculation): on top of the person's year."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from applications.cases.services import case_accept, case_add_bill, case_create, case_review, case_submit
from applications.cases.workflow import TransitionRefused
from applications.models import LedgerEntry
from applications.policy.services import policy_load_preset
from tests.factories import IdentityFactory, PersonFactory, settle

D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def person(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    p = PersonFactory(township=township)
    IdentityFactory(person=p, category="DB", valid_from=datetime.date(2024, 1, 1))
    return p


def test_review_counts_one_stop_assistance_already_paid_against_the_cap(person, clerk, reviewer):
    settle(person, day=datetime.date(2025, 3, 1), onestop=D("11000"), total=D("90000"), in_policy=D("80000"))
    LedgerEntry.objects.create(person=person, year=2025, pool="住院", granted=D("44000"))
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="广州市第一人民医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        invoice_number="F1",
        total=D("42000"),
        in_policy=D("38000"),
        basic=D("20000"),
        critical=D("6000"),
    )
    case = case_accept(case=case, user=clerk)
    case = case_submit(case=case, user=clerk)
    case = case_review(case=case, user=reviewer)
    assert case.proposed_amount == D("5000.00")  # cap 60,000 − 44,000 approved − 11,000 paid one-stop


@pytest.fixture
def national(township):
    policy_load_preset(name="national-2021", county=township.county)  # no income standard stored


def test_the_review_cannot_compute_without_the_income_standard_and_says_so(national, township, clerk, reviewer):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="BY", valid_from=datetime.date(2024, 1, 1))
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        invoice_number="F1",
        total=D("1000"),
        in_policy=D("900"),
        basic=D("500"),
    )
    case = case_submit(case=case_accept(case=case, user=clerk), user=clerk)
    with pytest.raises(TransitionRefused, match="人均可支配收入"):
        case_review(case=case, user=reviewer)
