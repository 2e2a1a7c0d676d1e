"""The 零星报销 case workflow (DOMAIN §6) as services: receiving, bills, review, decision, payment.

Every status change goes through workflow.py (single or bulk). Cases the system makes itself (二次救助) plug
their own review and grant into `register_source`, so the workflow does not depend on how they are computed.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_many
from lib.chunks import chunks
from recipients.idnumber import IdNumberError, parse_id_number
from recipients.models import Person
from recipients.selectors import identities_valid_on

from ..models import Bill, Case
from ..policy import engine
from ..policy.ledger import CapExceeded, ledger_post
from ..policy.selectors import time_limit_on
from ..policy.workdays import add_working_days
from ..policy.workdays import covered as workdays_covered
from .bills import check_bill, lock_for_bills
from .calculation import case_calculate
from .checks import case_duplicates
from .levels import approval_threshold, first_level_comment, needs_first_level
from .materials import acceptance
from .workflow import TransitionRefused, check_actor, lock_case, move, record_created, transition, transition_many

S = Case.Status
AT_THE_WINDOW = (S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED)


@dataclass
class Grant:
    """What approving a case grants: the amount, the calculation kept on the case, a note for the record."""

    amount: Decimal
    calculation: list
    note: str = ""


@dataclass
class SourceRules:
    """How cases of one source are reviewed and granted when not from their bills."""

    review: Callable[[Case], tuple[Decimal, list]]  # → (proposed amount, calculation)
    grant: Callable[[Case], Grant]  # posts to the ledger; raises TransitionRefused when nothing is due
    preview: Callable[[Case], Decimal]  # what approving now would grant, read-only


_SOURCES: dict[str, SourceRules] = {}


def register_source(source: str, rules: SourceRules) -> None:
    """Install the review and grant of a case source (the secondary trigger registers its own at start-up)."""
    _SOURCES[source] = rules


# --- receiving ---------------------------------------------------------------------------------------


class OpenDraftExists(TransitionRefused):
    """The person already has a draft at the window; a second one is opened only when the clerk confirms."""

    def __init__(self, drafts: list[Case]):
        self.drafts = drafts
        numbers = "、".join(d.number for d in drafts)
        super().__init__(f"此人已有未受理的草稿案件 {numbers}：请在原草稿中继续录入；确需另立申请时请确认")


@transaction.atomic
def case_create(*, person, user, source: str = Case.Source.WINDOW, another_draft: bool = False) -> Case:
    """A draft case for a person of the registry, in the person's township.

    A window application is refused while the person has another draft (a second press of 受理申请), unless
    the clerk confirmed a second one (`another_draft`)."""
    if user is not None and user.township_scoped and person.township_id != user.township_id:
        raise TransitionRefused("只能为本乡镇人员受理申请")
    if source == Case.Source.WINDOW and not another_draft:
        # The person's row lock makes two presses at the same moment wait for each other.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        drafts = list(Case.objects.filter(person=person, status=S.DRAFT).order_by("pk"))
        if drafts:
            raise OpenDraftExists(drafts)
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
def case_create_for_new_person(
    *, user, id_number: str, name: str, phone: str = "", bank_name: str = "", bank_account: str = ""
) -> Case:
    """Receive an applicant not yet in the registry: register the person in the clerk's township and
    open a case whose identity check is pending (DOMAIN §6: 'created with a pending identity check')."""
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
def case_add_bill(*, case: Case, user, **fields) -> Bill:
    """Add a bill to a case still being received, after checking amounts, dates and identity."""
    locked = lock_for_bills(case, user)
    bill = Bill(case=locked, **fields)
    check_bill(locked, bill)
    bill.save()
    locked.revision += 1
    locked.save(update_fields=["revision", "updated_at"])
    audit_record(
        actor=user, action="case.add_bill", obj=locked, after={"invoice": bill.invoice_number, "total": str(bill.total)}
    )
    return bill


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
    check_actor(locked, user, "submit")
    if locked.status not in AT_THE_WINDOW:
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


@transaction.atomic
def case_accept(
    *,
    case: Case,
    user,
    supplied: list[str] | None = None,
    missing_materials: list[str] | None = None,
    materials_deadline=None,
) -> Case:
    """受理, or 容缺受理 when non-key materials are missing, with a deadline to supply them.

    `supplied` is the clerk's ticks on the policy's materials list (materials.py); `missing_materials` names
    the unticked ones directly; with neither, every listed material was received."""
    if not case.bills.exists():
        raise TransitionRefused("请至少录入一张就诊记录后再受理")
    today = timezone.localdate()
    due_on = add_working_days(today, time_limit_on(county_id=case.township.county_id, day=today))
    changes = {"received_by": user, "accepted_on": today, "due_on": due_on}
    changes.update(acceptance(case, supplied=supplied, missing=missing_materials, deadline=materials_deadline))
    uncovered = [year for year in range(today.year, due_on.year + 1) if not workdays_covered(year)]
    note = (
        f"注意：{'、'.join(map(str, uncovered))} 年的法定节假日尚未录入（系统管理 → 节假日调整），期限暂按周一至周五计算"
        if uncovered
        else ""
    )
    if changes["missing_materials"]:
        comment = "缺：" + "、".join(changes["missing_materials"]) + (f"。{note}" if note else "")
        return transition(case, user=user, action="accept_pending", comment=comment, **changes)
    return transition(case, user=user, action="accept", comment=note, **changes)


@transaction.atomic
def case_submit(*, case: Case, user, comment: str = "") -> Case:
    return transition(case, user=user, action="submit", comment=comment)


@transaction.atomic
def case_withdraw(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("撤回须写明原因")
    return transition(case, user=user, action="withdraw", comment=reason)


@transaction.atomic
def case_return(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("退回补正须写明原因")
    # A first approval (分级审批) is of the case as it stood: after a 退回补正 both levels start again.
    return transition(case, user=user, action="return", comment=reason, first_approved_by=None, first_approved_at=None)


# --- review and decision -----------------------------------------------------------------------------


@transaction.atomic
def case_review(*, case: Case, user, comment: str = "", expected_amount: Decimal | None = None) -> Case:
    """审核: run the calculation, record it line by line and propose the amount.

    A case received for a newly registered person can only pass once the person holds an identity
    valid on every bill's service date (the roster arrived, or the identity was recognised).
    """
    locked = lock_case(case, action="review")
    check_actor(locked, user, "review")
    changes = {}
    if locked.identity_pending:
        missing = [
            str(bill.service_date)
            for bill in locked.bills.all()
            if not identities_valid_on(person=locked.person_id, day=bill.service_date).exists()
        ]
        if missing:
            raise TransitionRefused(
                f"身份待核实：申请人在 {'、'.join(missing)} 没有有效的救助身份，请先导入名册或核实身份，或退回补正"
            )
        changes["identity_pending"] = False
    rules = _SOURCES.get(locked.source)
    if rules is not None:
        amount, calculation = rules.review(locked)
    else:
        result = case_calculate(locked)
        amount, calculation = result.amount, result.lines
    if expected_amount is not None and amount != expected_amount:
        raise TransitionRefused(
            f"计算结果已变为 {engine.yuan(amount)}（确认时为 {engine.yuan(expected_amount)}，台账或身份在此期间有变化），"
            "请核对新的计算后再确认"
        )
    return move(
        locked,
        user=user,
        action="review",
        comment=comment,
        reviewed_by=user,
        proposed_amount=amount,
        calculation=calculation,
        **changes,
    )


def _grant_bills(locked: Case) -> Grant:
    """The first round of an application: no unresolved duplicates, recalculated on the ledger as it is now,
    posted under row locks and the caps, each bill claimed once (a database constraint)."""
    # One approval per person at a time: the calculation reads the person's ledger, and a concurrent
    # approval must not use the same remaining cap (ledger_post's row lock and cap check remain the last guard).
    Person.objects.select_for_update().filter(pk=locked.person_id).first()
    problems = case_duplicates(locked)
    if problems:
        raise TransitionRefused("存在重复申请，须先处理：" + "；".join(problems))
    calculation = case_calculate(locked)
    note = ""
    if locked.proposed_amount is not None and calculation.amount > locked.proposed_amount:
        raise TransitionRefused(
            f"重新计算的金额 {engine.yuan(calculation.amount)}高于审核拟定的 {engine.yuan(locked.proposed_amount)}"
            "（身份或政策在审核后有变化），请退回重新审核"
        )
    if locked.proposed_amount is not None and calculation.amount < locked.proposed_amount:
        note = (
            f"审核拟定 {engine.yuan(locked.proposed_amount)}，批准时年度封顶剩余不足，"
            f"按 {engine.yuan(calculation.amount)}批准"
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
        claimed = locked.bills.update(claimed=True)
        for line in calculation.lines:
            Bill.objects.filter(pk=line["bill"], case=locked).update(granted=Decimal(line["amount"]))
    except CapExceeded as exc:
        raise TransitionRefused(str(exc)) from None
    except IntegrityError:
        raise TransitionRefused("其中有发票已在其他案件中获得救助，不能重复救助") from None
    if claimed != len(calculation.lines):
        raise TransitionRefused("就诊记录在计算时有变化，请刷新页面后重新审批")
    return Grant(calculation.amount, calculation.lines, note)


ZERO_REFUSED = (
    "按当前台账重新计算，本次批准金额为 0.00 元（年度封顶或应救助额已用完）；"
    "如确认以 0 元批准，请勾选“确认以 0 元批准”后再提交，否则请不予救助或退回"
)
ZERO_NOTE = "批准金额为 0.00 元（审批人已确认）"


def _grant(locked: Case, *, accept_zero: bool) -> Grant:
    rules = _SOURCES.get(locked.source)
    grant = rules.grant(locked) if rules is not None else _grant_bills(locked)
    if grant.amount <= 0:
        if not accept_zero:
            raise TransitionRefused(ZERO_REFUSED)
        grant.note = "；".join(part for part in (grant.note, ZERO_NOTE) if part)
    return grant


def approval_preview(case: Case) -> tuple[Decimal | None, str]:
    """What approving the case now would grant, on the ledger as it is (read-only), or None with the reason it
    cannot be approved as it stands: shown to the approver before they confirm."""
    rules = _SOURCES.get(case.source)
    try:
        if rules is not None:
            return rules.preview(case), ""
        amount = case_calculate(case).amount
    except TransitionRefused as exc:
        return None, str(exc)
    if case.proposed_amount is not None and amount > case.proposed_amount:
        return None, (
            f"重新计算的金额 {engine.yuan(amount)}高于审核拟定的 {engine.yuan(case.proposed_amount)}，请退回重新审核"
        )
    return amount, ""


def _first_level(locked: Case, *, user, comment: str) -> str | None:
    """The comment of a first approval when approving the case now would be the first of two (分级审批, levels.py),
    else None. A case that cannot be approved as it stands is refused with the reason, at either level."""
    if locked.first_approved_by_id is not None or approval_threshold(locked) is None:
        return None
    amount, reason = approval_preview(locked)
    if amount is None:
        raise TransitionRefused(reason)
    threshold = needs_first_level(locked, amount)
    return None if threshold is None else first_level_comment(amount, threshold, comment)


def _first_fields(user, now) -> dict:
    return {"first_approved_by": user, "first_approved_at": now}


def _decided(grant: Grant, comment: str) -> tuple[str, dict]:
    text = "；".join(part for part in (comment, grant.note) if part)
    return text, {"approved_amount": grant.amount, "calculation": grant.calculation}


@transaction.atomic
def case_approve(*, case: Case, user, comment: str = "", accept_zero: bool = False) -> Case:
    """批准: separation of duties, then the grant (the ledger posted under row locks), then the transition. A grant
    of 0.00 (the cap used up since review) is refused unless the approver confirmed it (`accept_zero`), and then
    says so in the record."""
    locked = lock_case(case, action="approve")
    check_actor(locked, user, "approve")
    first = _first_level(locked, user=user, comment=comment)
    if first is not None:
        return move(locked, user=user, action="approve_first", comment=first, **_first_fields(user, timezone.now()))
    text, changes = _decided(_grant(locked, accept_zero=accept_zero), comment)
    return move(
        locked, user=user, action="approve", comment=text, decided_by=user, decided_at=timezone.now(), **changes
    )


def cases_approve(
    *, case_ids: list[int], user, comment: str = "批量审批", accept_zero: bool = False
) -> tuple[list[Case], list[str]]:
    """Approve several cases at once (the approval queue): each is checked and granted on its own savepoint, so
    a refused one changes nothing of its own; the approved ones move together with their transitions and audit
    rows written in bulk. Returns (approved cases, refusal messages). A case that needs two approvers and had
    none is given its first approval (一级审批) instead and is returned among the approved, still 待审批."""
    approved, refused, notes, first_level = [], [], {}, []
    with transaction.atomic():
        locked = list(Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"))
        now = timezone.now()
        for case in locked:
            try:
                if case.status != S.APPROVAL:
                    raise TransitionRefused(f"案件当前状态为“{case.get_status_display()}”，不能批准")
                check_actor(case, user, "approve")
                first = _first_level(case, user=user, comment=comment)
                if first is not None:
                    notes[case.pk] = first
                    case.first_approved_by, case.first_approved_at = user, now
                    first_level.append(case)
                    continue
                with transaction.atomic():
                    grant = _grant(case, accept_zero=accept_zero)
            except TransitionRefused as exc:
                refused.append(f"{case.number}：{exc}")
                continue
            notes[case.pk], changes = _decided(grant, comment)
            case.approved_amount, case.calculation = changes["approved_amount"], changes["calculation"]
            case.decided_by, case.decided_at = user, now
            approved.append(case)
        transition_many(
            approved,
            action="approve",
            user=user,
            comment=lambda c: notes[c.pk],
            fields=["approved_amount", "calculation", "decided_by", "decided_at"],
            audit_after=lambda c: {"status": c.status, "approved_amount": str(c.approved_amount)},
        )
        transition_many(
            first_level,
            action="approve_first",
            user=user,
            comment=lambda c: notes[c.pk],
            fields=list(_first_fields(None, None)),
        )
    approved += first_level
    missing = set(case_ids) - {c.pk for c in locked}
    refused += [f"案件 #{pk} 不存在" for pk in sorted(missing)]
    return approved, refused


@transaction.atomic
def case_reject(*, case: Case, user, reason: str) -> Case:
    if not reason.strip():
        raise TransitionRefused("不予救助须写明理由")
    return transition(
        case,
        user=user,
        action="reject",
        comment=reason,
        decided_by=user,
        decided_at=timezone.now(),
        decision_reason=reason,
    )


# --- payment -----------------------------------------------------------------------------------------


def cases_mark_paid(*, case_ids: list[int], user, comment: str) -> list[Case]:
    """已批准 → 已发放 for the cases a bank return confirmed paid: locked in chunks, all refused unless every one
    is still 已批准. Call inside the transaction that records the bank's result."""
    cases = []
    for chunk in chunks(case_ids, 5000):
        cases += list(Case.objects.select_for_update().filter(pk__in=chunk))
    if len(cases) != len(set(case_ids)):
        raise TransitionRefused("有案件已不存在，不能确认发放")
    return transition_many(cases, action="mark_paid", user=user, comment=comment)


def case_mark_paid(*, case: Case, user, comment: str = "") -> Case:
    """One case paid (see cases_mark_paid)."""
    with transaction.atomic():
        return cases_mark_paid(case_ids=[case.pk], user=user, comment=comment)[0]


# --- cases the system makes (二次救助) ----------------------------------------------------------------


def cases_propose(cases: list[Case], *, comment: str, audit_action: str, audit_after) -> list[Case]:
    """Create calculated cases straight into 待审批, with their transitions and audit rows, in bulk."""
    for case in cases:
        case.status = S.APPROVAL
    Case.objects.bulk_create(cases, batch_size=1000)
    created = []
    for chunk in chunks([c.number for c in cases], 1000):
        created += list(Case.objects.filter(number__in=chunk))
    record_created(created, action="propose", comment=comment, audit_action=audit_action, audit_after=audit_after)
    return created


def cases_revise_proposals(cases: list[Case], *, audit_action: str, before, after, comment: str) -> None:
    """New proposed amounts and calculations of cases waiting for approval (locked by the caller)."""
    now = timezone.now()
    for case in cases:
        case.revision += 1
        case.updated_at = now
    Case.objects.bulk_update(cases, ["proposed_amount", "calculation", "revision", "updated_at"], batch_size=1000)
    audit_record_many(actor=None, action=audit_action, objects=cases, before=before, after=after, comment=comment)


def cases_retract(cases: list[Case], *, reason: str, audit_action: str) -> list[Case]:
    """Take back proposals waiting for approval that a recomputation no longer supports (locked by the caller)."""
    for case in cases:
        case.decision_reason = reason
    return transition_many(
        cases, action="retract", user=None, comment=reason, fields=["decision_reason"], audit_action=audit_action
    )


def case_flag(case: Case, *, flag: str, audit_action: str) -> bool:
    """Set a review note on a decided case (locked by the caller); False when it already says so."""
    if case.review_flag == flag:
        return False
    case.review_flag = flag
    case.save(update_fields=["review_flag", "updated_at"])
    audit_record(actor=None, action=audit_action, obj=case, comment=flag)
    return True
