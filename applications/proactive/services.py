"""Township work on 主动救助 leads: the contact log, conversion to an application, closing."""

import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from settlements.models import Settlement

from ..cases.services import case_add_bill, case_create
from ..cases.workflow import TransitionRefused
from ..models import Case, Lead, LeadContact, LeadSettlement

CLOSE_FOR_OUTCOME = {
    LeadContact.Outcome.REFUSED: Lead.CloseReason.REFUSED,
    LeadContact.Outcome.DECEASED: Lead.CloseReason.DECEASED,
    LeadContact.Outcome.MOVED: Lead.CloseReason.MOVED,
}


def _lock_open_lead(lead: Lead, user) -> Lead:
    if not user.has_perm("applications.work_lead"):
        raise TransitionRefused("没有跟进线索的权限")
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if user.township_scoped and locked.township_id != user.township_id:
        raise TransitionRefused("只能跟进本乡镇的线索")
    if locked.status != Lead.Status.OPEN:
        raise TransitionRefused(f"该线索{locked.get_status_display()}，不能再操作")
    return locked


@transaction.atomic
def lead_record_contact(
    *, lead: Lead, user, contacted_on: datetime.date, method: str, outcome: str, note: str = ""
) -> LeadContact:
    """Record one outreach attempt; the lead shows the latest outcome."""
    locked = _lock_open_lead(lead, user)
    if contacted_on > timezone.localdate():
        raise TransitionRefused("联系日期不能晚于今天")
    contact = LeadContact.objects.create(
        lead=locked, contacted_on=contacted_on, method=method, outcome=outcome, note=note, recorded_by=user
    )
    before = locked.outcome
    locked.outcome = outcome
    locked.save(update_fields=["outcome", "updated_at"])
    audit_record(
        actor=user,
        action="lead.contact",
        obj=locked,
        before={"outcome": before},
        after={"outcome": outcome, "method": method, "date": contacted_on.isoformat()},
        comment=note,
    )
    return contact


def _handle_items(lead: Lead) -> None:
    """The lead's waiting settlements are dealt with: they never come back as a lead."""
    LeadSettlement.objects.filter(lead=lead, active=True).update(handled=True)


@transaction.atomic
def lead_close(*, lead: Lead, user, reason: str, note: str = "") -> Lead:
    """Close a lead the township will not turn into an application, with the reason."""
    locked = _lock_open_lead(lead, user)
    if reason not in Lead.CloseReason.values or reason == Lead.CloseReason.RESOLVED:
        raise TransitionRefused("请选择关闭原因")
    if reason == Lead.CloseReason.OTHER and not note.strip():
        raise TransitionRefused("关闭原因为“其他”时须填写说明")
    locked.status = Lead.Status.CLOSED
    locked.close_reason = reason
    locked.close_note = note
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "close_reason", "close_note", "closed_at", "updated_at"])
    _handle_items(locked)
    audit_record(
        actor=user,
        action="lead.close",
        obj=locked,
        before={"status": Lead.Status.OPEN},
        after={"status": Lead.Status.CLOSED, "reason": reason},
        comment=note,
    )
    return locked


@transaction.atomic
def lead_convert(*, lead: Lead, user) -> Case:
    """Turn a lead into a draft application in one step: the person, the payee account, and one bill per
    waiting settlement (linked by settlement number). The clerk then receives it as any application."""
    locked = _lock_open_lead(lead, user)
    if not user.has_perm("applications.receive_case"):
        raise TransitionRefused("没有受理申请的权限")
    numbers = list(locked.items.filter(active=True).values_list("settlement_number", flat=True))
    settlements = list(Settlement.objects.filter(number__in=numbers).order_by("service_date", "number"))
    if not settlements:
        raise TransitionRefused("该线索没有待申请的结算记录")
    case = case_create(person=locked.person, user=user, source=Case.Source.LEAD)
    for s in settlements:
        case_add_bill(
            case=case,
            user=user,
            hospital=s.hospital,
            visit_type=s.visit_type,
            admitted_on=s.admitted_on,
            discharged_on=s.discharged_on,
            visit_on=s.visit_on,
            invoice_number=s.number,
            settlement_number=s.number,
            total=s.total,
            in_policy=s.in_policy,
            basic=s.basic,
            critical=s.critical,
            other=s.other,
            diagnosis=s.diagnosis[:100],
            major_disease=s.major_disease,
        )
    locked.status = Lead.Status.CONVERTED
    locked.case = case
    locked.save(update_fields=["status", "case", "updated_at"])
    _handle_items(locked)
    audit_record(
        actor=user,
        action="lead.convert",
        obj=locked,
        before={"status": Lead.Status.OPEN},
        after={"status": Lead.Status.CONVERTED, "case": case.number, "bills": len(settlements)},
    )
    return case
