"""A name or ID number typed into the payout line searches never goes into a URL (lib.searches)."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.test_pagination import batch_with_lines

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("where", ["line_search", "batch_detail"])
def test_the_typed_text_is_posted_and_kept_out_of_the_url(client, finance, township, where):
    batch = batch_with_lines(township, finance, 3)
    line = batch.lines.order_by("reference").first()
    client_for(client, finance)
    url = reverse("payouts:line_search") if where == "line_search" else reverse("payouts:batch_detail", args=[batch.pk])
    data = {"q": line.id_number} | ({"search": "1"} if where == "batch_detail" else {})
    response = client.post(url, data)
    assert response.status_code == 302 and line.id_number not in response.url
    page = client.get(response.url)
    assert [x.pk for x in page.context["page"].object_list] == [line.pk]
