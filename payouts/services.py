"""Payout services: build a batch from approved, unpaid amounts; lock, review (a second finance user), export
the bank file; import the bank's return; correct a payee's account after a failed payment.

Never paying twice rests on the database: a case has at most one live line (in a batch not cancelled and not
failed) and at most one paid line; the case itself goes 已批准 → 已发放 once, under a row lock.
"""

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from applications.cases.services import cases_mark_paid
from applications.cases.workflow import TransitionRefused
from applications.models import Case
from audit.services import audit_record
from recipients.idnumber import AccountError, parse_bank_account

from .bankfile import bank_file
from .hooks import adjust_lines, announce, lock_gates
from .models import BankReturn, PayoutBatch, PayoutLine
from .offsets import settle_offset_only
from .return_file import RESULTS, read_return, row_error

B = PayoutBatch.Status
L = PayoutLine.Status


class PayoutRefused(ValueError):
    """The request cannot be carried out; the message is shown to the user and nothing changed."""


class ReturnRejected(PayoutRefused):
    def __init__(self, message: str, errors: list[dict]):
        super().__init__(message)
        self.errors = errors


# --- the pool of approved, unpaid amounts ---------------------------------------------------------


def payable_cases(
    *, county_id=None, township=None, source: str = "", benefit: str = "", approved_from=None, approved_to=None
):
    """Approved cases with an amount to pay, a payee account, no live payout line, and not waiting for an
    account correction after a failed payment (a failed line with the account the case still has); of one
    county when `county_id` is given (a batch is always one county's)."""
    cases = Case.objects.filter(status=Case.Status.APPROVED, approved_amount__gt=0).exclude(payee_account="")
    if county_id is not None:
        cases = cases.filter(township__county_id=county_id)
    cases = cases.exclude(Exists(PayoutLine.objects.filter(case=OuterRef("pk"), live=True)))
    cases = cases.exclude(Exists(_failed_with_same_payee()))
    if township is not None:
        cases = cases.filter(township=township)
    if source:
        cases = cases.filter(source=source)
    if benefit == "first":
        cases = cases.exclude(source=Case.Source.SECONDARY)
    elif benefit == "secondary":
        cases = cases.filter(source=Case.Source.SECONDARY)
    if approved_from:
        cases = cases.filter(decided_at__date__gte=approved_from)
    if approved_to:
        cases = cases.filter(decided_at__date__lte=approved_to)
    return cases


def _failed_with_same_payee():
    """A failed line paid to exactly the payee the case still has: nothing was corrected since the failure
    (a wrong name is as much a reason to fail as a wrong account)."""
    return PayoutLine.objects.filter(
        case=OuterRef("pk"),
        status=L.FAILED,
        payee_account=OuterRef("payee_account"),
        payee_name=OuterRef("payee_name"),
        payee_bank=OuterRef("payee_bank"),
    )


def awaiting_correction():
    """Approved cases that cannot be paid as they are: the payment failed and the payee has not been corrected
    since, or there is no payee account at all (a secondary case for someone the roster gave no account)."""
    approved = Case.objects.filter(status=Case.Status.APPROVED, approved_amount__gt=0)
    return approved.filter(Q(payee_account="") | Q(Exists(_failed_with_same_payee())))


# --- batches ------------------------------------------------------------------------------------


def _require(user, perm: str, what: str) -> None:
    # user None: an operator command (export_batch, import_bank_return) on the server itself.
    if user is not None and not user.has_perm(perm):
        raise PayoutRefused(f"没有{what}的权限")


def _lock(batch: PayoutBatch, *allowed: str) -> PayoutBatch:
    locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status not in allowed:
        raise PayoutRefused(f"批次 {locked.number} 当前为“{locked.get_status_display()}”，不能进行此操作（请刷新页面）")
    return locked


def _new_number() -> str:
    today = timezone.localdate()
    prefix = f"ZF{today:%Y%m%d}"
    last = (
        PayoutBatch.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last[-3:]) + 1 if last else 1
    return f"{prefix}{serial:03d}"


def _create_numbered(**fields) -> PayoutBatch:
    """A new batch under the next free number of the day; two finance users at the same moment get two."""
    for _attempt in range(20):
        try:
            with transaction.atomic():
                return PayoutBatch.objects.create(
                    number=_new_number(),
                    county_id=fields["county_id"],
                    **{"created_by": fields["user"], "filters": fields["filters"], "purpose": fields["purpose"]},
                )
        except IntegrityError:
            continue  # the number was taken by a batch committed meanwhile: read the next one
    raise PayoutRefused("暂时无法生成批次号，请稍后重试")


def _refresh_totals(batch: PayoutBatch) -> None:
    totals = batch.lines.filter(live=True).aggregate(n=Count("pk"), total=Sum("amount"))
    batch.line_count = totals["n"] or 0
    batch.total = totals["total"] or Decimal("0")


def batch_create(
    *,
    user,
    township=None,
    source: str = "",
    benefit: str = "",
    approved_from: datetime.date | None = None,
    approved_to: datetime.date | None = None,
    purpose: str = "医疗救助金",
) -> PayoutBatch:
    """A draft batch of every payable case matching the filters. Cases another user is putting into a batch at
    this moment are skipped (their rows are locked), and the one-live-line constraint is the last guard."""
    _require(user, "payouts.manage_payoutbatch", "制作支付批次")
    county_id = user.scope_county_id
    if county_id is None:
        raise PayoutRefused("支付批次按县（区）制作：请使用所属县的财务账户（账户尚未指定所属县时请联系系统管理）")
    if township is not None and township.county_id != county_id:
        raise PayoutRefused("只能为本县（区）的乡镇制作支付批次")
    filters = {
        "township": township.name if township else "",
        "source": source,
        "benefit": benefit,
        "approved_from": approved_from.isoformat() if approved_from else "",
        "approved_to": approved_to.isoformat() if approved_to else "",
    }
    try:
        with transaction.atomic():
            cases = list(
                payable_cases(
                    county_id=county_id,
                    township=township,
                    source=source,
                    benefit=benefit,
                    approved_from=approved_from,
                    approved_to=approved_to,
                )
                .select_related("person")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("township_id", "pk")
            )
            if not cases:
                raise PayoutRefused("没有符合条件的待发放金额（已批准、未发放、有收款账户、不在其他批次中）")
            batch = _create_numbered(
                user=user, county_id=county_id, filters=filters, purpose=purpose[:50] or "医疗救助金"
            )
            lines = [
                PayoutLine(
                    batch=batch,
                    case=case,
                    reference=f"{batch.number}-{n:05d}",
                    township_id=case.township_id,
                    source=case.source,
                    payee_name=case.payee_name or case.person.name,
                    payee_account=case.payee_account.replace(" ", ""),
                    payee_bank=case.payee_bank,
                    id_number=case.person.id_number,
                    amount=case.approved_amount,
                )
                for n, case in enumerate(cases, start=1)
            ]
            PayoutLine.objects.bulk_create(lines, batch_size=2000)
            if connection.vendor == "postgresql" and len(lines) > 1000:
                with connection.cursor() as cursor:  # the checks that follow join these new rows
                    cursor.execute("ANALYZE payouts_payoutline")
            adjust_lines(batch=batch, lines=lines, user=user)  # 抵扣 of what payees owe (hooks)
            _refresh_totals(batch)
            batch.save(update_fields=["line_count", "total"])
            audit_record(
                actor=user,
                action="payout.create",
                obj=batch,
                after={"lines": batch.line_count, "total": str(batch.total), "filters": filters},
            )
    except IntegrityError:
        raise PayoutRefused("有案件刚被放入另一个批次，请重新制单") from None
    return batch


@transaction.atomic
def batch_remove_line(*, batch: PayoutBatch, line_id: int, user, reason: str = "") -> PayoutBatch:
    """Take a line out of a draft batch: the case goes back to the pool."""
    _require(user, "payouts.manage_payoutbatch", "修改支付批次")
    locked = _lock(batch, B.DRAFT)
    line = locked.lines.select_for_update().filter(pk=line_id, live=True).first()
    if line is None:
        raise PayoutRefused("该明细不在批次中")
    line.live, line.status = False, L.REMOVED
    line.save(update_fields=["live", "status"])
    _refresh_totals(locked)
    locked.save(update_fields=["line_count", "total"])
    audit_record(actor=user, action="payout.remove_line", obj=locked, after={"line": line.reference}, comment=reason)
    announce(batch=locked, released=[line.pk], user=user)
    return locked


@transaction.atomic
def batch_lock(*, batch: PayoutBatch, user) -> PayoutBatch:
    """已锁定, once the lock gates (the county's available funds, hooks.py) let it; their warnings are kept on the
    returned batch (`lock_warnings`) and in the audit row."""
    _require(user, "payouts.manage_payoutbatch", "锁定支付批次")
    locked = _lock(batch, B.DRAFT)
    _refresh_totals(locked)
    if not locked.line_count:
        raise PayoutRefused("批次中没有明细，不能锁定")
    locked.lock_warnings = lock_gates(batch=locked, user=user)
    locked.status, locked.locked_by, locked.locked_at = B.LOCKED, user, timezone.now()
    locked.save(update_fields=["status", "locked_by", "locked_at", "line_count", "total"])
    audit_record(
        actor=user,
        action="payout.lock",
        obj=locked,
        before={"status": B.DRAFT},
        after={"status": B.LOCKED, "lines": locked.line_count, "total": str(locked.total)},
        comment="；".join(locked.lock_warnings),
    )
    return locked


@transaction.atomic
def batch_review(*, batch: PayoutBatch, user) -> PayoutBatch:
    """复核 by a second finance user: not the one who made or locked the batch (maker-checker)."""
    _require(user, "payouts.review_payoutbatch", "复核支付批次")
    locked = _lock(batch, B.LOCKED)
    if user.pk in (locked.created_by_id, locked.locked_by_id):
        raise PayoutRefused("制单或锁定本批次的人员不能复核本批次，请由另一名财务人员复核")
    count, total = locked.line_count, locked.total
    _refresh_totals(locked)
    if (count, total) != (locked.line_count, locked.total):
        raise PayoutRefused("批次明细与锁定时的笔数或金额不一致，不能复核")
    stale = locked.lines.filter(live=True).exclude(case__status=Case.Status.APPROVED)
    if stale.exists():
        raise PayoutRefused(f"有案件已不是“已批准”状态：{'、'.join(stale.values_list('reference', flat=True)[:10])}")
    locked.status, locked.reviewed_by, locked.reviewed_at = B.REVIEWED, user, timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=user, action="payout.review", obj=locked, before={"status": B.LOCKED}, after={"status": B.REVIEWED}
    )
    return locked


@transaction.atomic
def batch_set_payer(*, batch: PayoutBatch, user, insurer_name: str) -> PayoutBatch:
    """Mark a batch not yet reviewed as paid by the insurer that runs assistance (its name), or, with an empty
    name, by the bureau again. Whether the county has such an insurer is the caller's question (insurers)."""
    _require(user, "payouts.manage_payoutbatch", "修改付款单位")
    locked = _lock(batch, B.DRAFT, B.LOCKED)
    name = insurer_name.strip()
    if name == locked.payer_name:
        return locked
    before, locked.payer_name = {"payer_name": locked.payer_name}, name
    locked.save(update_fields=["payer_name"])
    audit_record(actor=user, action="payout.payer", obj=locked, before=before, after={"payer_name": name})
    return locked


@transaction.atomic
def batch_cancel(*, batch: PayoutBatch, user, reason: str) -> PayoutBatch:
    """作废 a batch not yet reviewed: its cases go back to the pool."""
    _require(user, "payouts.manage_payoutbatch", "作废支付批次")
    if not reason.strip():
        raise PayoutRefused("作废须写明原因")
    locked = _lock(batch, B.DRAFT, B.LOCKED)
    released = list(locked.lines.filter(live=True).values_list("pk", flat=True))
    locked.lines.filter(live=True).update(live=False, status=L.REMOVED)
    locked.status = B.CANCELLED
    locked.save(update_fields=["status"])
    audit_record(actor=user, action="payout.cancel", obj=locked, after={"status": B.CANCELLED}, comment=reason)
    announce(batch=locked, released=released, user=user)
    return locked


def batch_export(*, batch: PayoutBatch, user) -> bytes:
    """The bank file (DATA-FORMATS §5). Only a reviewed batch; the same batch always gives the same file."""
    _require(user, "payouts.manage_payoutbatch", "导出代发文件")
    with transaction.atomic():
        locked = _lock(batch, B.REVIEWED, B.EXPORTED, B.RETURNED, B.CLOSED)
        first = locked.exported_at is None
        if first:
            locked.exported_at = timezone.now()
            settle_offset_only(locked, user=user)  # lines offset in full: nothing for the bank to pay
        content = bank_file(locked)
        digest = hashlib.sha256(content).hexdigest()
        if not first and digest != locked.content_hash:
            raise PayoutRefused("批次内容与首次导出时不一致，已停止导出；请联系系统管理员核查")
        locked.content_hash = digest
        locked.export_count += 1
        if locked.status == B.REVIEWED:
            locked.status = B.EXPORTED
        locked.save(update_fields=["exported_at", "content_hash", "export_count", "status"])
        audit_record(
            actor=user,
            action="payout.export",
            obj=locked,
            after={
                "sha256": digest,
                "export": locked.export_count,
                "lines": locked.line_count,
                "total": str(locked.total),
            },
        )
    return content


# --- the bank's return ----------------------------------------------------------------------------


@dataclass
class ReturnOutcome:
    record: BankReturn
    repeated: bool = False
    errors: list[dict] = field(default_factory=list)


def bank_return_import(*, batch: PayoutBatch, user, file_name: str, content: bytes) -> ReturnOutcome:
    """Apply a bank return file to an exported batch, all or nothing.

    Every row must name a live line of this batch by 业务编号 with the same account and amount; a reference
    that appears twice, belongs to another batch or is unknown, or any changed amount or account, rejects the
    file. Paid lines mark their cases 已发放; failed lines leave the batch and their cases wait for a corrected
    account. A line already settled by an earlier return keeps its result; a contradicting result is refused.
    """
    _require(user, "payouts.manage_payoutbatch", "导入银行回盘")
    digest = hashlib.sha256(content).hexdigest()
    rows, errors = read_return(content, file_name)
    with transaction.atomic():
        locked = _lock(batch, B.EXPORTED, B.RETURNED)
        earlier = locked.returns.filter(file_hash=digest).first()
        if earlier is not None:
            return ReturnOutcome(record=earlier, repeated=True)
        lines = {line.reference: line for line in locked.lines.select_for_update().exclude(status=L.REMOVED)}
        seen: dict[str, int] = {}
        for r in rows:
            if r.reference in seen:
                errors.append(row_error(r.row_no, "业务编号", r.reference, f"与第 {seen[r.reference]} 行重复"))
                continue
            seen[r.reference] = r.row_no
            line = lines.get(r.reference)
            if line is None:
                other = PayoutLine.objects.filter(reference=r.reference).select_related("batch").first()
                reason = f"属于另一个批次 {other.batch.number}" if other else "本批次中没有这个业务编号"
                errors.append(row_error(r.row_no, "业务编号", r.reference, reason))
                continue
            if r.account != line.payee_account.replace(" ", ""):
                errors.append(row_error(r.row_no, "银行账号", r.account, "与本批次该笔的收款账号不一致"))
            if r.amount != line.amount:
                errors.append(row_error(r.row_no, "金额（元）", r.amount, f"与本批次该笔金额 {line.amount} 不一致"))
            new_status = RESULTS[r.result]
            if line.status in (L.PAID, L.FAILED) and line.status != new_status:
                errors.append(
                    row_error(
                        r.row_no, "处理结果", r.result, f"此前回盘结果为“{line.get_status_display()}”，与本文件矛盾"
                    )
                )
        if errors:
            raise ReturnRejected(
                f"回盘文件有 {len(errors)} 处问题，未做任何更改", sorted(errors, key=lambda e: e["row"] or 0)
            )
        now = timezone.now()
        record = BankReturn(batch=locked, file_name=file_name[:255], file_hash=digest, imported_by=user, rows=len(rows))
        paid, failed = [], []
        for r in rows:
            line = lines[r.reference]
            new_status = RESULTS[r.result]
            if line.status == new_status:
                record.unchanged += 1
                continue
            line.status, line.resolved_at = new_status, now
            if new_status == L.PAID:
                paid.append(line)
            else:
                line.live, line.failure_reason = False, r.reason or "银行未说明原因"
                failed.append(line)
        PayoutLine.objects.bulk_update(paid, ["status", "resolved_at"], batch_size=2000)
        PayoutLine.objects.bulk_update(failed, ["status", "resolved_at", "live", "failure_reason"], batch_size=2000)
        _mark_cases_paid([line.case_id for line in paid], user=user, batch=locked)
        announce(batch=locked, paid=[line.pk for line in paid], released=[line.pk for line in failed], user=user)
        record.paid, record.failed = len(paid), len(failed)
        record.save()
        if locked.status == B.EXPORTED:
            locked.status, locked.returned_at = B.RETURNED, now
            locked.save(update_fields=["status", "returned_at"])
        audit_record(
            actor=user,
            action="payout.return",
            obj=locked,
            after={
                "file": record.file_name,
                "sha256": digest,
                "paid": record.paid,
                "failed": record.failed,
                "unchanged": record.unchanged,
            },
        )
    return ReturnOutcome(record=record)


def _mark_cases_paid(case_ids: list[int], *, user, batch: PayoutBatch) -> None:
    """已批准 → 已发放 for the cases the bank paid, through the case workflow in bulk (a return may hold 100,000
    lines); a case not 已批准 any more refuses the whole return."""
    if not case_ids:
        return
    try:
        cases_mark_paid(case_ids=case_ids, user=user, comment=f"银行回盘确认发放（批次 {batch.number}）")
    except TransitionRefused as exc:
        raise PayoutRefused(f"有案件已不是“已批准”状态，不能确认发放：{exc}") from None


@transaction.atomic
def batch_close(*, batch: PayoutBatch, user) -> PayoutBatch:
    """已完成: every line of the batch has the bank's result."""
    _require(user, "payouts.manage_payoutbatch", "完成支付批次")
    locked = _lock(batch, B.RETURNED)
    pending = locked.lines.filter(status=L.PENDING).count()
    if pending:
        raise PayoutRefused(f"还有 {pending} 笔没有银行回盘结果，不能完成")
    locked.status, locked.closed_at = B.CLOSED, timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    audit_record(actor=user, action="payout.close", obj=locked, after={"status": B.CLOSED})
    return locked


@transaction.atomic
def payee_correct(*, case: Case, user, payee_name: str, payee_bank: str, payee_account: str, reason: str) -> Case:
    """Correct (or fill in) the payee of an approved case whose payment failed or that has no account; the case
    then goes back to the pool. Refused while the case is in a batch waiting for the bank."""
    _require(user, "payouts.manage_payoutbatch", "更正收款账户")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status != Case.Status.APPROVED:
        raise PayoutRefused("只能更正已批准、尚未发放的案件的收款账户")
    if locked.payee_account and not PayoutLine.objects.filter(case=locked, status=L.FAILED).exists():
        raise PayoutRefused("该案件没有发放失败的记录，收款账户请在受理时修改")
    if PayoutLine.objects.filter(case=locked, live=True, status=L.PENDING).exists():
        raise PayoutRefused("该案件正在一个支付批次中，请先将其移出批次或等待银行回盘后再更正")
    try:
        account = parse_bank_account(payee_account)
    except AccountError as exc:
        raise PayoutRefused(str(exc)) from None
    if not payee_name.strip() or not payee_bank.strip():
        raise PayoutRefused("户名和开户银行不能为空")
    if not reason.strip():
        raise PayoutRefused("请写明更正原因")
    before = {"payee_name": locked.payee_name, "payee_bank": locked.payee_bank, "payee_account": locked.payee_account}
    locked.payee_name, locked.payee_bank, locked.payee_account = payee_name.strip(), payee_bank.strip(), account
    locked.revision += 1
    locked.save(update_fields=["payee_name", "payee_bank", "payee_account", "revision", "updated_at"])
    audit_record(
        actor=user,
        action="payout.correct_payee",
        obj=locked,
        before=before,
        after={"payee_name": locked.payee_name, "payee_bank": locked.payee_bank, "payee_account": locked.payee_account},
        comment=reason,
    )
    return locked


def batch_summary(batch: PayoutBatch) -> dict:
    """Totals of the live lines by township and by source (one aggregate query each)."""
    live = batch.lines.filter(live=True) if batch.status != B.CANCELLED else batch.lines.none()
    by_township = list(
        live.values("township__name").annotate(n=Count("pk"), total=Sum("amount")).order_by("township__name")
    )
    by_source = list(live.values("source").annotate(n=Count("pk"), total=Sum("amount")).order_by("source"))
    by_status = {
        row["status"]: row for row in batch.lines.values("status").annotate(n=Count("pk"), total=Sum("amount"))
    }
    offsets = live.filter(offset__gt=0).aggregate(
        n=Count("pk"), total=Sum("offset"), whole=Count("pk", filter=Q(amount=0))
    )
    return {"by_township": by_township, "by_source": by_source, "by_status": by_status, "offsets": offsets}
