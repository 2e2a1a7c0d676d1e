"""抵扣 (DOMAIN §12.2): what a person owes kept back from their next payout line, shown on the batch, in the bank
file's 摘要 and on the case.

An offset is made on a line of a draft batch (never of a batch locked or exported: its total has been checked
against the funds and the bank may have the file), by finance, or by itself when the batch is made for a
recovery marked 从下次发放中抵扣. It counts as recovered once the line is paid (the bank's return, or the export
for a line offset in full); if the line fails or leaves its batch the offset is released and the amount is owed
again.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from applications.models import Case
from audit.services import audit_record, audit_record_many
from payouts.models import PayoutLine
from payouts.offsets import OffsetRefused, line_give_back, line_keep_back, lock_draft_line

from .models import Recovery, Repayment
from .recoveries import RecoveryRefused, lock_recovery, realise, require

S = Recovery.Status
P = Repayment.Status
ZERO = Decimal("0")
SETTLED = (S.RECOVERED, S.WRITTEN_OFF)


def offset_candidates(recovery: Recovery):
    """The person's lines that may still take an offset: live and unpaid, in a draft batch."""
    return (
        PayoutLine.objects.filter(
            case__person_id=recovery.person_id, live=True, status=PayoutLine.Status.PENDING, batch__status="draft"
        )
        .select_related("batch", "case")
        .order_by("batch__created_at", "reference")
    )


@transaction.atomic
def offset_apply(*, recovery: Recovery, line_id: int, amount: Decimal, user, auto: bool = False) -> Repayment:
    """Keep `amount` of what the recovery's person is owed on a draft batch's line back against the recovery."""
    if not auto:
        require(user, "supervision.record_repayment", "抵扣")
    try:
        line = lock_draft_line(line_id)
    except OffsetRefused as exc:
        raise RecoveryRefused(str(exc)) from None
    except PayoutLine.DoesNotExist:
        raise RecoveryRefused("没有这笔发放") from None
    locked = lock_recovery(recovery)
    if locked.status in SETTLED:
        raise RecoveryRefused(f"追回 {locked.number} 已{locked.get_status_display()[1:]}，不能再抵扣")
    person_id = Case.objects.filter(pk=line.case_id).values_list("person_id", flat=True).first()
    if person_id != locked.person_id:
        raise RecoveryRefused("只能抵扣追回对象本人的发放")
    if amount is None or amount <= 0:
        raise RecoveryRefused("抵扣金额须大于 0")
    if amount > locked.due:
        raise RecoveryRefused(f"抵扣金额 {amount:,.2f} 元超过尚欠金额 {locked.due:,.2f} 元")
    if Repayment.objects.filter(recovery=locked, line=line, status__in=[P.PENDING, P.DONE]).exists():
        raise RecoveryRefused(f"该笔发放 {line.reference} 已抵扣过本追回")
    try:
        line_keep_back(line, amount)
    except OffsetRefused as exc:
        raise RecoveryRefused(str(exc)) from None
    repayment = Repayment.objects.create(
        recovery=locked,
        kind=Repayment.Kind.OFFSET,
        status=P.PENDING,
        amount=amount,
        reference=line.reference,
        line=line,
        note=f"从批次 {line.batch.number} 的发放中抵扣",
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    locked.offset_pending += amount
    locked.save(update_fields=["offset_pending"])
    audit_record(
        actor=user,
        action="recovery.offset",
        obj=locked,
        after={"line": line.reference, "batch": line.batch.number, "amount": str(amount), "auto": auto},
    )
    return repayment


@transaction.atomic
def offset_cancel(*, repayment: Repayment, user, reason: str) -> Repayment:
    """Undo an offset while its batch is still a draft: the line pays it again, the amount is owed again."""
    require(user, "supervision.record_repayment", "撤销抵扣")
    if not (reason or "").strip():
        raise RecoveryRefused("撤销抵扣须写明原因")
    repayment = Repayment.objects.select_for_update().get(pk=repayment.pk)
    if repayment.kind != Repayment.Kind.OFFSET or repayment.status != P.PENDING:
        raise RecoveryRefused("只能撤销待发放确认的抵扣")
    try:
        line = lock_draft_line(repayment.line_id)
    except OffsetRefused as exc:
        raise RecoveryRefused(str(exc)) from None
    locked = lock_recovery(repayment.recovery)
    line_give_back(line, repayment.amount)
    _release([repayment], {locked.pk: locked}, note=reason.strip()[:200])
    audit_record(
        actor=user,
        action="recovery.offset_cancel",
        obj=locked,
        after={"line": line.reference, "amount": str(repayment.amount)},
        comment=reason,
    )
    return repayment


def offsets_for_new_batch(*, batch, lines, user) -> None:
    """The line adjuster (payouts.hooks): a new batch's lines of people owing a recovery marked 从下次发放中抵扣
    keep back what they owe, oldest recovery first, line by line, up to each line's amount."""
    case_ids = [line.case_id for line in lines]
    people = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "person_id"))
    owing = list(
        Recovery.objects.select_for_update()
        .filter(person_id__in=set(people.values()), offset_next=True)
        .exclude(status__in=SETTLED)
        .order_by("created_at", "pk")
    )
    if not owing:
        return
    by_person: dict[int, list[PayoutLine]] = {}
    for line in sorted(lines, key=lambda line: line.reference):
        by_person.setdefault(people[line.case_id], []).append(line)
    for recovery in owing:
        for line in by_person.get(recovery.person_id, []):
            left = min(recovery.due, PayoutLine.objects.get(pk=line.pk).amount)
            if left <= 0:
                continue
            offset_apply(recovery=recovery, line_id=line.pk, amount=left, user=user, auto=True)
            recovery.refresh_from_db()


def _release(repayments: list[Repayment], recoveries: dict[int, Recovery], *, note: str) -> None:
    now = timezone.now()
    for repayment in repayments:
        recovery = recoveries[repayment.recovery_id]
        recovery.offset_pending -= repayment.amount
        recovery.save(update_fields=["offset_pending"])
        repayment.status, repayment.settled_at = P.RELEASED, now
        repayment.note = f"{repayment.note}；已撤销：{note}"[:200]
    Repayment.objects.bulk_update(repayments, ["status", "settled_at", "note"])


def after_lines_settled(sender, *, batch, paid, released, user=None, **kwargs):
    """Offsets of lines the bank paid count as recovered; those of lines that failed or left their batch are
    released, the amount owed again (payouts.hooks.lines_settled)."""
    pending = list(
        Repayment.objects.select_for_update().filter(line_id__in=[*paid, *released], status=P.PENDING).order_by("pk")
    )
    if not pending:
        return
    recoveries = {r.pk: r for r in Recovery.objects.select_for_update().filter(pk__in={p.recovery_id for p in pending})}
    paid = set(paid)
    done = [p for p in pending if p.line_id in paid]
    gone = [p for p in pending if p.line_id not in paid]
    now, today = timezone.now(), timezone.localdate()
    for repayment in done:
        recovery = recoveries[repayment.recovery_id]
        recovery.offset_pending -= repayment.amount
        realise(recovery, repayment.amount, user=user, what="抵扣")
        repayment.status, repayment.settled_at, repayment.received_on = P.DONE, now, today
    Repayment.objects.bulk_update(done, ["status", "settled_at", "received_on"])
    _release(gone, recoveries, note=f"批次 {batch.number} 的该笔发放未成功或已移出")
    audit_record_many(
        actor=user,
        action="recovery.offset_settle",
        objects=[recoveries[p.recovery_id] for p in done],
        after=lambda r: {"recovered": str(r.recovered), "status": r.status, "batch": batch.number},
    )
    audit_record_many(
        actor=user,
        action="recovery.offset_release",
        objects=[recoveries[p.recovery_id] for p in gone],
        after=lambda r: {"offset_pending": str(r.offset_pending), "batch": batch.number},
    )
