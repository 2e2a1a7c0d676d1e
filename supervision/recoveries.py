"""Recoveries (追回, DOMAIN §12.2) as services: registering one on a paid case, its evidence, money returned to
the fund account, and writing off what cannot be recovered (with a second person's approval).

Every amount is checked under row locks: a recovery never passes what the case paid (the case's row and a
database constraint, applications.cases.recovered), a repayment never passes what is still owed (the recovery's
row and a constraint). What comes back is given back to the person-year ledger and the person's 二次救助 is
recomputed once the transaction commits. Every step writes its audit row in the same transaction.
"""

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from applications.cases.recovered import case_give_back, case_reserve_recovery
from applications.cases.workflow import TransitionRefused
from applications.models import Case
from applications.policy.engine import yuan
from applications.secondary.services import secondary_after_commit
from audit.services import audit_record
from lib.scans import ScanRefused, scan_type

from .models import DISALLOWING, Evidence, Reason, Recovery, Repayment

S = Recovery.Status
ZERO = Decimal("0")


class RecoveryRefused(ValueError):
    """The step cannot be taken; the message is shown to the user and nothing changed."""


def require(user, perm: str, what: str) -> None:
    # user None: an operator command on the server itself, or the system (an offset made with a batch).
    if user is not None and not user.has_perm(perm):
        raise RecoveryRefused(f"没有{what}的权限")


def lock_recovery(recovery: Recovery) -> Recovery:
    return Recovery.objects.select_for_update().get(pk=recovery.pk)


def status_of(recovery: Recovery) -> str:
    """待追回 → 部分追回 → 已追回, or 已核销 once the rest was written off."""
    if recovery.written_off > 0 and recovery.recovered + recovery.written_off >= recovery.amount:
        return S.WRITTEN_OFF
    if recovery.recovered >= recovery.amount:
        return S.RECOVERED
    return S.PARTIAL if recovery.recovered > 0 else S.PENDING


@transaction.atomic
def recovery_create(
    *, case: Case, user, reason: str, amount: Decimal, note: str, offset_next: bool = False
) -> Recovery:
    """追回: a receivable on a paid case (零星, lead or secondary), with its reason; never more than the case paid,
    counting the recoveries already registered on it."""
    require(user, "supervision.manage_recovery", "登记追回")
    if reason not in Reason.values:
        raise RecoveryRefused("请选择追回原因")
    if not (note or "").strip():
        raise RecoveryRefused("请写明追回的情况说明（发现经过、依据）")
    try:
        locked = case_reserve_recovery(case_id=case.pk, amount=amount)
        recovery = Recovery.objects.create(
            number=f"T{timezone.now():%H%M%S%f}",  # replaced below once the id is known
            case=locked,
            person_id=locked.person_id,
            township_id=locked.township_id,
            reason=reason,
            amount=amount,
            note=note.strip(),
            offset_next=offset_next,
            created_by=user,
        )
    except TransitionRefused as exc:
        raise RecoveryRefused(str(exc)) from None
    except IntegrityError:  # the constraint on the case: only if the lock was bypassed
        raise RecoveryRefused("追回金额合计不能超过已发放金额") from None
    recovery.number = f"ZH{timezone.localdate():%Y}{recovery.pk:06d}"
    recovery.save(update_fields=["number"])
    audit_record(
        actor=user,
        action="recovery.create",
        obj=recovery,
        after={
            "case": locked.number,
            "reason": recovery.get_reason_display(),
            "amount": str(amount),
            "paid": str(locked.approved_amount),
            "offset_next": offset_next,
        },
        comment=recovery.note,
    )
    return recovery


@transaction.atomic
def evidence_attach(*, recovery: Recovery, user, name: str, content: bytes) -> Evidence:
    """A scan behind the recovery: PDF, JPEG or PNG by content, as the case scans."""
    require(user, "supervision.manage_recovery", "上传追回证据")
    try:
        scan_type(name, content)  # before the lock: a refused file waits for nobody
        evidence = Evidence(recovery=lock_recovery(recovery)).store(name=name, content=content, user=user)
    except ScanRefused as exc:
        raise RecoveryRefused(str(exc)) from None
    locked = evidence.recovery
    audit_record(
        actor=user,
        action="recovery.evidence",
        obj=locked,
        after={"file": evidence.original_name, "sha256": evidence.sha256},
    )
    return evidence


def realise(locked: Recovery, amount: Decimal, *, user, what: str) -> None:
    """Money of a locked recovery has come back: the case and the ledger give it back, the recovery's status
    follows, the person's 二次救助 is recomputed after commit."""
    case_give_back(case_id=locked.case_id, amount=amount, disallow=locked.reason in DISALLOWING)
    locked.recovered += amount
    locked.status = status_of(locked)
    locked.save(update_fields=["recovered", "offset_pending", "status"])
    secondary_after_commit(person_ids=[locked.person_id], reason=f"追回 {locked.number} {what}之后")


@transaction.atomic
def repayment_record(
    *, recovery: Recovery, user, amount: Decimal, received_on: datetime.date, reference: str, note: str = ""
) -> Repayment:
    """退回基金账户: money the person paid back into the fund account (date, amount, the bank's reference)."""
    require(user, "supervision.record_repayment", "登记追回款")
    locked = lock_recovery(recovery)
    if locked.status in (S.RECOVERED, S.WRITTEN_OFF):
        raise RecoveryRefused(f"追回 {locked.number} 已{locked.get_status_display()[1:]}，不能再登记还款")
    if amount is None or amount <= 0:
        raise RecoveryRefused("还款金额须大于 0")
    if amount > locked.due:
        pending = f"（另有抵扣 {yuan(locked.offset_pending)}待发放确认）" if locked.offset_pending else ""
        raise RecoveryRefused(f"还款金额 {yuan(amount)}超过尚欠金额 {yuan(locked.due)}{pending}")
    if received_on is None or received_on > timezone.localdate():
        raise RecoveryRefused("请填写到账日期（不能晚于今天）")
    if not (reference or "").strip():
        raise RecoveryRefused("请填写银行回单或缴款书号")
    repayment = Repayment.objects.create(
        recovery=locked,
        kind=Repayment.Kind.RETURNED,
        status=Repayment.Status.DONE,
        amount=amount,
        received_on=received_on,
        reference=reference.strip()[:60],
        note=(note or "").strip()[:200],
        recorded_by=user,
        settled_at=timezone.now(),
    )
    realise(locked, amount, user=user, what="退回基金账户")
    audit_record(
        actor=user,
        action="recovery.repay",
        obj=locked,
        after={
            "amount": str(amount),
            "received_on": received_on.isoformat(),
            "reference": repayment.reference,
            "recovered": str(locked.recovered),
            "status": locked.status,
        },
        comment=repayment.note,
    )
    return repayment


@transaction.atomic
def writeoff_request(*, recovery: Recovery, user, reason: str) -> Recovery:
    """申请核销: what is still owed cannot be recovered (the person died without an estate, cannot be found); a second
    person decides."""
    require(user, "supervision.request_writeoff", "申请核销")
    locked = lock_recovery(recovery)
    if locked.status in (S.RECOVERED, S.WRITTEN_OFF):
        raise RecoveryRefused(f"追回 {locked.number} 已{locked.get_status_display()[1:]}，无需核销")
    if locked.offset_pending:
        raise RecoveryRefused("有抵扣尚待发放确认，请待银行回盘后再申请核销")
    if locked.writeoff_pending:
        raise RecoveryRefused("已有核销申请待审批")
    if not (reason or "").strip():
        raise RecoveryRefused("申请核销须写明理由")
    locked.writeoff_requested_by, locked.writeoff_requested_at = user, timezone.now()
    locked.writeoff_reason = reason.strip()
    locked.save(update_fields=["writeoff_requested_by", "writeoff_requested_at", "writeoff_reason"])
    audit_record(
        actor=user, action="recovery.writeoff_request", obj=locked, after={"due": str(locked.due)}, comment=reason
    )
    return locked


@transaction.atomic
def writeoff_decide(*, recovery: Recovery, user, approve: bool, comment: str = "") -> Recovery:
    """核销 approved (by another person than who asked) writes off what is still owed; refused, the request is
    cleared and the recovery goes on."""
    require(user, "supervision.approve_writeoff", "审批核销")
    locked = lock_recovery(recovery)
    if not locked.writeoff_pending:
        raise RecoveryRefused("没有待审批的核销申请")
    if user is not None and user.pk in (locked.writeoff_requested_by_id, locked.created_by_id):
        raise RecoveryRefused("核销须由登记人和申请人以外的另一人审批")
    if locked.offset_pending:
        raise RecoveryRefused("有抵扣尚待发放确认，请待银行回盘后再审批")
    if not approve:
        if not (comment or "").strip():
            raise RecoveryRefused("不同意核销须写明理由")
        audit_record(
            actor=user,
            action="recovery.writeoff_reject",
            obj=locked,
            before={"requested_by": str(locked.writeoff_requested_by), "reason": locked.writeoff_reason},
            comment=comment,
        )
        locked.writeoff_requested_by = locked.writeoff_requested_at = None
        locked.writeoff_reason = ""
        locked.save(update_fields=["writeoff_requested_by", "writeoff_requested_at", "writeoff_reason"])
        return locked
    written = locked.due
    locked.written_off += written
    locked.writeoff_decided_by, locked.writeoff_decided_at = user, timezone.now()
    locked.offset_next = False
    locked.status = status_of(locked)
    locked.save(update_fields=["written_off", "writeoff_decided_by", "writeoff_decided_at", "offset_next", "status"])
    audit_record(
        actor=user,
        action="recovery.writeoff",
        obj=locked,
        after={"written_off": str(written), "recovered": str(locked.recovered), "status": locked.status},
        comment=comment,
    )
    return locked


@transaction.atomic
def recovery_set_offset_next(*, recovery: Recovery, user, offset_next: bool) -> Recovery:
    """Whether the person's next payout line keeps back what they still owe."""
    require(user, "supervision.record_repayment", "设置抵扣")
    locked = lock_recovery(recovery)
    if offset_next and locked.status in (S.RECOVERED, S.WRITTEN_OFF):
        raise RecoveryRefused("已结清的追回无需抵扣")
    locked.offset_next = offset_next
    locked.save(update_fields=["offset_next"])
    audit_record(actor=user, action="recovery.offset_next", obj=locked, after={"offset_next": offset_next})
    return locked
