import datetime

import pytest
from django.urls import reverse

from applications.policy.services import policy_load_preset
from tests.factories import IdentityFactory, PersonFactory

URL = reverse("applications:calculator")


@pytest.fixture
def policy(township):
    version, _ = policy_load_preset(name="maoming-2018", county=township.county)
    return version


def form(**values):
    data = {
        "id_number": "",
        "category": "",
        "service_date": "2025-06-30",
        "visit_type": "住院",
        "total": "42000",
        "in_policy": "38000",
        "basic": "20000",
        "critical": "6000",
        "other": "0",
        "donation": "0",
    }
    data.update(values)
    return data


def test_a_person_holding_db_and_tk_is_calculated_as_tk_with_the_id_masked(clerk_client, township, policy):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    IdentityFactory(person=person, category="TK", valid_from=datetime.date(2025, 1, 1))
    html = clerk_client.post(URL, form(id_number=person.id_number)).text
    assert "12,000.00 元" in html  # E = 38,000 − 20,000 − 6,000 at 100%
    assert "就高不重复取特困供养人员" in html
    result = html.split('data-testid="result"')[1]
    assert person.id_number not in result  # the result names the person with a masked ID
    assert person.id_number[:4] + "**********" + person.id_number[-4:] in result


def test_identity_ended_the_day_before_the_service_date_gives_nothing(clerk_client, township, policy):
    person = PersonFactory(township=township)
    IdentityFactory(
        person=person, category="DB", valid_from=datetime.date(2024, 1, 1), valid_to=datetime.date(2025, 6, 29)
    )
    html = clerk_client.post(URL, form(id_number=person.id_number)).text
    assert '第一轮救助：<span class="text-success">0.00 元</span>' in html
    assert "没有有效的救助身份" in html


def test_a_category_alone_is_calculated_at_its_ratio(reviewer_client, policy):
    html = reviewer_client.post(URL, form(category="DB")).text
    assert "9,600.00 元" in html  # 12,000 × 80%


def test_clerk_cannot_calculate_for_another_township_person(clerk_client, other_township, policy):
    person = PersonFactory(township=other_township)
    IdentityFactory(person=person)
    html = clerk_client.post(URL, form(id_number=person.id_number)).text
    assert "没有找到此人" in html and 'data-testid="result"' not in html


def test_a_date_without_a_policy_in_force_is_refused_with_a_message(reviewer_client, policy):
    html = reviewer_client.post(URL, form(category="DB", service_date="2015-01-01")).text
    assert "该日期没有生效的救助政策" in html


def test_inconsistent_amounts_are_refused(reviewer_client, policy):
    html = reviewer_client.post(URL, form(category="DB", in_policy="50000")).text
    assert "政策范围内费用不能大于医疗总费用" in html and 'data-testid="result"' not in html
