"""Sections of the batch page that the parts of the portal built on the payouts add (who pays the batch, when an
insurer runs assistance): each registers a panel at start-up, and the page renders those that return something."""

from collections.abc import Callable

_PANELS: dict[str, tuple[int, Callable]] = {}


def register_batch_panel(key: str, order: int, render: Callable) -> None:
    """`render(request, batch)` returns HTML, or "" when there is nothing to show."""
    _PANELS[key] = (order, render)


def batch_panels(*, request, batch) -> list[str]:
    rendered = []
    for _order, render in sorted(_PANELS.values(), key=lambda p: p[0]):
        html = render(request, batch)
        if html:
            rendered.append(html)
    return rendered
