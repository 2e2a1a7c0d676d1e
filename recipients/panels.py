"""Sections of the person page that the parts of the portal built on the registry add (settlements, cases,
payments): each registers a panel at start-up, and the page renders those whose context is not None for the
user. The registry knows nothing of what the panels show."""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class PersonPanel:
    key: str
    order: int  # position on the page, smaller first
    template: str
    context: Callable  # (user, person) → the template's context, or None when the user may not see it


_PANELS: dict[str, PersonPanel] = {}


def register_person_panel(panel: PersonPanel) -> None:
    _PANELS[panel.key] = panel


def person_panels(*, request, person) -> list[str]:
    """The rendered panels of the person page for the request's user, in order."""
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        context = panel.context(request.user, person)
        if context is not None:
            rendered.append(render_to_string(panel.template, {"person": person, **context}, request=request))
    return rendered
