"""Reads of the case workflow: what is due when, the home page's queues and each role's reminders.

"Due soon" means within 5 working days by the statutory calendar (法定节假日 and 调休), the calendar the time
limits themselves are counted in: on 2025-09-29 a case due on 10-10 is due within 5 working days (National Day
lies between), though 11 calendar days away. The case list, the approval queue and the home page all ask here."""

import datetime
from decimal import Decimal

from django.db.models import Case as Choose
from django.db.models import Count, DateField, F, Q, QuerySet, When
from django.db.models.functions import Coalesce, Least
from django.urls import reverse

from ..models import CLOSED_STATUSES, Case
from ..policy.workdays import WorkdayCalendar, add_working_days
from .checks import case_duplicates
from .levels import level_note
from .services import ZERO_REFUSED, approval_preview
from .workflow import TransitionRefused, check_actor

S = Case.Status
SOON_WORKING_DAYS = 5
REMINDERS_SHOWN = 10

# A list filtered by its time limit (办结期限); the labels are the filters' choices.
DUE_OVERDUE, DUE_SOON, DUE_NEAR = "overdue", "soon", "near"
DUE_CHOICES = [
    ("", "全部"),
    (DUE_OVERDUE, "已超期"),
    (DUE_SOON, f"{SOON_WORKING_DAYS} 个工作日内到期"),
    (DUE_NEAR, f"已超期或 {SOON_WORKING_DAYS} 个工作日内"),
]
# The clerk's reminder list as a filter of the case list (its link from the home page).
DUE_WINDOW = "window"
WINDOW_CHOICE = (DUE_WINDOW, "窗口待办提醒")


def due_soon_until(day: datetime.date) -> datetime.date:
    """The last day that is due soon on `day`: 5 working days later."""
    return add_working_days(day, SOON_WORKING_DAYS)


def due_filter(cases: QuerySet, *, due: str, day: datetime.date) -> QuerySet:
    """Cases by their time limit on `day`: overdue, due soon, either, or all (""). Closed cases (decided,
    withdrawn, drafts) have no time limit running and are never due."""
    if due == DUE_OVERDUE:
        return cases.overdue(day)
    if due == DUE_SOON:
        return cases.due_soon(day, due_soon_until(day))
    if due == DUE_NEAR:
        return cases.filter(due_on__lte=due_soon_until(day)).exclude(status__in=CLOSED_STATUSES)
    return cases


def case_queues(*, user, day: datetime.date) -> list[dict]:
    """The role's work queues with counts, for the home page: one aggregate query."""
    # Every queue is of cases still in the workflow (a draft included): the status index leaves out the
    # year's decided and paid cases, most of the table.
    cases = Case.objects.visible_to(user).exclude(status__in=[S.APPROVED, S.PAID, S.REJECTED, S.WITHDRAWN])
    open_cases = ~Q(status__in=CLOSED_STATUSES)
    counts = cases.aggregate(
        draft=Count("pk", filter=Q(status=S.DRAFT)),
        returned=Count("pk", filter=Q(status=S.RETURNED)),
        accepted=Count("pk", filter=Q(status__in=[S.ACCEPTED, S.ACCEPTED_PENDING])),
        review=Count("pk", filter=Q(status=S.REVIEW)),
        approval=Count("pk", filter=Q(status=S.APPROVAL)),
        overdue=Count("pk", filter=open_cases & Q(due_on__lt=day)),
        soon=Count("pk", filter=open_cases & Q(due_on__gte=day, due_on__lte=due_soon_until(day))),
    )
    url = reverse("applications:case_list")
    queues = []
    if user.has_perm("applications.receive_case"):
        queues += [
            ("草稿（待受理）", counts["draft"], f"{url}?status=draft", ""),
            ("退回补正", counts["returned"], f"{url}?status=returned", ""),
            ("已受理待提交", counts["accepted"], f"{url}?status=accepted", ""),
        ]
    if user.has_perm("applications.review_case"):
        queues.append(("待审核", counts["review"], f"{url}?status=review", ""))
    if user.has_perm("applications.approve_case"):
        queues.append(("待审批", counts["approval"], reverse("applications:approval_queue"), ""))
    queues += [
        (f"{SOON_WORKING_DAYS} 个工作日内到期", counts["soon"], f"{url}?due={DUE_SOON}", "text-warning"),
        ("已超期", counts["overdue"], f"{url}?due={DUE_OVERDUE}", "text-danger"),
    ]
    return [{"label": label, "count": n, "url": link, "tone": tone} for label, n, link, tone in queues]


def window_reminder_cases(*, user, day: datetime.date) -> QuerySet:
    """The clerk's next work that is overdue or due within 5 working days: accepted, 容缺受理 and returned cases by
    their time limit, and open cases whose missing materials (容缺) are due, at whatever stage. Each carries
    `deadline`, the nearer of the two that apply."""
    until = due_soon_until(day)
    at_window = Q(status__in=[S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED])
    missing = ~Q(missing_materials=[]) & Q(materials_deadline__isnull=False) & ~Q(status__in=CLOSED_STATUSES)
    limit = Choose(When(at_window, then=F("due_on")), default=None, output_field=DateField())
    materials = Choose(When(missing, then=F("materials_deadline")), default=None, output_field=DateField())
    return (
        Case.objects.visible_to(user)
        .filter((at_window & Q(due_on__lte=until)) | (missing & Q(materials_deadline__lte=until)))
        .annotate(deadline=Least(Coalesce(materials, limit), Coalesce(limit, materials)))
    )


def _reminder_list(title: str, cases: QuerySet, url: str, day: datetime.date) -> dict:
    """The first few by deadline, each with what is due and the working days left (or past)."""
    rows = list(cases.select_related("person", "township").order_by("deadline", "pk")[:REMINDERS_SHOWN])
    dates = [day, *(case.deadline for case in rows)]
    calendar = WorkdayCalendar(min(dates), max(dates))
    for case in rows:
        case.for_materials = bool(case.missing_materials) and case.deadline == case.materials_deadline
        case.deadline_label = "补齐材料期限" if case.for_materials else "办结期限"
        case.is_overdue = case.deadline < day
        first, last = (case.deadline, day) if case.is_overdue else (day, case.deadline)
        case.working_days = calendar.between(first, last)
    return {"title": title, "cases": rows, "count": cases.count(), "url": url}


def case_reminders(*, user, day: datetime.date) -> list[dict]:
    """Each role's reminder list for the home page (one for each role the user holds): what that role acts on
    next that is overdue or due within 5 working days; a township clerk sees their own township's only."""
    until = due_soon_until(day)
    visible = Case.objects.visible_to(user)
    cases_url = reverse("applications:case_list")
    reminders = []
    if user.has_perm("applications.receive_case"):
        cases = window_reminder_cases(user=user, day=day)
        reminders.append(_reminder_list("窗口待办", cases, f"{cases_url}?due={DUE_WINDOW}", day))
    if user.has_perm("applications.review_case"):
        cases = visible.filter(status=S.REVIEW, due_on__lte=until).annotate(deadline=F("due_on"))
        reminders.append(_reminder_list("待审核", cases, f"{cases_url}?status=review&due={DUE_NEAR}", day))
    if user.has_perm("applications.approve_case"):
        cases = visible.filter(status=S.APPROVAL, due_on__lte=until).annotate(deadline=F("due_on"))
        queue_url = reverse("applications:approval_queue")
        reminders.append(_reminder_list("待审批", cases, f"{queue_url}?due={DUE_NEAR}", day))
    return reminders


# The approval queue's orders: the key in the URL, the label, the field.
QUEUE_SORTS = {
    "due": ("办结期限", "due_on"),
    "amount": ("拟救助金额", "proposed_amount"),
    "township": ("乡镇", "township__name"),
    "accepted": ("受理日期", "accepted_on"),
}


def approval_queue_cases(
    *,
    user,
    day: datetime.date,
    township=None,
    source: str = "",
    amount_from: Decimal | None = None,
    amount_to: Decimal | None = None,
    due: str = "",
    sort: str = "due",
    descending: bool = False,
) -> QuerySet:
    """The cases waiting for the user's decision that pass the filters, in the chosen order (cases without the
    field last either way; the id breaks ties, so that no case is on two pages or none)."""
    cases = Case.objects.visible_to(user).filter(status=S.APPROVAL).select_related("person", "township", "reviewed_by")
    if township:
        cases = cases.filter(township=township)
    if source:
        cases = cases.filter(source=source)
    if amount_from is not None:
        cases = cases.filter(proposed_amount__gte=amount_from)
    if amount_to is not None:
        cases = cases.filter(proposed_amount__lte=amount_to)
    cases = due_filter(cases, due=due, day=day)
    field = F(QUEUE_SORTS.get(sort, QUEUE_SORTS["due"])[1])
    if descending:
        return cases.order_by(field.desc(nulls_last=True), "-pk")
    return cases.order_by(field.asc(nulls_last=True), "pk")


def _breakdown(cases: list[Case], key) -> list[dict]:
    groups: dict[str, dict] = {}
    for case in cases:
        group = groups.setdefault(key(case), {"label": key(case), "count": 0, "proposed": Decimal("0")})
        group["count"] += 1
        group["proposed"] += case.proposed_amount or Decimal("0")
    return sorted(groups.values(), key=lambda g: (-g["count"], g["label"]))


def bulk_approval_preview(*, cases: list[Case], user, accept_zero: bool) -> dict:
    """What approving these cases now would do, for the approver to confirm first: how many, the amount the
    review proposed (in all, by source, by township), and for each case what approval would grant on the
    ledger as it stands, or why it would be refused (the same checks as approval: separation of duties,
    duplicate claims, the recalculation, a 0.00 grant not confirmed). Reads only."""
    for case in cases:
        case.preview, case.refusal = None, ""
        try:
            check_actor(case, user, "approve")
        except TransitionRefused as exc:
            case.refusal = str(exc)
            continue
        problems = case_duplicates(case)
        if problems:
            case.refusal = "存在重复申请，须先处理：" + "；".join(problems)
            continue
        case.preview, case.refusal = approval_preview(case)
        if case.preview is not None and case.preview <= 0 and not accept_zero:
            case.preview, case.refusal = None, ZERO_REFUSED
        case.level = level_note(case, case.preview) if case.preview is not None else ""
        if case.level and case.first_approved_by_id is None:
            case.first_level = True
    first = [c for c in cases if getattr(c, "first_level", False)]
    granted = [c for c in cases if c.preview is not None and not getattr(c, "first_level", False)]
    return {
        "cases": cases,
        "count": len(cases),
        "proposed": sum((c.proposed_amount or Decimal("0") for c in cases), Decimal("0")),
        "by_source": _breakdown(cases, lambda c: c.get_source_display()),
        "by_township": _breakdown(cases, lambda c: c.township.name),
        "granted_count": len(granted),
        "granted": sum((c.preview for c in granted), Decimal("0")),
        "refused_count": len(cases) - len(granted) - len(first),
        "first_level_count": len(first),
        "zero_count": sum(1 for c in cases if c.refusal == ZERO_REFUSED),
        "accept_zero": accept_zero,
    }
