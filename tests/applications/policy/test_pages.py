import pytest
from django.urls import reverse

from applications.policy.services import policy_load_preset
from tests.conftest import client_for
from tests.factories import CountyFactory


@pytest.fixture
def versions(db):
    county = CountyFactory()
    maoming, _ = policy_load_preset(name="maoming-2018", county=county)
    jiangmen, _ = policy_load_preset(name="jiangmen-2019", county=county, activate=False)
    return maoming, jiangmen


def test_policy_table_shows_every_maoming_cell(reviewer_client, versions):
    maoming, _ = versions
    page = reviewer_client.get(reverse("applications:policy_detail", args=[maoming.pk]))
    assert page.status_code == 200
    html = page.text
    assert "茂民规〔2018〕3号" in html
    assert html.count("100%") >= 6  # TK and GE: three visit types each
    assert html.count("60,000.00 元") >= 9  # DB, JD, QT: three visit types each (two decimals, as every amount)
    assert "3,000.00 元" in html and "30,000.00 元" in html and "20,000.00 元" in html
    assert "无第一轮救助" in html  # DSR, ZB and the categories the plan does not name


def test_to_confirm_values_are_marked(reviewer_client, versions):
    _, jiangmen = versions
    html = reviewer_client.get(reverse("applications:policy_detail", args=[jiangmen.pk])).text
    assert 'data-testid="to-confirm"' in html and "须由系统管理员确认" in html
    listing = reviewer_client.get(reverse("applications:policy_list")).text
    assert "项待确认" in listing and "草稿" in listing


def test_finance_does_not_see_policies(client, finance, versions):
    client_for(client, finance)
    assert client.get(reverse("applications:policy_list")).status_code == 403
