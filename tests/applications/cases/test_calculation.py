"""The calculation of an application at review (applications.cases.calculation): on top of the person's year,
with the most favourable category per bill."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from hypothesis import example, given
from hypothesis import strategies as st

from applications.cases.services import case_accept, case_add_bill, case_create, case_review, case_submit
from applications.cases.workflow import TransitionRefused
from applications.models import LedgerEntry, PolicyVersion, RegionIncome
from applications.policy import engine
from applications.policy.selectors import engine_policy
from applications.policy.services import policy_load_preset
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


def test_the_review_says_the_income_standard_is_missing_even_when_another_identity_has_no_benefit(
    national, township, clerk, reviewer
):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="BY", valid_from=datetime.date(2024, 1, 1))
    IdentityFactory(person=person, category="JD", valid_from=datetime.date(2024, 1, 1))
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        invoice_number="F1",
        total=D("6000"),
        in_policy=D("5000"),
    )
    case = case_submit(case=case_accept(case=case, user=clerk), user=clerk)
    with pytest.raises(TransitionRefused, match="人均可支配收入"):
        case_review(case=case, user=reviewer)  # proposes 0.00 instead


# --- the chosen category is never worse than any single valid category ---------------------------------------


@pytest.fixture(
    params=[
        "maoming-2018",
        "national-2021",
    ]
)
def preset(request, township):
    version, _ = policy_load_preset(name=request.param, county=township.county)
    RegionIncome.objects.create(county=township.county, year=2024, amount=D("30000"))  # BY/FP 3,000, ZB 7,500
    return version


def alone(policy, category, bills) -> Decimal:
    """What the person would get over the bills, in order, holding only this category."""
    pools, total = {}, D("0")
    for visit_type, amounts in bills:
        result = engine.best_first_round(policy, [category], visit_type, engine.Amounts(**amounts), pools)
        if result.pool is not None:
            engine.add_to_pool(pools, result.pool, result.ledger_change())
        total += result.amount
    return total


E_2000 = {"total": D("3000"), "in_policy": D("2000"), "basic": D("0"), "critical": D("0"), "other": D("0")}
E_5000 = {"total": D("6000"), "in_policy": D("5000"), "basic": D("0"), "critical": D("0"), "other": D("0")}


@db_examples(15)
@given(
    categories=st.lists(st.sampled_from(Category.values), min_size=1, max_size=3, unique=True),
    bills=st.lists(st.tuples(st.sampled_from(VISIT_TYPES), money()), min_size=1, max_size=4),
)
@example(categories=["JD", "BY"], bills=[("住院", E_2000), ("住院", E_5000)])  # 1,200 proposed; BY alone: 2,400
def test_the_review_proposes_at_least_what_any_single_valid_category_would_give(
    preset, township, clerk, reviewer, categories, bills
):
    policy = engine_policy(PolicyVersion.objects.get(pk=preset.pk), year=2025)
    with rolled_back():
        person = PersonFactory(township=township)
        for category in categories:
            IdentityFactory(person=person, category=category, valid_from=datetime.date(2024, 1, 1))
        fields = [
            bill_on(day_in(month), visit_type=visit_type, invoice=f"F{month}", **amounts)
            for month, (visit_type, amounts) in enumerate(bills, start=1)
        ]
        case = case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=fields)
        for category in categories:
            assert case.proposed_amount >= alone(policy, category, bills), category
