"""Paid cases to recover from, built through the case services, in a county with a policy and funds."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.roles import Role
from applications.cases.services import case_approve, cases_mark_paid
from applications.models import Case
from applications.policy.services import policy_load_preset
from tests.factories import (
    CountyFactory,
    IdentityFactory,
    PersonFactory,
    UserFactory,
    bill_on,
    case_in_approval,
    fund_county,
)

D = Decimal
NOW = datetime.datetime(2026, 11, 20, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai
STAY = datetime.date(2026, 6, 10)
# Taishan's stay: E = 38,000 − 20,000 − 6,000 = 12,000; a DB person gets 80 % of it under Maoming 2018.
TAISHAN = {"total": D("42000"), "in_policy": D("38000"), "basic": D("20000"), "critical": D("6000")}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def maoming(township):
    version, _ = policy_load_preset(name="maoming-2018", county=township.county)
    return version


@pytest.fixture
def funded(db):
    return fund_county(CountyFactory())


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role=Role.FINANCE)


def db_person(township, since=datetime.date(2025, 1, 1), until=None, **fields):
    person = PersonFactory(township=township, **fields)
    IdentityFactory(person=person, category="DB", valid_from=since, valid_to=until)
    return person


def paid_case(person, *, clerk, reviewer, approver, invoice="F1", day=STAY, **money) -> Case:
    """A window case approved (9,600.00 for a DB person with the Taishan stay) and paid."""
    bill = bill_on(day, invoice=invoice, **{**TAISHAN, **money})
    case = case_approve(case=case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill]), user=approver)
    cases_mark_paid(case_ids=[case.pk], user=None, comment="银行回盘确认发放")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def paid(maoming, township, clerk, reviewer, approver):
    return paid_case(db_person(township), clerk=clerk, reviewer=reviewer, approver=approver)
