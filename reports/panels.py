"""Sections of the dashboard that the parts of the portal built on the reports add (the insurer's reserve of
DOMAIN §12.5): each registers a panel at start-up, and the page renders those that return something for the
request. The registry knows nothing of what the panels show."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    order: int  # position on the page, smaller first
    render: Callable  # (request, *, year, county, township) → HTML, or "" when there is nothing to show


_PANELS: dict[str, DashboardPanel] = {}


def register_dashboard_panel(panel: DashboardPanel) -> None:
    _PANELS[panel.key] = panel


def dashboard_panels(*, request, year: int, county, township) -> list[str]:
    """The rendered panels of the dashboard for the request's user and scope, in order."""
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        html = panel.render(request, year=year, county=county, township=township)
        if html:
            rendered.append(html)
    return rendered
