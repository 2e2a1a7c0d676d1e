"""Search text that may be personal data (an ID number typed into a search box) never goes into a URL, where
access logs and browser histories keep it: the filter form posts, the text is kept in the session under a random
key, and the list is reached by GET with the key (`s=`) instead. The other filters stay in the URL."""

import secrets

from django.shortcuts import redirect

SESSION_KEY = "searches"
KEPT = 20  # the latest searches of a session; older keys simply show the unfiltered list


def post_search(request, field: str = "q"):
    """The redirect for a posted filter form: the text field into the session, the rest into the query string."""
    params = request.POST.copy()
    params.pop("csrfmiddlewaretoken", None)
    text = params.pop(field, [""])[-1].strip()
    params.pop("s", None)
    if text:
        kept = request.session.get(SESSION_KEY, {})
        key = secrets.token_urlsafe(8)
        kept[key] = text
        request.session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
        params["s"] = key
    query = params.urlencode()
    return redirect(f"{request.path}?{query}" if query else request.path)


def search_data(request, field: str = "q"):
    """The list's filters: the query string, with the kept text back under `field`."""
    data = request.GET.copy()
    key = data.pop("s", [None])[-1]
    text = request.session.get(SESSION_KEY, {}).get(key) if key else None
    if text:
        data[field] = text
    return data


def search_text(request, field: str = "q") -> str:
    """The text of the list's search, as the form shows it back."""
    return search_data(request, field).get(field, "")


def valid_filters(form) -> dict:
    """The values of a list's filter form that are valid: a bad value in one field (its error shown beside it)
    leaves the other filters applied, so the list never shows everything while the form still shows a filter
    chosen. {} for a form without data."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return form.cleaned_data


def filter_by(queryset, data: dict, *fields: str):
    """The queryset narrowed to each of `fields` the filters give a value for (field = value)."""
    chosen = {field: data[field] for field in fields if data.get(field) not in (None, "")}
    return queryset.filter(**chosen) if chosen else queryset
