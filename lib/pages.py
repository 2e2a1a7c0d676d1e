"""Lists cut into pages, with the other query parameters kept for the page links (templates/_pagination.html)."""

from django.core.paginator import Page, Paginator


def paginate(request, items, per_page: int) -> tuple[Page, str]:
    """The requested page of `items` (a queryset or list; a page number out of range gives the last page) and
    the request's query string without `page`, for the links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
