"""The policy edit page shows ratios as people write them (100, 80) and puts every error at its top, linked."""

import pytest
from django.urls import reverse

from applications.models import PolicyVersion
from applications.policy.services import policy_copy_to_draft, policy_load_preset
from tests.applications.policy.test_editing import post_data
from tests.conftest import client_for
from tests.factories import CountyFactory


@pytest.fixture
def draft(db, admin_user):
    version, _ = policy_load_preset(name="maoming-2018", county=CountyFactory())
    return policy_copy_to_draft(version=version, user=admin_user)


def test_ratios_show_as_plain_numbers(client, admin_user, draft):
    client_for(client, admin_user)
    page = client.get(reverse("applications:policy_edit", args=[draft.pk])).text
    assert "E+" not in page
    assert 'value="100"' in page and 'value="80"' in page


def test_an_invalid_row_is_listed_at_the_top_with_a_link_to_its_field(client, admin_user, draft):
    client_for(client, admin_user)
    url = reverse("applications:policy_edit", args=[draft.pk])
    page = client.get(url)
    changes = {"first-0-ratio_percent": "120", "second-3-enabled": "on", "second-3-bands_text": "十成"}
    response = client.post(url, post_data(page, changes))
    html = response.text
    summary = html[html.index('data-testid="error-summary"') :]
    assert html.index('data-testid="error-summary"') < html.index("第一轮救助</h2>")
    assert "有 2 处需要修改" in summary
    assert 'href="#id_first-0-ratio_percent"' in summary and 'href="#id_second-3-bands_text"' in summary
    assert PolicyVersion.objects.get(pk=draft.pk).first_round_rules.get(category="TK", visit_type="门诊").ratio == 1
