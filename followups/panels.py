"""The person page's panel of this app (recipients.panels): the person's complaint tickets and follow-up calls."""

from django.utils import timezone

from recipients.panels import PersonPanel, register_person_panel

from .models import FollowupCall, Ticket

SHOWN = 20


def tickets_context(user, person) -> dict | None:
    if not (user.has_perm("followups.view_ticket") or user.has_perm("followups.view_followupplan")):
        return None
    tickets = Ticket.objects.visible_to(user).filter(person=person).order_by("-opened_at", "-pk")
    calls = (
        FollowupCall.objects.visible_to(user)
        .filter(person=person)
        .select_related("plan")
        .order_by("-plan__created_at", "-pk")
    )
    ticket_rows, call_rows = list(tickets[: SHOWN + 1]), list(calls[: SHOWN + 1])
    return {
        "person_tickets": ticket_rows[:SHOWN],
        "person_tickets_more": len(ticket_rows) > SHOWN,
        "person_calls": call_rows[:SHOWN],
        "person_calls_more": len(call_rows) > SHOWN,
        "can_see_tickets": user.has_perm("followups.view_ticket"),
        "can_see_calls": user.has_perm("followups.view_followupplan"),
        "can_open_ticket": user.has_perm("followups.handle_ticket"),
        "today": timezone.localdate(),
    }


def register() -> None:
    register_person_panel(
        PersonPanel(key="tickets", order=40, template="followups/_person_panel.html", context=tickets_context)
    )
