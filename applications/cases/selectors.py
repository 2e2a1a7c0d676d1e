"""Reads of the case workflow."""

import datetime

from django.db.models import Count, Q
from django.urls import reverse

from ..models import CLOSED_STATUSES, Case

S = Case.Status


def case_queues(*, user, day: datetime.date) -> list[dict]:
    """The role's work queues with counts, for the home page: one aggregate query."""
    cases = Case.objects.visible_to(user)
    open_cases = ~Q(status__in=CLOSED_STATUSES)
    counts = cases.aggregate(
        draft=Count("pk", filter=Q(status=S.DRAFT)),
        returned=Count("pk", filter=Q(status=S.RETURNED)),
        accepted=Count("pk", filter=Q(status__in=[S.ACCEPTED, S.ACCEPTED_PENDING])),
        review=Count("pk", filter=Q(status=S.REVIEW)),
        approval=Count("pk", filter=Q(status=S.APPROVAL)),
        overdue=Count("pk", filter=open_cases & Q(due_on__lt=day)),
        soon=Count("pk", filter=open_cases & Q(due_on__gte=day, due_on__lte=day + datetime.timedelta(days=5))),
    )
    url = reverse("applications:case_list")
    queues = []
    if user.has_perm("applications.receive_case"):
        queues += [
            ("草稿（待受理）", counts["draft"], f"{url}?status=draft"),
            ("退回补正", counts["returned"], f"{url}?status=returned"),
            ("已受理待提交", counts["accepted"], f"{url}?status=accepted"),
        ]
    if user.has_perm("applications.review_case"):
        queues.append(("待审核", counts["review"], f"{url}?status=review"))
    if user.has_perm("applications.approve_case"):
        queues.append(("待审批", counts["approval"], reverse("applications:approval_queue")))
    queues += [("5 天内到期", counts["soon"], f"{url}?due=soon"), ("已超期", counts["overdue"], f"{url}?due=overdue")]
    return [{"label": label, "count": n, "url": link} for label, n, link in queues]
