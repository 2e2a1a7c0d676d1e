"""Reads of 基金监管: the recovery figures of the dashboard and the Excel report, the queues' counts. Nothing
here writes."""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from .models import AuditSample, Reason, Recovery, SampleItem, Suggestion

ZERO = Decimal("0")
REASON_ORDER = [r.value for r in Reason]


def _figures(rows) -> list[dict]:
    out = []
    for row in rows:
        row["due"] = row["amount"] - row["recovered"] - row["written_off"]
        out.append(row)
    return out


def recovery_figures(*, year: int, county=None, township=None) -> dict:
    """Recoveries registered in the year: count, amount due, recovered, written off, still owed — in all, by reason
    (in the order of Reason) and by township."""
    recoveries = Recovery.objects.filter(created_at__year=year)
    if township is not None:
        recoveries = recoveries.filter(township=township)
    elif county is not None:
        recoveries = recoveries.filter(township__county=county)
    sums = {
        "count": Count("pk"),
        "amount": Coalesce(Sum("amount"), ZERO),
        "recovered": Coalesce(Sum("recovered"), ZERO),
        "written_off": Coalesce(Sum("written_off"), ZERO),
    }
    totals = _figures([recoveries.aggregate(**sums)])[0]
    by_reason = {row["reason"]: row for row in _figures(recoveries.values("reason").annotate(**sums))}
    reasons = [{**by_reason[value], "label": label} for value, label in Reason.choices if value in by_reason]
    townships = _figures(recoveries.values("township__name").annotate(**sums).order_by("township__name"))
    return {"totals": totals, "by_reason": reasons, "by_township": townships}


def queue_counts(user) -> dict:
    """What waits for the user: suggestions to confirm, sample cases to check, write-offs to decide."""
    counts = {}
    if user.has_perm("supervision.manage_recovery"):
        counts["suggestions"] = Suggestion.objects.visible_to(user).filter(status=Suggestion.Status.OPEN).count()
    if user.has_perm("supervision.check_auditsample"):
        counts["samples"] = (
            SampleItem.objects.filter(
                sample__in=AuditSample.objects.visible_to(user), outcome=SampleItem.Outcome.PENDING
            )
            .filter(Q(reviewer=user) | Q(reviewer__isnull=True))
            .count()
        )
    if user.has_perm("supervision.approve_writeoff"):
        counts["writeoffs"] = (
            Recovery.objects.visible_to(user)
            .filter(writeoff_requested_by__isnull=False)
            .exclude(status=Recovery.Status.WRITTEN_OFF)
            .exclude(writeoff_requested_by=user)
            .count()
        )
    return counts


def owed_by_person(person_id: int) -> Decimal:
    """What the person still owes on recoveries not settled (offsets on their way counted as paid)."""
    return (
        Recovery.objects.filter(person_id=person_id)
        .exclude(status__in=[Recovery.Status.RECOVERED, Recovery.Status.WRITTEN_OFF])
        .aggregate(total=Coalesce(Sum(F("amount") - F("recovered") - F("offset_pending") - F("written_off")), ZERO))[
            "total"
        ]
    )
