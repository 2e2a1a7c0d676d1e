"""The settlements panel of the person page (recipients.panels)."""

from recipients.panels import PersonPanel, register_person_panel

from .selectors import person_settlements

# The person page lists the newest settlements only; a long history is read in the settlement browser.
SETTLEMENTS_SHOWN = 100


def settlements_context(user, person) -> dict | None:
    if not user.has_perm("settlements.view_settlement"):
        return None
    # One row past the cap tells whether there are more, without counting them all.
    rows = list(person_settlements(id_number=person.id_number)[: SETTLEMENTS_SHOWN + 1])
    return {
        "settlements": rows[:SETTLEMENTS_SHOWN],
        "settlements_more": len(rows) > SETTLEMENTS_SHOWN,
        "settlements_shown": SETTLEMENTS_SHOWN,
    }


def register() -> None:
    register_person_panel(
        PersonPanel(
            key="settlements", order=20, template="settlements/_person_settlements.html", context=settlements_context
        )
    )
