"""Approving through the approval queue's pages, as an approver does: tick cases on a page shown, read the
confirmation, confirm."""

import re

from django.urls import reverse

SHOWN = re.compile(r'name="shown" value="([^"]+)"')
CONFIRMED = re.compile(r'name="confirmed" value="([^"]+)"')


def queue_url(query: str = "") -> str:
    url = reverse("applications:approval_queue")
    return f"{url}?{query}" if query else url


def shown_token(client, query: str = "") -> str:
    """The signed list of the cases on the queue page that `query` selects."""
    return SHOWN.search(client.get(queue_url(query)).text).group(1)


def tick(client, ids, *, query: str = "", accept_zero: bool = False, shown: str | None = None):
    """Step one: the confirmation page for the ticked cases of the page shown."""
    data = {"step": "preview", "shown": shown or shown_token(client, query), "case": [str(pk) for pk in ids]}
    if accept_zero:
        data["accept_zero"] = "1"
    return client.post(queue_url(query), data)


def confirm(client, confirmation, *, query: str = ""):
    """Step two: confirm what the confirmation page showed; the queue page with the result."""
    token = CONFIRMED.search(confirmation.text).group(1)
    return client.post(queue_url(query), {"step": "confirm", "confirmed": token}, follow=True)


def approve_through_queue(client, ids, *, query: str = "", accept_zero: bool = False):
    """Both steps; the queue page with the result."""
    return confirm(client, tick(client, ids, query=query, accept_zero=accept_zero), query=query)
