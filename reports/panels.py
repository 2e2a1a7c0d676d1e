"""Sections of the dashboard that the parts of the portal built on the reports add (the 监测预警 KPIs, the insurer's
reserve of DOMAIN §12.5): each registers a panel at start-up, and the page renders those that give something for
the request. The registry knows nothing of what the panels show.

A panel either renders itself (`render(request, *, year, county, township)` → HTML, "" for nothing), or names a
`template` and a `context(user, year, county, township)` that returns the template's context, or None for nothing."""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    order: int  # position on the page, smaller first
    template: str = ""
    context: Callable | None = None
    render: Callable | None = None


_PANELS: dict[str, DashboardPanel] = {}


def register_dashboard_panel(panel: DashboardPanel) -> None:
    _PANELS[panel.key] = panel


def dashboard_panels(*, request, year: int, county, township) -> list[str]:
    """The rendered panels of the dashboard for the request's user and scope, in order."""
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        if panel.render is not None:
            html = panel.render(request, year=year, county=county, township=township)
        else:
            context = panel.context(request.user, year, county, township)
            html = (
                "" if context is None else render_to_string(panel.template, {"year": year, **context}, request=request)
            )
        if html:
            rendered.append(html)
    return rendered
