"""Lists cut into pages, with the other query parameters kept for the page links (templates/_pagination.html)."""

from django.core.paginator import Page, Paginator

# Page links shown around the current page, and at each end.
AROUND, AT_ENDS = 2, 1


def paginate(request, items, per_page: int) -> tuple[Page, str]:
    """The requested page of `items` (a queryset or list; a page number out of range gives the last page) and
    the request's query string without `page`, for the links. The page also carries both for the control:
    `page.query`, and `page.numbers`, the page numbers to link (None where some are left out: 1 … 4 5 6 7 8 … 29)."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.query = params.urlencode()
    page.numbers = page_numbers(page)
    return page, page.query


def page_numbers(page: Page) -> list[int | None]:
    """The first and last page, those near the current one, and None for each gap between."""
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=AROUND, on_ends=AT_ENDS)
    return [n if isinstance(n, int) else None for n in numbers]
