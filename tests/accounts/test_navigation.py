"""The top menu marks the one menu the page belongs to, by the entry that covers most of the page's path."""

import pytest
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["subsidies:import_list", "subsidies:rules_list", "subsidies:entry_list"])
def test_one_menu_is_marked(client, supervisor, name):
    client_for(client, supervisor)
    response = client.get(reverse(name))
    marked = [item["label"] for item in response.context["portal_nav"] if item["active"]]
    assert len(marked) == 1, marked
