"""The payments panel of the person page (recipients.panels)."""

from recipients.panels import PersonPanel, register_person_panel

from .models import PayoutLine


def payments_context(user, person) -> dict | None:
    """The person's payout lines, for roles that see cases (money paid is part of the case's history)."""
    if not user.has_perm("applications.view_case"):
        return None
    lines = PayoutLine.objects.filter(case__person=person).select_related("batch", "case")
    return {"payments": lines.order_by("-batch__created_at"), "show_case": True}


def register() -> None:
    register_person_panel(
        PersonPanel(key="payments", order=30, template="payouts/_payments.html", context=payments_context)
    )
