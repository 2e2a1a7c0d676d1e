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
