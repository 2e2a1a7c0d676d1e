"""The person page's 资助参保 panel (recipients.panels): the person's subsidy per insurance year and what the
collecting department reported about their enrolment."""

from recipients.panels import PersonPanel, register_person_panel

from .selectors import person_subsidies


def subsidy_context(user, person) -> dict | None:
    if not user.has_perm("subsidies.view_subsidyentry"):
        return None
    return {"subsidy_years": person_subsidies(person=person)}


def register() -> None:
    register_person_panel(
        PersonPanel(key="subsidies", order=35, template="subsidies/_person_subsidies.html", context=subsidy_context)
    )
