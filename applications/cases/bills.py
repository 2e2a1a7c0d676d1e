"""The bills of a case while it is being received: checked once (add and correct alike), corrected, removed."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from recipients.selectors import identities_valid_on
from settlements.visits import INPATIENT

from ..models import Bill, Case
from ..policy import engine
from .workflow import TransitionRefused, check_actor

S = Case.Status
BILLS_EDITABLE = (S.DRAFT, S.RETURNED)
BILL_FIELDS = (
    "hospital",
    "visit_type",
    "admitted_on",
    "discharged_on",
    "visit_on",
    "invoice_number",
    "settlement_number",
    "total",
    "in_policy",
    "basic",
    "critical",
    "other",
    "donation",
    "diagnosis",
    "major_disease",
)


def lock_for_bills(case: Case, user) -> Case:
    """The case under a row lock, refused unless its bills may change now and by this user."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    check_actor(locked, user, "submit")
    if locked.status not in BILLS_EDITABLE:
        raise TransitionRefused("只有草稿或退回补正的案件可以修改就诊记录")
    return locked


def check_bill(locked: Case, bill: Bill) -> None:
    """Amounts, dates and the applicant's identity on the service date; raises TransitionRefused."""
    try:
        engine.Amounts.of(bill)
    except engine.PolicyError as exc:
        raise TransitionRefused(str(exc)) from None
    if bill.visit_type == INPATIENT:
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


def _summary(bill: Bill) -> dict:
    def text(value):
        return f"{value:.2f}" if isinstance(value, Decimal) else str(value)

    return {name: text(getattr(bill, name)) for name in BILL_FIELDS}


def _touch(locked: Case) -> None:
    locked.revision += 1
    locked.save(update_fields=["revision", "updated_at"])


@transaction.atomic
def case_update_bill(*, case: Case, user, bill_id: int, **fields) -> Bill:
    """Correct a bill of a draft or returned case: checked as a new one, audited with before and after."""
    unknown = set(fields) - set(BILL_FIELDS)
    if unknown:
        raise TransitionRefused(f"不能修改：{'、'.join(sorted(unknown))}")
    locked = lock_for_bills(case, user)
    bill = Bill.objects.select_for_update().filter(case=locked, pk=bill_id).first()
    if bill is None:
        raise TransitionRefused("这张就诊记录已不在本案件中（可能已被删除），请刷新页面")
    before = _summary(bill)
    for name, value in fields.items():
        setattr(bill, name, value)
    # A stay has no visit date and a visit no stay: the other fields are cleared when the type changes.
    if bill.visit_type == INPATIENT:
        bill.visit_on = None
    else:
        bill.admitted_on = bill.discharged_on = None
    check_bill(locked, bill)
    after = _summary(bill)
    if after == before:
        return bill
    bill.save()
    _touch(locked)
    changed = [name for name in BILL_FIELDS if before[name] != after[name]]
    audit_record(
        actor=user,
        action="case.update_bill",
        obj=locked,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        comment=f"发票 {bill.invoice_number}",
    )
    return bill


@transaction.atomic
def case_remove_bill(*, case: Case, user, bill_id: int, reason: str = "") -> None:
    """Remove a bill entered by mistake from a draft or returned case; audited with what it held."""
    locked = lock_for_bills(case, user)
    bill = Bill.objects.select_for_update().filter(case=locked, pk=bill_id).first()
    if bill is None:
        raise TransitionRefused("这张就诊记录已不在本案件中（可能已被删除），请刷新页面")
    if bill.claimed:
        raise TransitionRefused("这张就诊记录已获得救助，不能删除")
    before = _summary(bill)
    bill.delete()
    _touch(locked)
    audit_record(actor=user, action="case.remove_bill", obj=locked, before=before, comment=reason.strip()[:200])
