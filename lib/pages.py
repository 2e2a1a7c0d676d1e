"""Lists cut into pages, with the other query parameters kept for the page links (templates/_pagination.html).

A list of a county can hold a million rows, so a page never costs what the whole list costs:

- **The count is bounded.** At most COUNT_LIMIT + 1 rows are counted (`SELECT COUNT(*) FROM (… LIMIT 10001)`); a
  longer list says 「共 10,000+ 条」 and its pages are numbered as far as that.
- **A page reads one row more than it shows,** which says whether a next page exists without counting.
- **The order is total.** The primary key is added to the list's order when nothing in it is unique, so that no
  row is on two pages or on none; NULLs sort as PostgreSQL sorts them (last ascending, first descending), on
  SQLite too.
- **Past the numbered pages, the links go by key** (keyset): 「下一页」 is `?after=<id of the page's last row>`,
  「上一页」 `?before=<id of its first row>`; the next page is the rows that sort after that row, read from where
  the index holds them instead of counted past from the start. The link carries only an id, never the values the
  list is sorted by (a name, an ID number). A list ordered by an expression, or by a relation's own ordering, pages
  by number only.

A list that is a Python list (already in memory) is paged exactly, as Django's Paginator does."""

import math
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import F, OrderBy, Q, QuerySet
from django.db.models.query import ModelIterable

# Page links shown around the current page, and at each end.
AROUND, AT_ENDS = 2, 1
# Rows counted at most; a longer list is "10,000+".
COUNT_LIMIT = 10_000


def paginate(request, items, per_page: int, *, count_limit: int = COUNT_LIMIT) -> tuple[Page, str]:
    """The requested page of `items` (a queryset or a list; a page number out of range gives the last page) and
    the request's query string without `page`, `after` and `before`, for the links.

    The page also carries, for the control: `page.query`, `page.numbers` (the page numbers to link, None where
    some are left out: 1 … 4 5 6 7 8 … 29), `page.count_label` (「871」 or 「10,000+」), and `page.previous_query` /
    `page.next_query` (the whole query string of the neighbouring pages)."""
    params = request.GET.copy()
    for name in ("page", "after", "before"):
        params.pop(name, None)
    query = params.urlencode()
    if isinstance(items, QuerySet):
        page = _queryset_page(request, items, per_page, count_limit, query)
    else:
        page = Paginator(items, per_page).get_page(request.GET.get("page"))
        page.count_label = f"{page.paginator.count:,}"
        page.numbers = page_numbers(page)
        page.previous_query = _link(query, page=page.number - 1) if page.has_previous() else ""
        page.next_query = _link(query, page=page.number + 1) if page.has_next() else ""
    page.query = query
    return page, query


def page_numbers(page: Page) -> list[int | None]:
    """The first and last page, those near the current one, and None for each gap between."""
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=AROUND, on_ends=AT_ENDS)
    return [n if isinstance(n, int) else None for n in numbers]


def _link(query: str, **values) -> str:
    extra = "&".join(f"{name}={value}" for name, value in values.items())
    return f"{query}&{extra}" if query else extra


def _number(text, default: int = 1) -> int:
    try:
        return max(1, int(text))
    except (TypeError, ValueError):
        return default


# --- a queryset's page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One key of a list's order: a field path, its direction, whether it can be NULL."""

    path: str
    descending: bool
    nullable: bool

    def order(self) -> OrderBy:
        if self.descending:
            return F(self.path).desc(nulls_first=True if self.nullable else None)
        return F(self.path).asc(nulls_last=True if self.nullable else None)


class BoundedPaginator(Paginator):
    """The count of a queryset, up to a limit: `count` is exact up to it, `capped` says the list is longer."""

    def __init__(self, object_list, per_page, *, limit: int):
        super().__init__(object_list, per_page)
        self.limit = limit
        rows = object_list.order_by()
        rows = rows if rows.query.distinct else rows.values("pk")
        counted = rows[: limit + 1].count()
        self.capped = counted > limit
        self.__dict__["count"] = min(counted, limit)  # Paginator.count is a cached_property

    def exact_count(self) -> int:
        return self.object_list.count()


class ListPage(Page):
    """A page of a queryset read with one row more than it shows (has_next without a count)."""

    def __init__(self, rows, number, paginator, *, more_after: bool, more_before: bool):
        super().__init__(rows, number, paginator)
        self.more_after, self.more_before = more_after, more_before

    def has_next(self):
        return self.more_after

    def has_previous(self):
        return self.more_before

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1

    def start_index(self):
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self):
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def _queryset_page(request, items: QuerySet, per_page: int, limit: int, query: str) -> ListPage:
    terms = order_terms(items) if items._iterable_class is ModelIterable else None
    if terms is not None:
        items = items.order_by(*(t.order() for t in terms))
    paginator = BoundedPaginator(items, per_page, limit=limit)
    numbered = max(1, math.ceil(paginator.count / per_page))  # pages reached by number
    number = _number(request.GET.get("page"))
    cursor = None
    if terms is not None:
        for direction in ("after", "before"):
            pk = request.GET.get(direction)
            if pk:
                cursor = (direction, pk)
    page = None
    if cursor is not None:
        page = _keyset_page(items, terms, paginator, cursor, number=max(number, 2), per_page=per_page)
    if page is None:
        if not paginator.capped:
            number = min(number, numbered)
        page = _offset_page(items, paginator, number, per_page)
        if not page.object_list and number > 1:  # past the end of a list longer than the count: its last page
            number = max(1, math.ceil(paginator.exact_count() / per_page))
            page = _offset_page(items, paginator, number, per_page)
    page.count_label = f"{paginator.count:,}{'+' if paginator.capped else ''}"
    page.numbers = _numbers(page, numbered, capped=paginator.capped)
    rows = page.object_list
    previous, following = page.number - 1, page.number + 1
    page.previous_query = page.next_query = ""
    if page.has_previous():
        by_key = terms is not None and previous > numbered and rows
        page.previous_query = _link(query, page=previous, before=rows[0].pk) if by_key else _link(query, page=previous)
    if page.has_next():
        by_key = terms is not None and following > numbered and rows
        page.next_query = _link(query, page=following, after=rows[-1].pk) if by_key else _link(query, page=following)
    return page


def _offset_page(items, paginator, number: int, per_page: int) -> ListPage:
    start = (number - 1) * per_page
    if start and items._iterable_class is ModelIterable:
        # The rows skipped are counted past in the index alone: their ids first, without the joins of the rows
        # shown (select_related), then the page's rows by id.
        ids = list(items.values_list("pk", flat=True)[start : start + per_page + 1])
        rows = list(items.filter(pk__in=ids)) if ids else []
    else:
        rows = list(items[start : start + per_page + 1])
    return ListPage(rows[:per_page], number, paginator, more_after=len(rows) > per_page, more_before=number > 1)


def _keyset_page(items, terms, paginator, cursor, *, number: int, per_page: int) -> ListPage | None:
    """The page after (or before) the row whose primary key the link holds; None when that row is gone."""
    direction, pk = cursor
    model = items.model
    try:
        values = model._base_manager.filter(pk=pk).values_list(*(t.path for t in terms)).first()
    except (ValueError, TypeError):
        values = None
    if values is None:
        return None
    condition = _beyond(terms, values, after=direction == "after")
    if direction == "after":
        rows = list(items.filter(condition)[: per_page + 1])
        return ListPage(rows[:per_page], number, paginator, more_after=len(rows) > per_page, more_before=True)
    reverse = items.filter(condition).order_by(*(_reversed(t).order() for t in terms))
    rows = list(reverse[: per_page + 1])
    shown = rows[:per_page][::-1]
    return ListPage(shown, number, paginator, more_after=True, more_before=len(rows) > per_page)


def _reversed(term: Term) -> Term:
    return Term(term.path, not term.descending, term.nullable)


def _beyond(terms: list[Term], values, *, after: bool) -> Q:
    """Rows that sort strictly after (or before) a row with these values, in this order (NULLs last ascending,
    first descending). The first key also bounds the range, so that the index is entered at the row."""
    alternatives = Q(pk__in=[])
    equal = Q()
    for term, value in zip(terms, values, strict=True):
        alternatives |= equal & _past(term, value, after=after)
        equal &= Q(**{f"{term.path}__isnull": True}) if value is None else Q(**{term.path: value})
    first, value = terms[0], values[0]
    if value is not None and not first.nullable:
        # Redundant with the alternatives, but a plain range the planner enters the index with.
        later = after != first.descending
        alternatives &= Q(**{f"{first.path}__{'gte' if later else 'lte'}": value})
    return alternatives


def _past(term: Term, value, *, after: bool) -> Q:
    """Values of one key strictly past `value` in the walking direction (after: the list's order)."""
    ascending = after != term.descending  # walking towards larger values
    nulls_ahead = ascending  # NULLs sort above every value (last ascending, first descending)
    if value is None:
        return Q(pk__in=[]) if nulls_ahead else Q(**{f"{term.path}__isnull": False})
    past = Q(**{f"{term.path}__{'gt' if ascending else 'lt'}": value})
    if term.nullable and nulls_ahead:
        past |= Q(**{f"{term.path}__isnull": True})
    return past


def order_terms(items: QuerySet) -> list[Term] | None:
    """The queryset's order as keys, the primary key added unless a key is unique; None when the order cannot be
    paged by key (an expression, a relation's own ordering, a random order)."""
    query = items.query
    ordering = query.order_by or (items.model._meta.ordering if query.default_ordering else [])
    terms: list[Term] = []
    for item in ordering:
        term = _term(items.model, item)
        if term is None:
            return None
        terms.append(term)
    if not any(_unique(items.model, t.path) for t in terms):
        terms.append(Term("pk", terms[-1].descending if terms else False, False))
    return terms


def _term(model, item) -> Term | None:
    if isinstance(item, str):
        if item == "?" or "." in item:
            return None
        descending = item.startswith("-")
        path = item.lstrip("-")
    elif isinstance(item, OrderBy) and isinstance(item.expression, F):
        descending, path = item.descending, item.expression.name
        if item.nulls_first if not descending else item.nulls_last:
            return None  # NULLs placed against PostgreSQL's default: not what the keys assume
    elif isinstance(item, F):
        descending, path = False, item.name
    else:
        return None
    nullable = _nullable(model, path)
    return None if nullable is None else Term(path, descending, nullable)


def _nullable(model, path: str) -> bool | None:
    """Whether the field at the end of the path can be NULL (or is reached through a nullable relation); None
    when the path is not a plain field (a relation itself sorts by its model's ordering)."""
    if path == "pk":
        return False
    nullable = False
    parts = path.split("__")
    for i, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        nullable = nullable or field.null
        if field.is_relation:
            if i == len(parts) - 1:
                return None
            model = field.related_model
        elif i != len(parts) - 1:
            return None
    return nullable


def _unique(model, path: str) -> bool:
    if path == "pk":
        return True
    if "__" in path:
        return False
    try:
        field = model._meta.get_field(path)
    except FieldDoesNotExist:
        return False
    return (field.primary_key or field.unique) and not field.null


def _numbers(page: ListPage, numbered: int, *, capped: bool) -> list[int | None]:
    """Page numbers to link: as page_numbers for an exact count; for a longer list, the numbered pages near the
    current one and a gap at the end (its last page is not known); past them, the first page and the current."""
    if page.number > numbered:
        return [1, None, page.number, *([None] if page.has_next() else [])]
    numbers = list(
        Paginator(range(numbered), 1).get_elided_page_range(page.number, on_each_side=AROUND, on_ends=AT_ENDS)
    )
    numbers = [n if isinstance(n, int) else None for n in numbers]
    if capped:
        while numbers and numbers[-1] != page.number and numbers[-1] is not None and numbers[-1] > page.number + AROUND:
            numbers.pop()
        if numbers[-1] is not None:
            numbers.append(None)
    return numbers
