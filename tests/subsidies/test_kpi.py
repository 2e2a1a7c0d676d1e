"""资助参保率 = enrolled ÷ listed, against its target, by township and category, on the dashboard and in the Excel
report; the subsidy spending (Σ subsidy of the enrolled) is its own line of the fund ledger."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.excel import report_workbook
from reports.facts import refresh_facts
from reports.models import FundEntry
from reports.selectors import dashboard
from subsidies.models import Enrolment
from subsidies.selectors import coverage
from tests.conftest import client_for
from tests.factories import IdentityFactory, PersonFactory

from .helpers import YEAR, built, rule_set

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def forty(township, other_township):
    """40 listed: 30 DB of 石鼓镇 (250 each), 10 TK of 东岸镇 (380 each); 38 enrolled — two DB of 石鼓镇 not."""
    people = []
    for n in range(40):
        town, category = (township, "DB") if n < 30 else (other_township, "TK")
        person = PersonFactory(township=town)
        IdentityFactory(person=person, category=category, valid_from=datetime.date(2020, 1, 1))
        people.append(person)
    built(rule_set(township.county, rules={"TK": "full", "DB": "250"}))
    now = timezone.now()
    Enrolment.objects.bulk_create(
        Enrolment(person=p, year=YEAR, status="not_enrolled" if n < 2 else "enrolled", updated_at=now)
        for n, p in enumerate(people)
    )
    return people


def test_rate_on_the_hand_computed_example(forty, township):
    c = coverage(year=YEAR, county=township.county)
    assert (c.total.listed, c.total.enrolled, c.total.value) == (40, 38, D("0.95"))
    assert (c.target, c.met) == (D("1"), False)
    assert c.total.amount == 28 * D("250") + 10 * D("380")  # 10,800.00
    towns = dict(c.by_township)
    assert (towns["石鼓镇"].enrolled, towns["石鼓镇"].listed, towns["东岸镇"].value) == (28, 30, D("1"))
    cats = dict(c.by_category)
    assert list(cats) == ["TK", "DB"]  # in precedence order
    assert cats["DB"].detail == "28 ÷ 30"


def test_township_scope(forty, township):
    c = coverage(year=YEAR, township=township)
    assert (c.total.listed, c.total.enrolled) == (30, 28)


def test_spending_is_a_line_of_the_fund(forty, township):
    FundEntry.objects.create(county=township.county, year=YEAR, source="grant", amount=D("100000"))
    fund = dashboard(year=YEAR, county=township.county)["fund"]
    assert fund["subsidy"] == D("10800.00")
    assert fund["spent"] == fund["paid_out"] + fund["onestop"] + D("10800.00")
    assert fund["balance"] == D("100000") - fund["spent"]


def test_dashboard_and_excel_show_it(client, supervisor, forty, township):
    refresh_facts(year=YEAR)
    text = client_for(client, supervisor).get(reverse("reports:dashboard"), {"year": YEAR}).content.decode()
    assert 'data-testid="kpi-subsidy"' in text and "95.00%" in text and "38 ÷ 40" in text
    assert 'data-testid="subsidy-by-township"' in text and "10,800.00" in text
    book = load_workbook(io.BytesIO(report_workbook(year=YEAR, county=township.county)))
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    kpi = next(row for row in summary if row[0] and str(row[0]).startswith("资助参保率"))
    assert kpi[1:5] == [0.95, "38 ÷ 40", 1, "未达标"]
    assert any(row[0] == "资助参保" and row[1] == 10800 for row in summary)
    sheet = [[c.value for c in row] for row in book["资助参保"].iter_rows()]
    assert ["石鼓镇", 30, 28, 2, pytest.approx(28 / 30), 7000] in sheet
    assert ["合计", 40, 38, 2, 0.95, 10800] in sheet
