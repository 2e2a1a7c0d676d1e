"""The case state machine (DOMAIN §6): every status change of a case, single or in bulk, goes through here.

A transition that is not in TRANSITIONS cannot happen. Each one checks the current state under a row lock,
records who/when/from/to/comment (CaseTransition), writes its audit row in the same transaction and announces
itself (signals.cases_transitioned). A second submission of the same action finds the case already moved and
is refused with a message instead of acting twice.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from audit.services import audit_record_many

from ..models import Case, CaseTransition
from ..signals import cases_transitioned

S = Case.Status

# action: (states it may start from, state it leads to)
TRANSITIONS = {
    "accept": ({S.DRAFT}, S.ACCEPTED),
    "accept_pending": ({S.DRAFT}, S.ACCEPTED_PENDING),
    "supplement": ({S.ACCEPTED_PENDING}, S.ACCEPTED),
    "submit": ({S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED}, S.REVIEW),
    "review": ({S.REVIEW}, S.APPROVAL),
    "return": ({S.REVIEW, S.APPROVAL}, S.RETURNED),
    "approve": ({S.APPROVAL}, S.APPROVED),
    # Approval levels (DOMAIN §12.2): at or above the policy's threshold the first approval leaves the case in
    # 待审批 for a second approver.
    "approve_first": ({S.APPROVAL}, S.APPROVAL),
    "reject": ({S.APPROVAL}, S.REJECTED),
    "withdraw": ({S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED, S.REVIEW}, S.WITHDRAWN),
    "mark_paid": ({S.APPROVED}, S.PAID),
    # The system's own moves: a calculated proposal enters approval directly (二次救助), and is taken back
    # when a recomputation finds nothing more is due.
    "propose": ({S.DRAFT}, S.APPROVAL),
    "retract": ({S.APPROVAL}, S.WITHDRAWN),
}
ACTION_LABELS = {
    "accept": "受理",
    "accept_pending": "容缺受理",
    "supplement": "补齐材料",
    "submit": "提交审核",
    "review": "审核通过",
    "return": "退回补正",
    "approve": "批准",
    "approve_first": "一级审批",
    "reject": "不予救助",
    "withdraw": "撤回",
    "mark_paid": "发放",
    "propose": "系统测算生成",
    "retract": "系统撤回",
}
# Who may take each action: the permission, and whether a township clerk's own-township rule applies.
ACTION_PERMISSIONS = {
    "accept": "applications.receive_case",
    "accept_pending": "applications.receive_case",
    "supplement": "applications.receive_case",
    "submit": "applications.receive_case",
    "withdraw": "applications.receive_case",
    "review": "applications.review_case",
    "return": "applications.review_case",
    "approve": "applications.approve_case",
    "approve_first": "applications.approve_case",
    "reject": "applications.approve_case",
}
AMOUNT_FIELDS = ("approved_amount", "proposed_amount")


class TransitionRefused(ValueError):
    """The action is not allowed now; the message is shown to the user."""


def check_actor(case: Case, user, action: str) -> None:
    """The user's permission for the action, a clerk's own township, and separation of duties."""
    permission = ACTION_PERMISSIONS.get(action)
    if permission and user is not None:
        if not user.has_perm(permission):
            raise TransitionRefused(f"没有“{ACTION_LABELS[action]}”的权限")
        if user.township_scoped and case.township_id != user.township_id:
            raise TransitionRefused("只能处理本乡镇的案件")
    if action in ("approve", "approve_first", "reject") and user is not None:
        # Everyone who ever received or reviewed the case, including reviews before a 退回补正 (a first approval
        # leads to 待审批 too, from 待审批: it does not count as a review).
        barred = {case.received_by_id, case.reviewed_by_id}
        barred.update(
            case.transitions.filter(to_status__in=[S.ACCEPTED, S.ACCEPTED_PENDING, S.APPROVAL])
            .exclude(from_status=S.APPROVAL)
            .values_list("actor_id", flat=True)
        )
        if user.pk in barred:
            raise TransitionRefused("受理或审核过本案件的人员不能审批本案件")
        if action == "approve" and case.first_approved_by_id == user.pk:
            raise TransitionRefused("本案件金额达到二级审批标准，一级审批人不能再作二级审批，请由另一名审批人审批")


def lock_case(case: Case, *, action: str) -> Case:
    """The case re-read under a row lock, refused unless its status allows the action."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    allowed_from, _ = TRANSITIONS[action]
    if locked.status not in allowed_from:
        raise TransitionRefused(
            f"案件当前状态为“{locked.get_status_display()}”，不能{ACTION_LABELS[action]}（可能已被他人处理，请刷新页面）"
        )
    return locked


def transition(case: Case, *, user, action: str, comment: str = "", **changes) -> Case:
    """One case through one action: locked, checked, changed, recorded. Call inside a transaction."""
    locked = lock_case(case, action=action)
    check_actor(locked, user, action)
    return move(locked, user=user, action=action, comment=comment, **changes)


def move(locked: Case, *, user, action: str, comment: str = "", **changes) -> Case:
    """A case the caller has locked and checked (lock_case, check_actor) through the action."""
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.revision += 1
    from_status = locked.status
    locked.status = TRANSITIONS[action][1]
    locked.save()
    _record([locked], from_status=from_status, action=action, user=user, comment=comment, changed=changes)
    return locked


def transition_many(
    cases: Iterable[Case],
    *,
    action: str,
    user,
    comment: str | Callable[[Case], str] = "",
    fields: Iterable[str] = (),
    audit_action: str = "",
    audit_after: Callable[[Case], dict] | None = None,
) -> list[Case]:
    """Many cases, already locked by the caller and with `fields` set on them, through one action: one UPDATE
    per field set, one insert of transitions, one of audit rows. Refuses all if any case's status does not
    allow the action (the caller locked them, so nothing moved since it looked)."""
    cases = list(cases)
    if not cases:
        return cases
    allowed_from, to_status = TRANSITIONS[action]
    wrong = [c.number for c in cases if c.status not in allowed_from]
    if wrong:
        raise TransitionRefused(f"有案件当前状态不能{ACTION_LABELS[action]}：{'、'.join(wrong[:10])}")
    from_status = {c.pk: c.status for c in cases}
    now = timezone.now()
    for case in cases:
        case.status = to_status
        case.updated_at = now
        case.revision += 1  # the rows are locked: nobody else moved it since it was read
    Case.objects.bulk_update(cases, ["status", "updated_at", "revision", *fields], batch_size=1000)
    _record(
        cases,
        from_status=from_status,
        action=action,
        user=user,
        comment=comment,
        audit_action=audit_action,
        audit_after=audit_after,
    )
    return cases


def record_created(cases: list[Case], *, action: str, comment: str, audit_action: str, audit_after) -> None:
    """Transitions and audit rows of cases the system created directly in the action's target status."""
    from_status = next(iter(TRANSITIONS[action][0]))
    _record(
        cases,
        from_status=dict.fromkeys((c.pk for c in cases), from_status),
        action=action,
        user=None,
        comment=comment,
        audit_action=audit_action,
        audit_after=audit_after,
    )


def _record(
    cases: list[Case],
    *,
    from_status: str | dict[int, str],
    action: str,
    user,
    comment: str | Callable[[Case], str],
    changed: dict[str, Any] | None = None,
    audit_action: str = "",
    audit_after: Callable[[Case], dict] | None = None,
) -> None:
    def before(case):
        return from_status if isinstance(from_status, str) else from_status[case.pk]

    def text(case):
        return comment(case) if callable(comment) else comment

    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    CaseTransition.objects.bulk_create(
        [
            CaseTransition(case=c, from_status=before(c), to_status=c.status, actor=actor, comment=text(c))
            for c in cases
        ],
        batch_size=1000,
    )
    amounts = {k: str(v) for k, v in (changed or {}).items() if k in AMOUNT_FIELDS}
    audit_record_many(
        actor=user,
        action=audit_action or f"case.{action}",
        objects=cases,
        before=lambda c: {"status": before(c)},
        after=audit_after or (lambda c: {"status": c.status, **amounts}),
        comment=text,
    )
    cases_transitioned.send(sender=Case, cases=cases, action=action, to_status=TRANSITIONS[action][1], user=user)
