import datetime
from decimal import Decimal

import pytest
import time_machine

from monitoring.models import Threshold
from tests.factories import IdentityFactory, PersonFactory

TODAY = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def threshold(county, year=2026, population="registry", amount="10000", basis="calendar", step="5000", **extra):
    return Threshold.objects.create(
        county=county,
        year=year,
        population=population,
        kind=extra.pop("kind", Threshold.Kind.AMOUNT),
        amount=Decimal(amount) if amount is not None else None,
        basis=basis,
        relist_step=Decimal(step),
        **extra,
    )


@pytest.fixture
def thresholds(township):
    """西安's practice: low-income people from 10,000 a year, everyone else from 26,000."""
    return [
        threshold(township.county, population="registry", amount="10000"),
        threshold(township.county, population="general", amount="26000"),
    ]


@pytest.fixture
def registered(township):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person
