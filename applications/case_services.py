"""The 零星报销 case workflow (DOMAIN §6) as services: every transition checks the current state under a
row lock, records who/when/from/to/comment, and writes the audit event in the same transaction.

A transition that is not in TRANSITIONS cannot happen; a second submission of the same action finds
the case already moved and is refused with a message instead of acting twice.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from recipients.models import Person
from recipients.selectors import identities_valid_on

from . import policy_engine as engine
from .models import Bill, Case, CaseTransition, LedgerEntry
from .policy_services import CapExceeded, engine_policy, ledger_post, policy_in_force
from .workdays import add_working_days
from .workdays import covered as workdays_covered

S = Case.Status

# action: (states it may start from, state it leads to)
TRANSITIONS = {
    "accept": ({S.DRAFT}, S.ACCEPTED),
    "accept_pending": ({S.DRAFT}, S.ACCEPTED_PENDING),
    "submit": ({S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED}, S.REVIEW),
    "review": ({S.REVIEW}, S.APPROVAL),
    "return": ({S.REVIEW, S.APPROVAL}, S.RETURNED),
    "approve": ({S.APPROVAL}, S.APPROVED),
    "reject": ({S.APPROVAL}, S.REJECTED),
    "withdraw": ({S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED, S.REVIEW}, S.WITHDRAWN),
    "mark_paid": ({S.APPROVED}, S.PAID),
}
ACTION_LABELS = {
    "accept": "受理",
    "accept_pending": "容缺受理",
    "submit": "提交审核",
    "review": "审核通过",
    "return": "退回补正",
    "approve": "批准",
    "reject": "不予救助",
    "withdraw": "撤回",
    "mark_paid": "发放",
}
# Who may take each action: the permission, and whether a township clerk's own-township rule applies.
ACTION_PERMISSIONS = {
    "accept": "applications.receive_case",
    "accept_pending": "applications.receive_case",
    "submit": "applications.receive_case",
    "withdraw": "applications.receive_case",
    "review": "applications.review_case",
    "return": "applications.review_case",
    "approve": "applications.approve_case",
    "reject": "applications.approve_case",
}


class TransitionRefused(ValueError):
    """The action is not allowed now; the message is shown to the user."""


def _check_actor(case: Case, user, action: str) -> None:
    permission = ACTION_PERMISSIONS.get(action)
    if permission and user is not None:
        if not user.has_perm(permission):
            raise TransitionRefused(f"没有“{ACTION_LABELS[action]}”的权限")
        if user.township_scoped and case.township_id != user.township_id:
            raise TransitionRefused("只能处理本乡镇的案件")
    if action in ("approve", "reject") and user is not None:
        # Everyone who ever received or reviewed the case, including reviews before a 退回补正.
        barred = {case.received_by_id, case.reviewed_by_id}
        barred.update(
            case.transitions.filter(to_status__in=[S.ACCEPTED, S.ACCEPTED_PENDING, S.APPROVAL]).values_list(
                "actor_id", flat=True
            )
        )
        if user.pk in barred:
            raise TransitionRefused("受理或审核过本案件的人员不能审批本案件")


def _transition(case: Case, *, user, action: str, comment: str = "", **changes) -> Case:
    allowed_from, to_status = TRANSITIONS[action]
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status not in allowed_from:
        raise TransitionRefused(
            f"案件当前状态为“{locked.get_status_display()}”，不能{ACTION_LABELS[action]}（可能已被他人处理，请刷新页面）"
        )
    _check_actor(locked, user, action)
    from_status = locked.status
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.status = to_status
    locked.revision += 1
    locked.save()
    CaseTransition.objects.create(
        case=locked, from_status=from_status, to_status=to_status, actor=user, comment=comment
    )
    audit_record(
        actor=user,
        action=f"case.{action}",
        obj=locked,
        before={"status": from_status},
        after={
            "status": to_status,
            **{k: str(v) for k, v in changes.items() if k in ("approved_amount", "proposed_amount")},
        },
        comment=comment,
    )
    return locked


@transaction.atomic
def case_accept(*, case: Case, user, missing_materials: list[str] | None = None, materials_deadline=None) -> Case:
    """受理 (or 容缺受理 when non-key materials are missing, with a deadline to supply them)."""
    if not case.bills.exists():
        raise TransitionRefused("请至少录入一张就诊记录后再受理")
    today = timezone.localdate()
    version = policy_in_force(county_id=case.township.county_id, day=today)
    limit = version.time_limit_working_days if version else 30
    due_on = add_working_days(today, limit)
    changes = {"received_by": user, "accepted_on": today, "due_on": due_on}
    uncovered = [year for year in range(today.year, due_on.year + 1) if not workdays_covered(year)]
    note = (
        f"注意：{'、'.join(map(str, uncovered))} 年的法定节假日尚未录入（系统管理 → 节假日调整），期限暂按周一至周五计算"
        if uncovered
        else ""
    )
    if missing_materials:
        if materials_deadline is None:
            raise TransitionRefused("容缺受理须写明补齐材料的期限")
        changes.update(missing_materials=list(missing_materials), materials_deadline=materials_deadline)
        comment = "缺：" + "、".join(missing_materials) + (f"。{note}" if note else "")
        return _transition(case, user=user, action="accept_pending", comment=comment, **changes)
    return _transition(case, user=user, action="accept", comment=note, **changes)


@transaction.atomic
def case_submit(*, case: Case, user, comment: str = "") -> Case:
    return _transition(case, user=user, action="submit", comment=comment)


@transaction.atomic
def case_withdraw(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("撤回须写明原因")
    return _transition(case, user=user, action="withdraw", comment=reason)


@transaction.atomic
def case_return(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("退回补正须写明原因")
    return _transition(case, user=user, action="return", comment=reason)


@dataclass
class CaseCalculation:
    amount: Decimal
    lines: list[dict]  # one per bill: bill id, service date, category, amount, steps


def case_calculate(case: Case) -> CaseCalculation:
    """Run the policy engine over the case's bills in service-date order, on top of the person's ledger."""
    bills = sorted(case.bills.all(), key=lambda b: (b.service_date or datetime.date.min, b.pk))
    ledgers: dict[int, dict[str, engine.PoolState]] = {}
    total = Decimal("0")
    lines = []
    for bill in bills:
        day = bill.service_date
        if day is None:
            raise TransitionRefused(f"就诊记录 {bill} 缺少就诊或出院日期")
        version = policy_in_force(county_id=case.township.county_id, day=day)
        if version is None:
            raise TransitionRefused(f"{day} 没有生效的救助政策")
        policy = engine_policy(version, year=day.year)
        if day.year not in ledgers:
            from .crosscheck import onestop_usage

            # Approved applications, then what hospitals already paid one-stop this year (DOMAIN §5).
            pools = {
                e.pool: engine.PoolState(e.deductible_used, e.granted)
                for e in LedgerEntry.objects.filter(person_id=case.person_id, year=day.year)
            }
            try:
                onestop = onestop_usage(person=case.person, year=day.year)
            except engine.PolicyError as exc:
                raise TransitionRefused(f"无法计算本年一站式结算已用额度：{exc}") from None
            for pool, used in onestop.items():
                state = pools.get(pool, engine.EMPTY_POOL)
                pools[pool] = engine.PoolState(
                    state.deductible_used + used.deductible_used, state.granted + used.granted
                )
            ledgers[day.year] = pools
        categories = [i.category for i in identities_valid_on(person=case.person_id, day=day)]
        amounts = bill.amounts()
        try:
            result = engine.best_first_round(policy, categories, bill.visit_type, amounts, ledgers[day.year])
        except engine.PolicyError as exc:
            raise TransitionRefused(f"就诊记录 {bill}：{exc}") from None
        if result.pool is not None:
            state = ledgers[day.year].get(result.pool, engine.PoolState())
            ledgers[day.year][result.pool] = engine.PoolState(
                state.deductible_used + result.deductible_applied, state.granted + result.amount
            )
        total += result.amount
        lines.append(
            {
                "bill": bill.pk,
                "service_date": day.isoformat(),
                "year": day.year,
                "category": result.category,
                "pool": result.pool,
                "amount": str(result.amount),
                "deductible_applied": str(result.deductible_applied),
                "cap": str(policy.rule(result.category, bill.visit_type).cap) if result.category else None,
                "steps": [[s.label, s.detail] for s in result.steps],
            }
        )
    return CaseCalculation(amount=total, lines=lines)


def case_duplicates(case: Case) -> list[str]:
    """Problems to resolve before approval: the same invoice or settlement claimed twice (in this case
    or another live one), stays that overlap, and bills past the policy's claim deadline."""
    problems = []
    live = ~Q(case__status__in=[S.WITHDRAWN, S.REJECTED, S.DRAFT])
    bills = list(case.bills.all())
    for bill in bills:
        key = bill.invoice_key or Bill.make_invoice_key(bill.hospital, bill.invoice_number)
        same_invoice = (
            Bill.objects.filter(live | Q(case=case), invoice_key=key).exclude(pk=bill.pk).select_related("case")
        )
        for other in same_invoice:
            where = "本案件另一张就诊记录" if other.case_id == case.pk else f"案件 {other.case.number}"
            problems.append(f"发票 {bill.invoice_number}（{bill.hospital}）已在{where}中申请")
        if bill.settlement_number:
            others = Bill.objects.filter(live | Q(case=case), settlement_number=bill.settlement_number).exclude(
                pk=bill.pk
            )
            for other in others.select_related("case"):
                problems.append(f"结算单 {bill.settlement_number} 已在案件 {other.case.number} 中申请")
        stays = Bill.objects.filter(live | Q(case=case), case__person_id=case.person_id).exclude(pk=bill.pk)
        if bill.visit_type == "住院" and bill.admitted_on and bill.discharged_on:
            overlapping = stays.filter(
                Q(visit_type="住院", admitted_on__lte=bill.discharged_on, discharged_on__gte=bill.admitted_on)
                | Q(visit_on__gte=bill.admitted_on, visit_on__lte=bill.discharged_on)
            )
        elif bill.visit_on:
            overlapping = stays.filter(
                visit_type="住院", admitted_on__lte=bill.visit_on, discharged_on__gte=bill.visit_on
            )
        else:
            overlapping = stays.none()
        for other in overlapping.select_related("case"):
            span = f"{other.admitted_on}～{other.discharged_on}" if other.visit_type == "住院" else str(other.visit_on)
            problems.append(
                f"{bill.visit_type} {bill.service_date} 与案件 {other.case.number} 的{other.visit_type} {span} 时间重叠"
            )
    problems.extend(_assisted_one_stop(case, bills))
    problems.extend(_late_claims(case, bills))
    return list(dict.fromkeys(problems))


def _assisted_one_stop(case: Case, bills) -> list[str]:
    """Bills for a stay or visit the hospital already settled with medical assistance (A0 > 0): the
    same cost must not be assisted twice. Matched by settlement number, or by the person and dates."""
    from settlements.models import Settlement

    problems = []
    assisted = Settlement.objects.filter(id_number=case.person.id_number, onestop__gt=0)
    for bill in bills:
        match = Q(number=bill.settlement_number) if bill.settlement_number else Q(pk__in=[])
        if bill.visit_type == "住院" and bill.admitted_on and bill.discharged_on:
            match |= Q(visit_type="住院", admitted_on__lte=bill.discharged_on, discharged_on__gte=bill.admitted_on)
        elif bill.visit_on:
            match |= Q(visit_on=bill.visit_on, visit_type=bill.visit_type)
        for s in assisted.filter(match):
            same_hospital = Bill.make_invoice_key(s.hospital, "") == Bill.make_invoice_key(bill.hospital, "")
            if bill.visit_type != "住院" and not same_hospital:
                continue  # two visits on one day at different hospitals are two costs
            problems.append(
                f"{bill.visit_type} {bill.service_date}（{bill.hospital}）已在{s.hospital}一站式结算中获得医疗救助 "
                f"{engine.yuan(s.onestop)}（结算单号 {s.number}）"
            )
    return problems


def _late_claims(case: Case, bills) -> list[str]:
    """Bills applied for after the policy's claim deadline (days after discharge or visit)."""
    applied_on = case.accepted_on or timezone.localdate()
    late = []
    for bill in bills:
        day = bill.service_date
        version = policy_in_force(county_id=case.township.county_id, day=day) if day else None
        if version and version.claim_deadline_days and (applied_on - day).days > version.claim_deadline_days:
            late.append(
                f"就诊记录 {bill.invoice_number} 超过申请期限（出院或就诊后 {version.claim_deadline_days} 天内）"
            )
    return late


@transaction.atomic
def case_review(*, case: Case, user, comment: str = "") -> Case:
    """审核: run the calculation, record it line by line and propose the amount.

    A case received for a newly registered person can only pass once the person holds an identity
    valid on every bill's service date (the roster arrived, or the identity was recognised).
    """
    changes = {}
    if Case.objects.filter(pk=case.pk, identity_pending=True).exists():
        missing = [
            str(bill.service_date)
            for bill in case.bills.all()
            if not identities_valid_on(person=case.person_id, day=bill.service_date).exists()
        ]
        if missing:
            raise TransitionRefused(
                f"身份待核实：申请人在 {'、'.join(missing)} 没有有效的救助身份，请先导入名册或核实身份，或退回补正"
            )
        changes["identity_pending"] = False
    if case.source == Case.Source.SECONDARY:
        # A returned secondary case is reviewed on its yearly figure, not on bills (it has none).
        from .secondary import _calculation, secondary_recalculate

        result, burden = secondary_recalculate(case)
        if result is None or result.pay_now <= 0:
            raise TransitionRefused("按当前数据重新测算，本年度已无需再给予二次救助")
        return _transition(
            case,
            user=user,
            action="review",
            comment=comment,
            reviewed_by=user,
            proposed_amount=result.pay_now,
            calculation=_calculation(result, burden),
        )
    calculation = case_calculate(case)
    return _transition(
        case,
        user=user,
        action="review",
        comment=comment,
        reviewed_by=user,
        proposed_amount=calculation.amount,
        calculation=calculation.lines,
        **changes,
    )


@transaction.atomic
def case_create_for_new_person(
    *, user, id_number: str, name: str, phone: str = "", bank_name: str = "", bank_account: str = ""
) -> Case:
    """Receive an applicant not yet in the registry: register the person in the clerk's township and
    open a case whose identity check is pending (DOMAIN §6: 'created with a pending identity check')."""
    from recipients.idnumber import IdNumberError, parse_id_number

    if not user.township_scoped:
        raise TransitionRefused("新申请人须由乡镇窗口登记")
    try:
        info = parse_id_number(id_number)
    except IdNumberError as exc:
        raise TransitionRefused(str(exc)) from None
    if not name.strip():
        raise TransitionRefused("请填写申请人姓名")
    if Person.objects.filter(id_number=info.number).exists():
        raise TransitionRefused("此人已在救助对象库中，请在“救助对象”中查找后受理")
    person = Person.objects.create(
        id_number=info.number,
        name=name.strip(),
        sex=info.sex,
        birth_date=info.birth_date,
        township_id=user.township_id,
        phone=phone.strip(),
        bank_name=bank_name.strip(),
        bank_account=bank_account.strip(),
    )
    audit_record(
        actor=user, action="recipient.register", obj=person, object_repr=person.name, comment="窗口新登记，身份待核实"
    )
    case = case_create(person=person, user=user)
    case.identity_pending = True
    case.save(update_fields=["identity_pending"])
    return case


@transaction.atomic
def case_approve(*, case: Case, user, comment: str = "") -> Case:
    """批准: separation of duties, no unresolved duplicates, and the ledger posted under row locks."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status != S.APPROVAL:
        raise TransitionRefused(
            f"案件当前状态为“{locked.get_status_display()}”，不能批准（可能已被他人处理，请刷新页面）"
        )
    _check_actor(locked, user, "approve")
    if locked.source == Case.Source.SECONDARY:
        return _approve_secondary(locked, user=user, comment=comment)
    # One approval per person at a time: the calculation below reads the person's ledger, and a
    # concurrent approval must not use the same remaining cap. (ledger_post's row lock and cap
    # check remain the last guard.)
    Person.objects.select_for_update().filter(pk=locked.person_id).first()
    problems = case_duplicates(locked)
    if problems:
        raise TransitionRefused("存在重复申请，须先处理：" + "；".join(problems))
    # Recalculate on the ledger as it is now: other approvals may have used the cap since review.
    calculation = case_calculate(locked)
    if locked.proposed_amount is not None and calculation.amount > locked.proposed_amount:
        raise TransitionRefused(
            f"重新计算的金额 {calculation.amount} 元高于审核拟定的 {locked.proposed_amount} 元"
            "（身份或政策在审核后有变化），请退回重新审核"
        )
    if locked.proposed_amount is not None and calculation.amount < locked.proposed_amount:
        comment = (comment + "；" if comment else "") + (
            f"审核拟定 {locked.proposed_amount} 元，批准时年度封顶剩余不足，按 {calculation.amount} 元批准"
        )
    try:
        for line in calculation.lines:
            if line["pool"] is None:
                continue
            ledger_post(
                person_id=locked.person_id,
                year=line["year"],
                pool=line["pool"],
                granted=Decimal(line["amount"]),
                deductible_used=Decimal(line["deductible_applied"]),
                cap=None if line["cap"] in (None, "None") else Decimal(line["cap"]),
            )
        updated = locked.bills.update(claimed=True)
        for line in calculation.lines:
            Bill.objects.filter(pk=line["bill"], case=locked).update(granted=Decimal(line["amount"]))
    except CapExceeded as exc:
        raise TransitionRefused(str(exc)) from None
    except IntegrityError:
        raise TransitionRefused("其中有发票已在其他案件中获得救助，不能重复救助") from None
    assert updated == locked.bills.count()
    from .secondary import secondary_after_commit

    secondary_after_commit(person_ids=[locked.person_id], reason="案件批准之后")
    return _transition(
        locked,
        user=user,
        action="approve",
        comment=comment,
        decided_by=user,
        decided_at=timezone.now(),
        approved_amount=calculation.amount,
        calculation=calculation.lines,
    )


def _approve_secondary(locked: Case, *, user, comment: str) -> Case:
    """批准 a 二次救助 case: the person-year is recomputed now, never more than proposed, and posted to the
    year's 二次救助 ledger under its cap, so that no recomputation can pay twice."""
    from .secondary import _calculation, secondary_after_commit, secondary_cap, secondary_recalculate

    Person.objects.select_for_update().filter(pk=locked.person_id).first()
    result, burden = secondary_recalculate(locked)
    amount = min(result.pay_now, locked.proposed_amount or Decimal("0")) if result else Decimal("0")
    if amount <= 0:
        raise TransitionRefused("按当前数据重新测算，本年度已无需再给予二次救助；请等待下次测算自动撤回本案件")
    if amount < (locked.proposed_amount or 0):
        comment = (
            comment + "；" if comment else ""
        ) + f"拟救助 {locked.proposed_amount} 元，按重新测算的 {amount} 元批准"
    try:
        ledger_post(
            person_id=locked.person_id,
            year=locked.year,
            pool=LedgerEntry.SECONDARY,
            granted=amount,
            cap=secondary_cap(locked, result.category, burden.last_date),
        )
    except CapExceeded as exc:
        raise TransitionRefused(str(exc)) from None
    approved = _transition(
        locked,
        user=user,
        action="approve",
        comment=comment,
        decided_by=user,
        decided_at=timezone.now(),
        approved_amount=amount,
        calculation=_calculation(result, burden),
    )
    secondary_after_commit(person_ids=[locked.person_id], reason="二次救助批准之后")
    return approved


@transaction.atomic
def case_reject(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("不予救助须写明理由")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.source != Case.Source.SECONDARY:
        from .secondary import secondary_after_commit

        # A refused first round is decided: the person's yearly burden now counts those bills.
        secondary_after_commit(person_ids=[locked.person_id], reason="案件不予救助之后")
    return _transition(
        locked,
        user=user,
        action="reject",
        comment=reason,
        decided_by=user,
        decided_at=timezone.now(),
        decision_reason=reason,
    )


@transaction.atomic
def case_create(*, person, user, source: str = Case.Source.WINDOW) -> Case:
    """A draft case for a person of the registry, in the person's township."""
    if user is not None and user.township_scoped and person.township_id != user.township_id:
        raise TransitionRefused("只能为本乡镇人员受理申请")
    case = Case.objects.create(
        number=f"T{uuid.uuid4().hex[:18]}",  # replaced below once the id is known
        person=person,
        township_id=person.township_id,
        source=source,
        payee_name=person.name,
        payee_bank=person.bank_name,
        payee_account=person.bank_account,
    )
    case.number = f"LX{timezone.localdate():%Y}{case.pk:06d}"
    case.save(update_fields=["number"])
    audit_record(actor=user, action="case.create", obj=case)
    return case


@transaction.atomic
def case_add_bill(*, case: Case, user, **fields) -> Bill:
    """Add a bill to a case still being received, after checking amounts, dates and identity."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status not in (S.DRAFT, S.RETURNED):
        raise TransitionRefused("只有草稿或退回补正的案件可以修改就诊记录")
    bill = Bill(case=locked, **fields)
    try:
        bill.amounts()
    except engine.PolicyError as exc:
        raise TransitionRefused(str(exc)) from None
    if bill.visit_type == "住院":
        if not (bill.admitted_on and bill.discharged_on):
            raise TransitionRefused("住院须填写入院日期和出院日期")
        if bill.discharged_on < bill.admitted_on:
            raise TransitionRefused("出院日期早于入院日期")
    elif not bill.visit_on:
        raise TransitionRefused("门诊须填写就诊日期")
    day = bill.service_date
    if day > timezone.localdate():
        raise TransitionRefused("就诊（出院）日期不能晚于今天")
    if not locked.identity_pending and not identities_valid_on(person=locked.person_id, day=day).exists():
        raise TransitionRefused(f"申请人在 {day} 没有有效的救助身份")
    bill.save()
    locked.revision += 1
    locked.save(update_fields=["revision", "updated_at"])
    audit_record(
        actor=user, action="case.add_bill", obj=locked, after={"invoice": bill.invoice_number, "total": str(bill.total)}
    )
    return bill


def case_mark_paid(*, case: Case, user) -> Case:
    """Set by payouts once the bank confirms the payment."""
    with transaction.atomic():
        return _transition(case, user=user, action="mark_paid")


MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def sniff_content_type(content: bytes) -> str | None:
    """The file's type from its first bytes, never from its name."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


@transaction.atomic
def case_attach(*, case: Case, user, name: str, content: bytes, material: str = ""):
    """Store a scan (PDF, JPEG or PNG, by content) on a case still at the window."""
    import hashlib
    import os

    from django.core.files.base import ContentFile

    from .models import Attachment

    locked = Case.objects.select_for_update().get(pk=case.pk)
    _check_actor(locked, user, "submit")
    if locked.status not in (S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED):
        raise TransitionRefused("案件已提交审核，不能再上传材料；如需补充请由审核人退回补正")
    if not content:
        raise TransitionRefused("文件是空的")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise TransitionRefused(f"文件过大：上限 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
    detected = sniff_content_type(content)
    if detected is None:
        raise TransitionRefused("只接受 PDF、JPEG 或 PNG 扫描件（按文件内容判断）")
    claimed = _EXTENSIONS.get(os.path.splitext(name.lower())[1])
    if claimed != detected:
        raise TransitionRefused("文件内容与扩展名不符，请确认文件没有被改名")
    attachment = Attachment(
        case=locked,
        material=material[:100],
        original_name=name[:255],
        content_type=detected,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save("scan", ContentFile(content), save=False)
    attachment.save()
    audit_record(
        actor=user,
        action="case.attach",
        obj=locked,
        after={"file": attachment.original_name, "sha256": attachment.sha256},
    )
    return attachment


EDITABLE_FIELDS = (
    "agent_name",
    "agent_id_number",
    "agent_relation",
    "payee_name",
    "payee_bank",
    "payee_account",
    "commitment_signed",
)


@transaction.atomic
def case_update(*, case: Case, user, revision: int, **fields) -> Case:
    """Save the case's own fields, refusing if someone else saved it since this form was opened."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TransitionRefused(f"不能修改：{'、'.join(sorted(unknown))}")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _check_actor(locked, user, "submit")
    if locked.status not in (S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED):
        raise TransitionRefused("案件已提交审核，不能修改")
    if locked.revision != revision:
        raise TransitionRefused("该案件已被他人修改，您的修改未保存；请刷新页面后重新填写")
    before = {name: str(getattr(locked, name)) for name in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.revision += 1
    locked.save()
    audit_record(
        actor=user,
        action="case.update",
        obj=locked,
        before=before,
        after={name: str(getattr(locked, name)) for name in fields},
    )
    return locked
