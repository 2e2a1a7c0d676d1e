"""A county (高州市, the townships' default) whose policy names an insurer for 2026, and two finance users."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.roles import Role
from applications.models import Bill, Case
from applications.policy.services import policy_activate, policy_load_preset
from insurers.services import statement_build, statement_request, terms_save
from tests.factories import ApprovedCaseFactory, IdentityFactory, PersonFactory, UserFactory, settle

D = Decimal


def at(day: str):
    """Freeze the clock at noon of the day (Asia/Shanghai is ahead of UTC: noon UTC is the same local day)."""
    return time_machine.travel(datetime.datetime.fromisoformat(f"{day}T04:00:00+00:00"), tick=False)


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role=Role.FINANCE)


@pytest.fixture
def county(township):
    return township.county


@pytest.fixture
def terms(county, admin_user):
    """maoming-2018 for the county with 中国人寿 as the insurer for 2026 (0.8%, at most 100,000 a year)."""
    version, _ = policy_load_preset(name="maoming-2018", county=county, activate=False)
    terms = terms_save(
        version=version,
        user=admin_user,
        data={
            "enabled": True,
            "insurer_name": "中国人寿保险股份有限公司茂名分公司",
            "contract_number": "MM-YLJZ-2026",
            "contract_start": datetime.date(2026, 1, 1),
            "contract_end": datetime.date(2026, 12, 31),
            "fee_rate": D("0.008"),
            "fee_cap": D("100000"),
        },
    )
    policy_activate(version=version, user=admin_user)
    return terms


@pytest.fixture
def db_person(township):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person


@pytest.fixture
def tk_person(township):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="TK", valid_from=datetime.date(2024, 1, 1))
    return person


def onestop(person, day: datetime.date, amount, visit_type="住院"):
    """A one-stop settlement of the person with `amount` of assistance paid at the hospital."""
    return settle(person, day=day, onestop=D(amount), visit_type=visit_type)


def manual(person, day: datetime.date, granted, *, visit_type="住院"):
    """An approved 零星 case with one bill granted `granted`."""
    case = ApprovedCaseFactory(person=person, approved_amount=D(granted))
    dates = (
        {"admitted_on": day - datetime.timedelta(days=5), "discharged_on": day}
        if visit_type == "住院"
        else {"visit_on": day}
    )
    Bill.objects.create(
        case=case,
        hospital="广州医科大学附属第一医院",
        visit_type=visit_type,
        invoice_number=f"FP{case.pk:06d}",
        total=D("20000"),
        in_policy=D("15000"),
        basic=D("8000"),
        granted=D(granted),
        **dates,
    )
    return case


def secondary(person, decided: datetime.datetime, amount, year=2026):
    return ApprovedCaseFactory(
        person=person, source=Case.Source.SECONDARY, year=year, approved_amount=D(amount), decided_at=decided
    )


def build(*, county, user, kind="half", year=2026, half=1):
    """Request and build a statement in this process (what the task does)."""
    statement = statement_request(user=user, county=county, kind=kind, year=year, half=half, queue=False)
    return statement_build(statement_id=statement.pk)
