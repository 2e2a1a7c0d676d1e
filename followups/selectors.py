"""What the pages and the home page read of plans, calls and tickets, always through the user's scope."""

import datetime

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.urls import reverse

from .models import FollowupCall, FollowupPlan, Ticket

S, OWNER = Ticket.Status, Ticket.Owner


def plans_for(user):
    """The plans the user sees, each with its calls and those done (a clerk: of their township)."""
    calls = Q(calls__township_id=user.township_id) if user.township_scoped else Q()
    return (
        FollowupPlan.objects.visible_to(user)
        .select_related("batch", "created_by", "county")
        .annotate(
            shown_calls=Count("calls", filter=calls),
            shown_done=Count("calls", filter=calls & ~Q(calls__receipt="")),
        )
        .order_by("-created_at", "-id")
    )


def in_other_plans(plan: FollowupPlan, line_ids) -> dict[int, list[FollowupCall]]:
    """For the given lines of `plan`, their calls in the county's other plans still in force (a line a batch plan
    and a month plan both drew): the window sees the other call, and its result, before calling again."""
    others = (
        FollowupCall.objects.filter(line_id__in=list(line_ids), plan__status=FollowupPlan.Status.ACTIVE)
        .exclude(plan=plan)
        .select_related("plan")
        .order_by("plan__created_at", "pk")
    )
    found: dict[int, list[FollowupCall]] = {}
    for call in others:
        found.setdefault(call.line_id, []).append(call)
    return found


def mine(user) -> Q:
    """Open tickets the user is to answer: a window's township's own; county staff's those of the county."""
    if user.township_scoped:
        return Q(status=S.OPEN, owner=OWNER.TOWNSHIP)
    return Q(status=S.OPEN, owner=OWNER.COUNTY)


def tickets_for(user, *, queue: str = "", category: str = "", channel: str = "", township=None, day: datetime.date):
    tickets = Ticket.objects.visible_to(user).select_related("person", "township", "call")
    queues = {
        "mine": mine(user),
        "open": Q(status=S.OPEN),
        "overdue": Q(status=S.OPEN, due_on__lt=day),
        "escalated": Q(escalated_at__isnull=False),
        "replied": Q(status=S.REPLIED),
        "closed": Q(status=S.CLOSED),
    }
    if queue in queues:
        tickets = tickets.filter(queues[queue])
    if category:
        tickets = tickets.filter(category=category)
    if channel:
        tickets = tickets.filter(channel=channel)
    if township is not None:
        tickets = tickets.filter(township=township)
    # Open ones first (overdue at the top), then answered, then closed; within each by the day each is due.
    rank = Case(
        When(status=S.OPEN, then=Value(0)),
        When(status=S.REPLIED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return tickets.annotate(rank=rank).order_by("rank", "due_on", "-opened_at")


def work_queues(user, day: datetime.date) -> list[dict]:
    """The home page's queues of this app for the user (a few counting queries)."""
    queues = []
    if user.has_perm("followups.handle_ticket"):
        visible = Ticket.objects.visible_to(user)
        url = reverse("followups:ticket_list")
        queues.append(
            {"label": "投诉工单待答复", "count": visible.filter(mine(user)).count(), "url": f"{url}?queue=mine"}
        )
        queues.append({"label": "投诉工单已超期", "count": visible.overdue(day).count(), "url": f"{url}?queue=overdue"})
    if user.has_perm("followups.record_followupcall"):
        waiting = (
            FollowupCall.objects.visible_to(user)
            .filter(plan__status=FollowupPlan.Status.ACTIVE)
            .exclude(receipt__in=["received", "missing", "mismatch"])
        )
        queues.append(
            {"label": "待回访（含联系不上）", "count": waiting.count(), "url": reverse("followups:plan_list")}
        )
    return queues
