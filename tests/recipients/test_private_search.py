"""Searching people by ID number keeps the number out of the URL; the person page is built from the panels of
the parts of the portal that know about the person."""

from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PersonFactory


def test_person_search_by_full_id_posts_and_redirects_without_the_number(client, clerk, township):
    person = PersonFactory(township=township)
    client_for(client, clerk)
    response = client.post(reverse("recipients:person_list"), {"q": person.id_number})
    assert response.status_code == 302 and person.id_number not in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and person.name in page.text
    assert 'method="post"' in page.text


def test_person_page_shows_the_settlement_and_payment_panels_to_those_who_may_see_them(
    client, clerk, finance, township
):
    person = PersonFactory(township=township)
    client_for(client, clerk)
    page = client.get(reverse("recipients:person_detail", args=[person.pk])).text
    assert 'data-testid="person-settlements"' in page and 'data-testid="payments"' in page
    client_for(client, finance)  # finance sees cases but not settlement data
    page = client.get(reverse("recipients:person_detail", args=[person.pk])).text
    assert 'data-testid="person-settlements"' not in page and 'data-testid="payments"' in page
