"""An ID number typed into a search box never lands in a URL: the form posts, the list is shown by a key."""

import re

import pytest
from django.urls import reverse

from applications.cases.services import case_create
from tests.conftest import client_for
from tests.factories import PersonFactory


@pytest.mark.parametrize("name", ["applications:case_list", "applications:lead_list"])
def test_searching_by_id_number_keeps_it_out_of_the_url(client, clerk, township, name):
    person = PersonFactory(township=township)
    case = case_create(person=person, user=clerk)
    client_for(client, clerk)
    response = client.post(reverse(name), {"q": person.id_number, "status": ""})
    assert response.status_code == 302
    location = response["Location"]
    assert person.id_number not in location and "s=" in location
    page = client.get(location)
    assert page.status_code == 200
    if name == "applications:case_list":
        assert case.number in page.text
    assert person.id_number in page.context["form"]["q"].value()


def test_another_session_cannot_use_the_key(client, clerk, township):
    person = PersonFactory(township=township)
    client_for(client, clerk)
    location = client.post(reverse("applications:case_list"), {"q": person.id_number})["Location"]
    client.logout()
    client_for(client, clerk)  # a new session
    page = client.get(location)
    assert page.status_code == 200 and page.context["form"]["q"].value() in (None, "")


def test_the_home_page_search_posts(client, clerk, township):
    """The home page's person search posts like the lists do."""
    client_for(client, clerk)
    home = client.get("/").text
    forms = re.findall(r"<form[^>]*>.*?</form>", home, re.S)
    searching = [f for f in forms if 'name="q"' in f]
    assert searching and all('method="post"' in f for f in searching)
    assert 'action="/recipients/people/"' in searching[0]
    person = PersonFactory(township=township)
    response = client.post(reverse("recipients:person_list"), {"q": person.id_number})
    assert response.status_code == 302 and person.id_number not in response["Location"]
