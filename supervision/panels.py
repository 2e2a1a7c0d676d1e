"""The person page's panel of 基金监管 (recipients.panels): what the person owes back."""

from recipients.panels import PersonPanel, register_person_panel

from .models import Recovery


def recoveries_context(user, person) -> dict | None:
    if not user.has_perm("supervision.view_recovery"):
        return None
    recoveries = Recovery.objects.visible_to(user).filter(person=person).select_related("case")
    rows = list(recoveries.order_by("-created_at", "-pk")[:50])
    if not rows:
        return None
    return {"person_recoveries": rows}


def register() -> None:
    register_person_panel(
        PersonPanel(
            key="recoveries", order=35, template="supervision/_person_recoveries.html", context=recoveries_context
        )
    )
