"""What must be resolved before approval (applications.cases.checks): the same stay assisted one-stop, and what is
not the same stay. The checks seen through approval (same invoice, overlapping stays, deadline) are in
test_workflow.py."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from applications.cases.checks import case_duplicates
from applications.cases.services import case_add_bill, case_create
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


def test_a_bill_for_a_stay_already_assisted_one_stop_is_flagged_whatever_the_hospital_is_called(person, clerk):
    s = settle(person, onestop=D("9600"))
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="另一家写法的医院名称",
        visit_type="住院",
        admitted_on=s.admitted_on + datetime.timedelta(days=1),
        discharged_on=s.discharged_on,
        invoice_number="F9",
        total=s.total,
        in_policy=s.in_policy,
        basic=s.basic,
        critical=s.critical,
    )
    problems = case_duplicates(case)
    assert any("一站式结算中获得医疗救助" in p and s.number in p for p in problems)


def test_an_outpatient_visit_at_another_hospital_on_a_one_stop_day_is_not_flagged(person, clerk):
    settle(
        person, visit_type="门诊", onestop=D("100"), total=D("500"), in_policy=D("400"), basic=D("200"), critical=D("0")
    )
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="广州市第一人民医院",
        visit_type="门诊",
        visit_on=datetime.date(2025, 6, 10),
        invoice_number="M1",
        total=D("300"),
        in_policy=D("250"),
        basic=D("100"),
    )
    assert not [p for p in case_duplicates(case) if "一站式" in p]
