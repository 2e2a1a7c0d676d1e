"""Paid payout lines to draw follow-up plans from."""

import datetime
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.roles import Role
from applications.models import Case
from payouts.models import PayoutBatch, PayoutLine
from tests.factories import ApprovedCaseFactory, PersonFactory, TownshipFactory, UserFactory

PAID_ON = datetime.date(2026, 11, 20)
NOW = datetime.datetime(2026, 11, 25, 2, 0, tzinfo=datetime.UTC)  # the moment every test here runs at


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


_references = itertools.count(1)


def paid_at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def make_batch(maker, county, number="ZF20261120001") -> PayoutBatch:
    return PayoutBatch.objects.create(
        number=number, county=county, created_by=maker, status=PayoutBatch.Status.RETURNED
    )


def paid_line(
    batch, township, *, amount="1000.00", day=PAID_ON, person=None, status=PayoutLine.Status.PAID, **person_fields
):
    person = person or PersonFactory(township=township, **person_fields)
    case = ApprovedCaseFactory(person=person, status=Case.Status.PAID, number=f"C{next(_references):07d}")
    return batch.lines.create(
        case=case,
        reference=f"{batch.number}-{next(_references):05d}",
        township=township,
        source="window",
        payee_name=person.name,
        payee_account="6228480000123456789",
        payee_bank="中国农业银行高州支行",
        id_number=person.id_number,
        amount=Decimal(amount),
        status=status,
        live=status != PayoutLine.Status.FAILED,
        resolved_at=paid_at(day),
    )


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", role=Role.FINANCE)


@pytest.fixture
def batch(finance, township):
    return make_batch(finance, township.county)


@pytest.fixture
def towns(township, other_township):
    """石鼓镇, 东岸镇 and 长坡镇 of one county."""
    return [township, other_township, TownshipFactory(name="长坡镇")]
