"""Sections of the dashboard that parts of the portal built beside the reports add (the 监测预警 KPIs): each
registers a panel at start-up, and the dashboard renders those whose context is not None for the user and the
scope shown. The reports know nothing of what the panels show."""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    order: int
    template: str
    context: Callable  # (user, year, county, township) → the template's context, or None


_PANELS: dict[str, DashboardPanel] = {}


def register_dashboard_panel(panel: DashboardPanel) -> None:
    _PANELS[panel.key] = panel


def dashboard_panels(*, request, year: int, county, township) -> list[str]:
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        context = panel.context(request.user, year, county, township)
        if context is not None:
            rendered.append(render_to_string(panel.template, {"year": year, **context}, request=request))
    return rendered
