"""A NUL byte or another control character in any query or form field is a 400 with a message, never a 500."""

import pytest
from django.urls import reverse

from tests.conftest import client_for


@pytest.mark.parametrize(
    "url",
    [
        "/payouts/lines/?q=%00",
        "/people/?q=%01abc",
        "/cases/?q=a%00b",
        "/leads/?q=%7F",
        "/audit/?action=%00",
        "/subsidies/?q=%00",
        "/subsidies/?year=2025%00",
        "/supervision/recoveries/?q=%00",
        "/supervision/suggestions/?status=%00",
        "/followups/tickets/?q=a%00",
        "/monitoring/?month=2025-09%00",
        "/monitoring/zb/?q=%00",
        "/insurers/?q=%00",
    ],
)
def test_control_characters_in_a_query_are_a_400(client, finance, url):
    client_for(client, finance)
    response = client.get(url)
    assert response.status_code == 400
    assert "控制字符" in response.text


def test_control_characters_in_a_form_field_are_a_400_and_change_nothing(client, clerk, township):
    from recipients.models import Person

    client_for(client, clerk)
    before = Person.objects.count()
    response = client.post(reverse("applications:case_new_applicant"), {"id_number": "1\x00", "name": "张\x00三"})
    assert response.status_code == 400 and Person.objects.count() == before


def test_tabs_and_line_breaks_in_a_textarea_are_fine(client, finance):
    client_for(client, finance)
    assert client.get("/payouts/lines/?q=a%09b%0D%0A").status_code == 200
