"""Finding a settlement by its 结算单号 in the browser, within what the user may see."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PersonFactory
from tests.settlements.test_views import OWN_ID, UNREGISTERED_ID, _settlement

pytestmark = pytest.mark.django_db


@pytest.fixture
def settlements(township, other_township):
    own_person = PersonFactory(name="王秀英", township=township, id_number=OWN_ID)
    foreign_person = PersonFactory(name="李建国", township=other_township)
    _settlement("JS20250001", own_person.id_number, hospital="高州市人民医院")
    _settlement("JS20250002", own_person.id_number, hospital="茂名市人民医院")
    _settlement("JS20260001", foreign_person.id_number, hospital="高州市人民医院")
    _settlement("ZY99", UNREGISTERED_ID, hospital="高州市人民医院")


def numbers(page) -> list[str]:
    return [s.number for s in page.context["page"].object_list]


def test_the_number_or_its_beginning_finds_settlements_across_hospitals(client, reviewer, settlements):
    client_for(client, reviewer)
    url = reverse("settlements:settlement_list")
    assert numbers(client.get(url, {"q": "JS20250002"})) == ["JS20250002"]
    found = client.get(url, {"q": "JS2025"})
    assert numbers(found) == ["JS20250001", "JS20250002"]
    assert "结算单号“JS2025”的查找结果" in found.text
    assert numbers(client.get(url, {"q": "JS2025", "year": "2025"})) == ["JS20250001", "JS20250002"]
    assert numbers(client.get(url, {"q": "nothing"})) == []
    assert 'data-testid="number-search"' in client.get(reverse("settlements:hospital_list")).text


def test_a_clerk_finds_only_their_townships_settlements(client, clerk, settlements):
    client_for(client, clerk)
    url = reverse("settlements:settlement_list")
    assert numbers(client.get(url, {"q": "JS"})) == ["JS20250001", "JS20250002"]
    assert numbers(client.get(url, {"q": "ZY99"})) == []
