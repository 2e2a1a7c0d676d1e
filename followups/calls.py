"""Recording follow-up calls, one on the web or many from a filled call list, and the audited full views of the
phones on a call list. A call that finds the payment missing or wrong opens a complaint ticket by itself."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_many

from .models import FollowupCall, FollowupPlan, Receipt, Satisfaction, Ticket
from .plans import plans_in_force
from .tickets import ticket_for_call

FIELDS = ["receipt", "satisfaction", "aware", "note", "attempts", "called_by", "called_at"]
MAX_ATTEMPTS = 99


class CallRefused(ValueError):
    """The call cannot be recorded; the message is shown to the user."""


@dataclass(frozen=True)
class Result:
    """What one call found. `attempts` None: one more attempt than recorded so far."""

    receipt: str
    satisfaction: str = ""
    aware: bool | None = None
    note: str = ""
    attempts: int | None = None

    def problems(self) -> list[str]:
        """What makes the result impossible, in the words of the call list's columns."""
        found = []
        if self.receipt not in Receipt.values:
            found.append("请选择到账情况")
        if self.satisfaction and self.satisfaction not in Satisfaction.values:
            found.append("满意度不正确")
        if self.receipt == Receipt.UNREACHABLE and (self.satisfaction or self.aware is not None):
            found.append("联系不上时不应填写满意度和是否知晓政策")
        if self.attempts is not None and not 1 <= self.attempts <= MAX_ATTEMPTS:
            found.append(f"拨打次数应为 1～{MAX_ATTEMPTS}")
        if len(self.note) > 500:
            found.append("备注不能超过 500 字")
        return found

    def same_as(self, call: FollowupCall) -> bool:
        return (self.receipt, self.satisfaction, self.aware, self.note) == (
            call.receipt,
            call.satisfaction,
            call.aware,
            call.note,
        ) and (self.attempts is None or self.attempts == call.attempts)


def summary(call: FollowupCall) -> dict:
    return {
        "receipt": call.receipt,
        "satisfaction": call.satisfaction,
        "aware": call.aware,
        "attempts": call.attempts,
        "note": call.note,
    }


def may_record(user, call: FollowupCall) -> bool:
    return (
        user.has_perm("followups.record_followupcall")
        and FollowupCall.objects.visible_to(user).filter(pk=call.pk, plan__status=FollowupPlan.Status.ACTIVE).exists()
    )


def _refuse_cancelled(plan_ids) -> None:
    cancelled = plans_in_force(plan_ids)
    if cancelled:
        raise CallRefused(f"回访计划 {'、'.join(sorted(cancelled))} 已作废，不能再记录回访结果")


def _apply(call: FollowupCall, result: Result, *, user, now) -> None:
    call.receipt, call.satisfaction, call.aware = result.receipt, result.satisfaction, result.aware
    call.note = result.note
    call.attempts = result.attempts if result.attempts is not None else min(call.attempts + 1, MAX_ATTEMPTS)
    call.called_by, call.called_at = user, now


def call_record(*, call: FollowupCall, user, result: Result, request=None) -> tuple[FollowupCall, Ticket | None]:
    """Record what a call found (a call not reached counts one more attempt; a later call that reaches the person
    replaces it). 未到账 or 金额不符 opens the call's complaint ticket, once."""
    if not may_record(user, call):
        raise CallRefused("没有记录该回访的权限")
    problems = result.problems()
    if problems:
        raise CallRefused("；".join(problems))
    with transaction.atomic():
        _refuse_cancelled([call.plan_id])
        locked = (
            FollowupCall.objects.select_for_update().select_related("line__case", "person__township").get(pk=call.pk)
        )
        before = summary(locked)
        _apply(locked, result, user=user, now=timezone.now())
        locked.save(update_fields=FIELDS)
        audit_record(
            actor=user,
            action="followup.call_record",
            obj=locked,
            object_repr=f"{locked.number} {locked.name}",
            before=before if before["receipt"] else None,
            after=summary(locked),
            request=request,
        )
        ticket = ticket_for_call(call=locked, user=user)
    return locked, ticket


def calls_record_many(*, results: dict[int, Result], user) -> tuple[int, list[Ticket]]:
    """Record many calls at once (a filled call list), inside the caller's transaction: only those whose result
    differs from what is recorded; one audit row each, written together; the tickets they open. Returns the number
    recorded and the tickets; CallRefused when a plan of theirs is cancelled."""
    _refuse_cancelled(FollowupCall.objects.filter(pk__in=results).values_list("plan_id", flat=True).distinct())
    calls = list(
        FollowupCall.objects.select_for_update()
        .filter(pk__in=results)
        .select_related("line__case", "person__township")
        .order_by("pk")
    )
    changed, before = [], {}
    now = timezone.now()
    for call in calls:
        result = results[call.pk]
        if result.same_as(call):
            continue
        before[call.pk] = summary(call)
        _apply(call, result, user=user, now=now)
        changed.append(call)
    FollowupCall.objects.bulk_update(changed, FIELDS, batch_size=1000)
    audit_record_many(
        actor=user,
        action="followup.call_record",
        objects=changed,
        before=lambda c: before[c.pk] if before[c.pk]["receipt"] else None,
        after=summary,
        comment="回访清单导入",
    )
    tickets = [t for t in (ticket_for_call(call=call, user=user) for call in changed) if t is not None]
    return len(changed), tickets


def phones_reveal(*, user, calls: list[FollowupCall], what: str, request=None) -> dict[int, str]:
    """The phones of the calls shown, in full, for a user holding the personal-data permission; the view is
    written to the audit log (who, when, which list, how many people)."""
    if not user.has_perm("recipients.view_full_pii"):
        raise CallRefused("没有查看完整联系电话的权限")
    if not calls:
        return {}
    audit_record(
        actor=user,
        action="followup.pii_view",
        obj=calls[0].plan,
        comment=f"查看完整联系电话：{what}，{len(calls)} 人（{calls[0].number} 等）",
        after={"calls": [call.number for call in calls][:100]},
        request=request,
    )
    return {call.pk: call.person.phone for call in calls}
