"""lib.pages: a list cut into pages, with the other query parameters kept for the page links."""

from django.test import RequestFactory

from lib.pages import paginate


def page_of(query: str, items=range(1, 26), per_page=10):
    return paginate(RequestFactory().get("/cases/?" + query), list(items), per_page)


def test_the_requested_page_and_the_query_without_page():
    page, query = page_of("status=approval&page=2&q=%E7%8E%8B")
    assert list(page) == list(range(11, 21))
    assert query == "status=approval&q=%E7%8E%8B"


def test_a_page_past_the_end_or_not_a_number_gives_the_last_or_first_page():
    assert list(page_of("page=99")[0]) == [21, 22, 23, 24, 25]
    assert list(page_of("page=abc")[0]) == list(range(1, 11))


def test_an_empty_list_has_one_empty_page():
    page, query = page_of("", items=[])
    assert list(page) == [] and page.paginator.num_pages == 1 and query == ""


# --- a queryset's page: the count bounded, the next page known without it, links by key past the numbered pages

import datetime  # noqa: E402
import random  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402

import pytest  # noqa: E402
from django.db.models import F  # noqa: E402

from applications.models import Case  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from tests.factories import PersonFactory  # noqa: E402


def events(n):
    AuditEvent.objects.bulk_create(AuditEvent(action="test.row", object_repr=str(k)) for k in range(n))
    return AuditEvent.objects.order_by("-created_at", "-id")


def page_at(query, items, per_page=5, limit=10):
    return paginate(RequestFactory().get("/audit/?" + query), items, per_page, count_limit=limit)[0]


@pytest.mark.django_db
def test_a_short_list_is_counted_exactly_and_numbered_to_its_last_page():
    items = events(23)
    first = page_at("action=test.row", items, limit=100)
    assert first.paginator.count == 23 and not first.paginator.capped and first.count_label == "23"
    assert first.numbers == [1, 2, 3, 4, 5] and first.has_next() and not first.has_previous()
    assert first.next_query == "action=test.row&page=2"
    last = page_at("page=5", items, limit=100)
    assert len(last) == 3 and not last.has_next() and last.previous_query == "page=4"
    assert page_at("page=99", items, limit=100).number == 5  # past the end: the last page


@pytest.mark.django_db
def test_a_long_list_is_counted_to_the_limit_and_says_so():
    items = events(40)
    first = page_at("", items)
    assert first.paginator.capped and first.paginator.count == 10 and first.count_label == "10+"
    assert first.numbers == [1, 2, None]  # its last page is not known
    second = page_at("page=2", items)
    assert len(second) == 5 and second.has_next()  # one row more than shown was read
    assert second.next_query.startswith("page=3&after=")  # past the numbered pages: by key


@pytest.mark.django_db
def test_a_page_past_the_count_of_a_long_list_is_read_and_past_its_end_gives_its_last_page():
    items = events(40)
    assert list(page_at("page=4", items)) == list(items[15:20])
    last = page_at("page=99", items)
    assert last.number == 8 and list(last) == list(items[35:40]) and not last.has_next()


@pytest.mark.django_db
def test_the_key_links_name_only_an_id():
    items = events(40)
    link = page_at("page=2", items).next_query
    params = parse_qs(link)
    assert set(params) == {"page", "after"} and params["after"][0].isdigit()


def walk(items, per_page=4, limit=8):
    """Every page from the first by its 下一页 links, then back by the 上一页 links."""
    forward = [page_at("", items, per_page, limit)]
    while forward[-1].has_next():
        forward.append(page_at(forward[-1].next_query, items, per_page, limit))
    backward = [forward[-1]]
    while backward[-1].has_previous():
        backward.append(page_at(backward[-1].previous_query, items, per_page, limit))
    return forward, backward[::-1]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_walking_the_links_shows_every_row_once_in_order_both_ways_with_ties_and_nulls(seed, township):
    """Cases sorted by due date (NULLs last) then newest first, many sharing both: by number, then by key."""
    rng = random.Random(seed)
    person = PersonFactory(township=township)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    Case.objects.bulk_create(
        Case(
            number=f"K{k:04d}",
            person=person,
            township=township,
            due_on=rng.choice([None, datetime.date(2025, 2, 1), datetime.date(2025, 2, 2), datetime.date(2025, 3, 1)]),
        )
        for k in range(37)
    )
    Case.objects.update(created_at=start)  # every case at the same moment: only the id breaks the ties
    for case in Case.objects.all():
        if rng.random() < 0.5:
            Case.objects.filter(pk=case.pk).update(created_at=start + datetime.timedelta(hours=rng.randrange(3)))
    items = Case.objects.order_by("due_on", "-created_at")
    expected = list(Case.objects.order_by(F("due_on").asc(nulls_last=True), "-created_at", "-id"))
    forward, backward = walk(items)
    assert [c for p in forward for c in p] == expected
    assert [c for p in backward for c in p] == expected
    assert [p.number for p in forward] == list(range(1, len(forward) + 1))
    assert any("after=" in p.next_query for p in forward) and any("before=" in p.previous_query for p in backward)


@pytest.mark.django_db
def test_a_key_whose_row_is_gone_gives_the_page_of_that_number():
    items = events(40)
    link = page_at("page=2", items).next_query
    AuditEvent.objects.filter(pk=int(parse_qs(link)["after"][0])).delete()
    page = page_at(link, items)
    assert page.number == 3 and list(page) == list(items[10:15])


@pytest.mark.django_db
def test_a_list_ordered_by_an_expression_pages_by_number_only():
    events(40)
    items = AuditEvent.objects.order_by(F("id") * -1)
    second = page_at("page=2", items)
    assert second.next_query == "page=3" and list(page_at("page=3", items)) == list(items[10:15])
