"""抵扣 on payout lines (DOMAIN §12.2): part of a payee's payment kept back against what they owe, and the fund's
administrator's decision to let a batch be locked past the available funds.

The payouts only keep the amount of a line kept back (PayoutLine.offset) and send the rest to the bank; what the
offset settles is the recoveries' business (supervision), told through payouts.hooks. A line is offset only while
its batch is a draft: once locked the batch's total has been checked against the funds and, once exported, the
bank has the file.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from applications.cases.services import cases_mark_paid
from applications.policy.engine import yuan
from audit.services import audit_record

from .hooks import announce
from .models import PayoutBatch, PayoutLine

B = PayoutBatch.Status
ZERO = Decimal("0")


class OffsetRefused(ValueError):
    """The offset cannot be made; the message is shown to the user and nothing changed."""


def lock_draft_line(line_id: int) -> PayoutLine:
    """A live, unpaid line of a draft batch, its batch and itself locked; refused (with why) otherwise."""
    line = PayoutLine.objects.select_related("batch").get(pk=line_id)
    batch = PayoutBatch.objects.select_for_update().get(pk=line.batch_id)
    if batch.status != B.DRAFT:
        done = "已导出代发文件" if batch.exported_at else f"为“{batch.get_status_display()}”"
        raise OffsetRefused(f"批次 {batch.number} {done}，不能再在其中抵扣；请在下一个批次中抵扣或登记退回")
    line = PayoutLine.objects.select_for_update().get(pk=line_id)
    if not line.live or line.status != PayoutLine.Status.PENDING:
        raise OffsetRefused(f"明细 {line.reference} 已不在批次中，不能抵扣")
    line.batch = batch
    return line


def line_keep_back(line: PayoutLine, amount: Decimal) -> PayoutLine:
    """Keep `amount` more of a locked draft line back (lock_draft_line), never more than it pays; the batch's totals
    follow. Call inside the transaction that records what the offset settles."""
    if amount <= 0:
        raise OffsetRefused("抵扣金额须大于 0")
    if amount > line.amount:
        raise OffsetRefused(f"抵扣金额 {yuan(amount)}超过该笔实发金额 {yuan(line.amount)}")
    line.amount -= amount
    line.offset += amount
    line.save(update_fields=["amount", "offset"])
    refresh_batch_totals(line.batch)
    return line


def line_give_back(line: PayoutLine, amount: Decimal) -> PayoutLine:
    """Undo `amount` of a draft line's offset (the recovery it settled was taken back)."""
    amount = min(amount, line.offset)
    line.amount += amount
    line.offset -= amount
    line.save(update_fields=["amount", "offset"])
    refresh_batch_totals(line.batch)
    return line


def settle_offset_only(batch: PayoutBatch, *, user) -> list[int]:
    """Lines offset in full send nothing to the bank (the bank file leaves them out): they are paid when the file
    is first exported, their cases 已发放 and what they settled announced. Call inside the export's transaction."""
    lines = list(batch.lines.select_for_update().filter(live=True, status=PayoutLine.Status.PENDING, amount=0))
    if not lines:
        return []
    now = timezone.now()
    for line in lines:
        line.status, line.resolved_at = PayoutLine.Status.PAID, now
    PayoutLine.objects.bulk_update(lines, ["status", "resolved_at"])
    cases_mark_paid(
        case_ids=[line.case_id for line in lines],
        user=user,
        comment=f"全额抵扣追回款，无需银行代发（批次 {batch.number}）",
    )
    announce(batch=batch, paid=[line.pk for line in lines], user=user)
    return [line.pk for line in lines]


def refresh_batch_totals(batch: PayoutBatch) -> None:
    totals = batch.lines.filter(live=True).aggregate(n=Count("pk"), total=Sum("amount"))
    batch.line_count = totals["n"] or 0
    batch.total = totals["total"] or ZERO
    batch.save(update_fields=["line_count", "total"])


@transaction.atomic
def batch_override_funds(*, batch: PayoutBatch, user, reason: str) -> PayoutBatch:
    """资金不足放行: an administrator lets a draft batch be locked although the county's available funds would go
    below zero (funds expected, an advance agreed), for the batch's total as it stands. Audited."""
    if not user.has_perm("payouts.override_funds"):
        raise OffsetRefused("没有放行的权限：须由系统管理员放行")
    if not reason.strip():
        raise OffsetRefused("放行须写明原因")
    locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != B.DRAFT:
        raise OffsetRefused(f"批次 {locked.number} 当前为“{locked.get_status_display()}”：只能放行草稿批次")
    locked.funds_override_by, locked.funds_override_at = user, timezone.now()
    locked.funds_override_reason, locked.funds_override_total = reason.strip()[:200], locked.total
    locked.save(
        update_fields=["funds_override_by", "funds_override_at", "funds_override_reason", "funds_override_total"]
    )
    audit_record(
        actor=user,
        action="payout.funds_override",
        obj=locked,
        after={"total": str(locked.total), "lines": locked.line_count},
        comment=locked.funds_override_reason,
    )
    return locked
