"""lib.pages.page_numbers: the first and last page, those near the current one, a gap (None) between."""

from django.test import RequestFactory

from lib.pages import paginate


def numbers(page: int, pages: int) -> list[int | None]:
    listed, _ = paginate(RequestFactory().get(f"/?page={page}&status=approval"), list(range(pages * 10)), 10)
    return listed.numbers


def test_a_few_pages_are_all_listed():
    assert numbers(1, 1) == [1]
    assert numbers(2, 5) == [1, 2, 3, 4, 5]


def test_far_pages_are_left_out_with_a_gap_and_first_and_last_kept():
    assert numbers(1, 29) == [1, 2, 3, None, 29]
    assert numbers(15, 29) == [1, None, 13, 14, 15, 16, 17, None, 29]
    assert numbers(29, 29) == [1, None, 27, 28, 29]


def test_the_page_carries_the_query_for_its_links():
    page, query = paginate(RequestFactory().get("/?page=2&status=approval"), list(range(30)), 10)
    assert page.query == query == "status=approval"
