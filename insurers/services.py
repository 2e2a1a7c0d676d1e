"""Writing the insurer mode: the terms of a draft policy version; statements requested, built by a job, reviewed by
a second finance user (maker-checker) or sent back; payments recorded on them and entered in the fund ledger.
Every step is audited in its own transaction. The build task is queued by name (tasks.py calls in here)."""

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from applications.models import PolicyVersion
from audit.services import audit_record
from lib.tasks import enqueue_on_commit
from recipients.models import County
from reports.facts import refresh_facts
from reports.models import FundOutlay

from .calc import ZERO, cents, clearing_balance, half_bounds, service_fee
from .models import TERMS_FIELDS, InsurerPayment, InsurerStatement, InsurerTerms
from .selectors import (
    fee_base,
    fee_confirmed,
    net_paid,
    period_figures,
    period_statements,
    terms_for_period,
    year_months,
)

logger = logging.getLogger(__name__)
S = InsurerStatement.Status
BUILD_TASK = "insurers.build_statement"


class InsurerRefused(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def _require(user, perm: str, what: str) -> None:
    # user None: the operator command on the server itself.
    if user is not None and not user.has_perm(perm):
        raise InsurerRefused(f"没有{what}的权限")


def _summary(terms: InsurerTerms | None) -> dict | None:
    if terms is None:
        return None
    return {name: str(getattr(terms, name)) for name in TERMS_FIELDS}


# --- terms ------------------------------------------------------------------------------------------------------


@transaction.atomic
def terms_save(*, version: PolicyVersion, user, data: dict) -> InsurerTerms:
    """Set the insurer terms of a draft policy version (they come into force with it), audited before and after."""
    _require(user, "insurers.change_insurerterms", "修改承办保险机构设置")
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise InsurerRefused("只有草稿状态的政策版本可以修改承办保险机构设置，请先复制为草稿")
    terms = InsurerTerms.objects.filter(version=version).first()
    before = _summary(terms)
    terms = terms or InsurerTerms(version=version)
    for name in TERMS_FIELDS:
        if name in data:
            setattr(terms, name, data[name])
    terms.full_clean()
    terms.save()
    audit_record(actor=user, action="insurer.terms_edit", obj=version, before=before, after=_summary(terms))
    return terms


@transaction.atomic
def terms_remove(*, version: PolicyVersion, user) -> None:
    _require(user, "insurers.change_insurerterms", "修改承办保险机构设置")
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise InsurerRefused("只有草稿状态的政策版本可以修改承办保险机构设置")
    terms = InsurerTerms.objects.filter(version=version).first()
    if terms is None:
        return
    before = _summary(terms)
    terms.delete()
    audit_record(actor=user, action="insurer.terms_remove", obj=version, before=before)


def terms_copy(*, source: PolicyVersion, draft: PolicyVersion, user) -> InsurerTerms | None:
    """A policy version copied into a draft keeps its insurer terms (applications.signals.policy_copied)."""
    terms = InsurerTerms.objects.filter(version=source).first()
    if terms is None:
        return None
    terms.pk, terms.version = None, draft
    terms.save()
    audit_record(actor=user, action="insurer.terms_copy", obj=draft, after={"copied_from": source.pk})
    return terms


# --- statements -------------------------------------------------------------------------------------------------


def _period(kind: str, year: int, half: int | None) -> tuple[datetime.date, datetime.date]:
    if not 2000 <= year <= 2100:
        raise InsurerRefused(f"年度不对：{year}")
    if kind == InsurerStatement.Kind.HALF:
        if half not in (1, 2):
            raise InsurerRefused("半年结算须指定上半年或下半年")
        return half_bounds(year, half)
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def _number(county: County, kind: str, year: int, half: int | None, revision: int) -> str:
    code = county.code or str(county.pk)
    period = f"{year}H{half}" if kind == InsurerStatement.Kind.HALF else f"{year}QS"
    return f"CB{code}{period}-{revision:02d}"


def statement_request(
    *, user, county: County, kind: str, year: int, half: int | None = None, queue: bool = True
) -> InsurerStatement:
    """Queue a new revision of a period's statement. The period must have begun (a clearing: its year ended), the
    county must have an insurer for it, and the period's open revision is replaced unless it is being built or
    already has payments (then it must be settled first). The requester is the maker. Without `queue` (the
    operator command) the caller builds it in its own process."""
    _require(user, "insurers.manage_insurerstatement", "生成承办机构结算单")
    if user is not None and not user.prefecture_wide and user.scope_county_id != county.pk:
        raise InsurerRefused("只能为本县（区）生成结算单")
    half = half if kind == InsurerStatement.Kind.HALF else None
    start, end = _period(kind, year, half)
    today = timezone.localdate()
    if kind == InsurerStatement.Kind.HALF and start > today:
        raise InsurerRefused(f"{year} 年{'上' if half == 1 else '下'}半年尚未开始")
    if kind == InsurerStatement.Kind.CLEARING and end >= today:
        raise InsurerRefused(f"{year} 年度尚未结束，次年才能清算")
    if kind == InsurerStatement.Kind.HALF:
        cleared = period_statements(county_id=county.pk, kind=InsurerStatement.Kind.CLEARING, year=year, half=None)
        if cleared.exclude(status__in=[S.FAILED, S.REJECTED]).exists():
            raise InsurerRefused(f"{year} 年度已进行清算，半年结算的差额在年度清算中多退少补")
    terms = terms_for_period(county_id=county.pk, start=start, end=end)
    if terms is None:
        raise InsurerRefused(f"{county.name}在该期间未委托承办保险机构（请在救助政策中设置承办保险机构）")
    try:
        with transaction.atomic():
            County.objects.select_for_update().filter(pk=county.pk).first()  # one request of a county at a time
            statements = period_statements(county_id=county.pk, kind=kind, year=year, half=half)
            open_one = statements.filter(status__in=InsurerStatement.OPEN).first()
            if open_one is not None:
                if open_one.is_active:
                    raise InsurerRefused(f"结算单 {open_one.number} 正在生成，请稍候")
                if open_one.payments.exists():
                    raise InsurerRefused(f"结算单 {open_one.number} 已有拨付记录，请先登记结清后再重新生成")
                open_one.status = S.SUPERSEDED
                open_one.save(update_fields=["status"])
                audit_record(
                    actor=user, action="insurer.statement_supersede", obj=open_one, after={"status": S.SUPERSEDED}
                )
            previous = statements.exclude(status=S.FAILED).order_by("-revision", "-pk").first()
            revision = (statements.order_by("-revision").values_list("revision", flat=True).first() or 0) + 1
            statement = InsurerStatement.objects.create(
                number=_number(county, kind, year, half, revision),
                county=county,
                kind=kind,
                year=year,
                half=half,
                revision=revision,
                previous=previous,
                terms=terms.snapshot(),
                created_by=user,
                phase="排队中",
            )
            audit_record(
                actor=user,
                action="insurer.statement_request",
                obj=statement,
                after={"kind": kind, "year": year, "half": half, "revision": revision},
            )
            if queue:
                enqueue_on_commit(BUILD_TASK, statement.pk)
    except IntegrityError as exc:
        raise InsurerRefused("该期间的结算单刚被他人申请生成，请刷新页面") from exc
    return statement


def statement_build(*, statement_id: int) -> InsurerStatement | None:
    """The job: rebuild the year's assistance summary (so late imports and approvals count), then compute the
    statement. Idempotent: only a queued statement is built."""
    claimed = InsurerStatement.objects.filter(pk=statement_id, status=S.QUEUED).update(
        status=S.RUNNING, phase="汇总救助数据"
    )
    statement = InsurerStatement.objects.filter(pk=statement_id).first()
    if statement is None or not claimed:
        return statement
    try:
        refresh_facts(year=statement.year)
        InsurerStatement.objects.filter(pk=statement_id).update(phase="计算结算金额")
        with transaction.atomic():
            statement = InsurerStatement.objects.select_for_update().get(pk=statement_id)
            _compute(statement)
            statement.status, statement.built_at, statement.phase = S.BUILT, timezone.now(), "完成"
            statement.save()
            audit_record(
                actor=None,
                action="insurer.statement_build",
                obj=statement,
                after={
                    "assistance": str(statement.assistance),
                    "fee": str(statement.fee),
                    "amount_due": str(statement.amount_due),
                    "difference": str(statement.difference),
                },
            )
    except Exception:
        logger.exception("insurer statement %s failed", statement_id)
        with transaction.atomic():
            InsurerStatement.objects.filter(pk=statement_id).update(status=S.FAILED, message="生成时发生系统错误")
            failed = InsurerStatement.objects.get(pk=statement_id)
            audit_record(actor=None, action="insurer.statement_fail", obj=failed)
        raise
    return statement


def _compute(statement: InsurerStatement) -> None:
    terms = InsurerTerms(
        contract_start=datetime.date.fromisoformat(statement.terms["contract_start"]),
        contract_end=datetime.date.fromisoformat(statement.terms["contract_end"]),
    )
    county_id, year = statement.county_id, statement.year
    months = year_months(terms, year, statement.half)
    figures = period_figures(county_id=county_id, year=year, months=months)
    statement.figures = {
        "months": months,
        "rows": [{**r, "amount": str(r["amount"])} for r in figures["rows"]],
    }
    statement.as_of = timezone.localdate()
    statement.inpatient_visits, statement.inpatient_amount = figures["inpatient_visits"], figures["inpatient_amount"]
    statement.secondary_visits, statement.secondary_amount = figures["secondary_visits"], figures["secondary_amount"]
    statement.assistance = cents(figures["assistance"])
    earlier = period_statements(county_id=county_id, kind=statement.kind, year=year, half=statement.half).exclude(
        pk=statement.pk
    )
    if statement.kind == InsurerStatement.Kind.CLEARING:
        cap = statement.terms.get("fee_cap")
        fee = service_fee(
            base=fee_base(county_id=county_id, year=year, months=months, base=statement.terms["fee_base"]),
            rate=Decimal(statement.terms["fee_rate"]),
            cap=None if cap is None else Decimal(cap),
        )
        statement.fee_base_amount, statement.fee_uncapped = fee.base, fee.uncapped
        statement.fee, statement.fee_capped = fee.amount, fee.capped
        halves = InsurerStatement.objects.filter(county_id=county_id, kind=InsurerStatement.Kind.HALF, year=year)
        statement.instalments = net_paid(halves)
        statement.figures["instalments"] = [
            {
                "number": p.statement.number,
                "period": p.statement.period_label,
                "paid_on": p.paid_on.isoformat(),
                "amount": str(p.signed),
                "reference": p.reference,
            }
            for p in InsurerPayment.objects.filter(statement__in=halves).select_related("statement")
        ]
        statement.figures["fee_explain"] = fee.explain()
        statement.gross = clearing_balance(
            assistance=statement.assistance, fee=fee.amount, instalments=statement.instalments
        )
    else:
        statement.gross = statement.assistance
    statement.previously_paid = net_paid(earlier)
    statement.amount_due = statement.gross - statement.previously_paid
    statement.difference = None if statement.previous is None else statement.gross - statement.previous.gross


def _checked_by_second(statement: InsurerStatement, user, status: str, *, what: str) -> InsurerStatement:
    """The checker's step on a built statement (复核 or 退回), locked: never by its maker."""
    locked = InsurerStatement.objects.select_for_update().get(pk=statement.pk)
    if locked.status != S.BUILT:
        raise InsurerRefused(f"结算单 {locked.number} 当前为“{locked.get_status_display()}”，不能{what}（请刷新页面）")
    if user is None or user.pk == locked.created_by_id:
        raise InsurerRefused("制单人不能复核本人生成的结算单，请由另一名财务人员复核")
    locked.status, locked.reviewed_by, locked.reviewed_at = status, user, timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return locked


@transaction.atomic
def statement_review(*, statement: InsurerStatement, user) -> InsurerStatement:
    """复核 by a second finance user, not the maker. A statement with nothing due is settled at once."""
    _require(user, "insurers.review_insurerstatement", "复核承办机构结算单")
    locked = _checked_by_second(statement, user, S.REVIEWED, what="复核")
    audit_record(
        actor=user,
        action="insurer.statement_review",
        obj=locked,
        before={"status": S.BUILT},
        after={"status": S.REVIEWED, "amount_due": str(locked.amount_due)},
    )
    if locked.amount_due == 0:
        _settle(locked, user=user, paid_on=timezone.localdate(), reference="", note="无需结算")
    return locked


@transaction.atomic
def statement_reject(*, statement: InsurerStatement, user, reason: str) -> InsurerStatement:
    """退回: the checker finds the statement wrong; the period can then be built again."""
    _require(user, "insurers.review_insurerstatement", "复核承办机构结算单")
    if not reason.strip():
        raise InsurerRefused("退回须写明原因")
    locked = _checked_by_second(statement, user, S.REJECTED, what="退回")
    audit_record(
        actor=user,
        action="insurer.statement_reject",
        obj=locked,
        before={"status": S.BUILT},
        after={"status": S.REJECTED},
        comment=reason.strip(),
    )
    return locked


def outstanding(statement: InsurerStatement) -> Decimal:
    """What is still to move on the statement: positive to the insurer, negative back from it."""
    return statement.amount_due - net_paid(InsurerStatement.objects.filter(pk=statement.pk))


@transaction.atomic
def payment_record(
    *, statement: InsurerStatement, user, amount: Decimal, paid_on: datetime.date, reference: str = "", note: str = ""
) -> InsurerPayment:
    """Record money paid to the insurer (or returned by it) on a reviewed statement, at most what is outstanding;
    it enters the fund ledger (reports.FundOutlay) of the statement's year. Paid in full, the statement is
    settled, and a clearing confirms the year's fee."""
    _require(user, "insurers.manage_insurerstatement", "登记承办机构拨付")
    locked = InsurerStatement.objects.select_for_update().get(pk=statement.pk)
    if locked.status != S.REVIEWED:
        raise InsurerRefused("只有已复核的结算单可以登记拨付")
    amount = cents(amount)
    left = outstanding(locked)
    if amount <= 0:
        raise InsurerRefused("金额须大于 0")
    if amount > abs(left):
        raise InsurerRefused(f"金额超过尚未结算的 {abs(left):,.2f} 元")
    if paid_on > timezone.localdate():
        raise InsurerRefused("支付日期不能晚于今天")
    payment = _payment(
        locked, user=user, amount=amount, paid_on=paid_on, reference=reference, note=note, last=amount == abs(left)
    )
    if amount == abs(left):
        _close(locked, user=user)
    return payment


def _payment(statement, *, user, amount, paid_on, reference, note, last: bool) -> InsurerPayment:
    to_insurer = statement.amount_due > 0 or (statement.amount_due == 0 and amount == 0)
    fee = ZERO
    if last and statement.kind == InsurerStatement.Kind.CLEARING:
        period = period_statements(county_id=statement.county_id, kind=statement.kind, year=statement.year, half=None)
        fee = max(ZERO, statement.fee - fee_confirmed(period))
    payment = InsurerPayment.objects.create(
        statement=statement,
        direction=InsurerPayment.Direction.TO_INSURER if to_insurer else InsurerPayment.Direction.FROM_INSURER,
        amount=amount,
        fee=fee,
        paid_on=paid_on,
        reference=reference.strip(),
        note=note.strip(),
        recorded_by=user,
    )
    outlay = FundOutlay.objects.create(
        county_id=statement.county_id,
        year=statement.year,
        kind=FundOutlay.Kind.INSURER if to_insurer else FundOutlay.Kind.INSURER_REFUND,
        amount=amount,
        fee=fee,
        paid_on=paid_on,
        reference=statement.number,
        note=f"{statement.insurer_name} {statement.period_label}" + (f" {note.strip()}" if note.strip() else ""),
        created_by=user,
    )
    audit_record(
        actor=user,
        action="insurer.payment",
        obj=statement,
        after={
            "direction": payment.direction,
            "amount": str(amount),
            "fee": str(fee),
            "paid_on": paid_on.isoformat(),
            "fund_outlay": outlay.pk,
            "reference": payment.reference,
        },
    )
    return payment


def _settle(statement, *, user, paid_on, reference, note) -> None:
    """Nothing due: settle; a clearing still confirms its fee (a zero payment in the ledger)."""
    if statement.kind == InsurerStatement.Kind.CLEARING and statement.fee > 0:
        _payment(statement, user=user, amount=ZERO, paid_on=paid_on, reference=reference, note=note, last=True)
    _close(statement, user=user)


def _close(statement, *, user) -> None:
    statement.status, statement.settled_at = S.SETTLED, timezone.now()
    statement.save(update_fields=["status", "settled_at"])
    audit_record(
        actor=user,
        action="insurer.statement_settle",
        obj=statement,
        before={"status": S.REVIEWED},
        after={"status": S.SETTLED},
    )
