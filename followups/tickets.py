"""Complaint tickets (投诉 / 咨询 / 信访): opened at a window, by phone, from 12345, a 信访 letter, or by a follow-up
call that found a payment missing or wrong; answered by their owner (the person's township, or the county) within
the category's working days (followups.rules); escalated to the county when overdue; closed once answered.

Every change is a conditional step under a row lock and writes its audit row in the same transaction.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_many
from lib.locks import xact_lock
from recipients.models import Person

from . import rules
from .models import TICKET_ON, FollowupCall, Receipt, Ticket

S, OWNER = Ticket.Status, Ticket.Owner
CONTENT_MAX = 2000


class TicketRefused(ValueError):
    """The step cannot be taken; the message is shown to the user and nothing changed."""


def _new_number(today: datetime.date) -> str:
    prefix = f"TS{today:%Y%m%d}"
    last = Ticket.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    return f"{prefix}{(int(last[-4:]) + 1 if last else 1):04d}"


def _summary(ticket: Ticket) -> dict:
    return {
        "status": ticket.status,
        "owner": ticket.owner,
        "category": ticket.category,
        "channel": ticket.channel,
        "due_on": ticket.due_on.isoformat(),
    }


def _create(*, user, person: Person, kind, channel, category, content, owner, case=None, line=None, call=None):
    today = timezone.localdate()
    county_id = person.township.county_id
    days, due_on = rules.due_date(county_id=county_id, category=category, opened_on=today)
    xact_lock("followups.ticket_number")
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                number=_new_number(today),
                county_id=county_id,
                township_id=person.township_id,
                kind=kind,
                channel=channel,
                category=category,
                person=person,
                case=case,
                line=line,
                call=call,
                content=content[:CONTENT_MAX],
                owner=owner,
                opened_by=user,
                opened_on=today,
                time_limit=days,
                due_on=due_on,
            )
    except IntegrityError:  # the number was taken meanwhile (SQLite has no advisory lock), or the call has one
        raise TicketRefused("暂时无法登记工单，请稍后重试") from None
    audit_record(
        actor=user,
        action="ticket.open",
        obj=ticket,
        after={**_summary(ticket), "time_limit": days, **({"call": call.number} if call else {})},
    )
    return ticket


def ticket_open(
    *,
    user,
    person: Person,
    kind: str,
    channel: str,
    category: str,
    content: str,
    owner: str = OWNER.TOWNSHIP,
    case=None,
    line=None,
) -> Ticket:
    """Register a complaint, enquiry or petition about a person the user may see (and their case or payout line).
    A township window's tickets are its township's; county staff may give one to the county."""
    if not user.has_perm("followups.handle_ticket"):
        raise TicketRefused("没有登记投诉工单的权限")
    if not Person.objects.visible_to(user).filter(pk=person.pk).exists():
        raise TicketRefused("只能为本辖区的救助对象登记工单")
    if not (content or "").strip():
        raise TicketRefused("请填写诉求内容")
    if kind not in Ticket.Kind.values or category not in Ticket.Category.values or owner not in OWNER.values:
        raise TicketRefused("工单类型、分类或承办方不正确")
    if channel not in Ticket.Channel.values or channel == Ticket.Channel.FOLLOWUP:
        raise TicketRefused("回访发现的问题由回访记录自动生成工单")
    if user.township_scoped and owner != OWNER.TOWNSHIP:
        raise TicketRefused("乡镇窗口登记的工单由本乡镇承办")
    if case is not None and case.person_id != person.pk:
        raise TicketRefused("案件不属于该救助对象")
    if line is not None and line.case.person_id != person.pk:
        raise TicketRefused("支付明细不属于该救助对象")
    with transaction.atomic():
        return _create(
            user=user,
            person=person,
            kind=kind,
            channel=channel,
            category=category,
            content=content.strip(),
            owner=owner,
            case=case if case is not None else (line.case if line is not None else None),
            line=line,
        )


def call_ticket_content(call: FollowupCall) -> str:
    found = call.get_receipt_display()
    text = f"回访发现：{found}。发放金额 {call.amount:,.2f} 元，发放日期 {call.paid_on:%Y-%m-%d}（{call.kind}）。"
    return text + (f"回访备注：{call.note}" if call.note else "")


def ticket_for_call(*, call: FollowupCall, user) -> Ticket | None:
    """The ticket a call opens by itself when it found the payment missing (待遇未到账) or wrong (金额异议): once
    per call, owned by the line's township, linked to the call, the payout line and its case. Inside the caller's
    transaction."""
    if call.receipt not in TICKET_ON or Ticket.objects.filter(call=call).exists():
        return None
    line = call.line
    return _create(
        user=user,
        person=call.person,
        kind=Ticket.Kind.COMPLAINT,
        channel=Ticket.Channel.FOLLOWUP,
        category=TICKET_ON[Receipt(call.receipt)],
        content=call_ticket_content(call),
        owner=OWNER.TOWNSHIP,
        case=line.case,
        line=line,
        call=call,
    )


def may_handle(user, ticket: Ticket) -> bool:
    """Whether the user answers and closes the ticket: its township's window while the township owns it, county
    staff always (a ticket escalated to the county is the county's alone)."""
    if not user.has_perm("followups.handle_ticket"):
        return False
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        return False
    return not (user.township_scoped and ticket.owner == OWNER.COUNTY)


def _locked(ticket: Ticket, user, status: str) -> Ticket:
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not may_handle(user, locked):
        raise TicketRefused(
            "该工单已转县局承办，由县局答复" if locked.owner == OWNER.COUNTY else "没有处理该工单的权限"
        )
    if locked.status != status:
        raise TicketRefused(f"工单 {locked.number} 当前为“{locked.get_status_display()}”，不能进行此操作（请刷新页面）")
    return locked


def ticket_reply(*, ticket: Ticket, user, reply: str, request=None) -> Ticket:
    """Answer an open ticket: the reply and its date, which decides whether it was answered in time."""
    if not (reply or "").strip():
        raise TicketRefused("请填写答复内容")
    with transaction.atomic():
        locked = _locked(ticket, user, S.OPEN)
        before = _summary(locked)
        now = timezone.now()
        locked.status, locked.reply = S.REPLIED, reply.strip()[:CONTENT_MAX]
        locked.replied_by, locked.replied_at, locked.replied_on = user, now, timezone.localdate(now)
        locked.save(update_fields=["status", "reply", "replied_by", "replied_at", "replied_on"])
        audit_record(
            actor=user,
            action="ticket.reply",
            obj=locked,
            before=before,
            after={**_summary(locked), "on_time": locked.answered_on_time},
            request=request,
        )
    return locked


def ticket_close(*, ticket: Ticket, user, note: str = "", request=None) -> Ticket:
    """Close an answered ticket (办结). Irreversible: a new problem is a new ticket."""
    with transaction.atomic():
        locked = _locked(ticket, user, S.REPLIED)
        before = _summary(locked)
        locked.status, locked.closed_by, locked.closed_at = S.CLOSED, user, timezone.now()
        locked.closing_note = (note or "").strip()[:500]
        locked.save(update_fields=["status", "closed_by", "closed_at", "closing_note"])
        audit_record(
            actor=user,
            action="ticket.close",
            obj=locked,
            before=before,
            after=_summary(locked),
            comment=note,
            request=request,
        )
    return locked


def tickets_escalate(*, today: datetime.date | None = None) -> int:
    """Township tickets still unanswered past their time limit go to the county (periodic, config/schedules.py).
    Idempotent: a ticket escalated once is the county's and is left alone."""
    today = today or timezone.localdate()
    with transaction.atomic():
        overdue = list(
            Ticket.objects.select_for_update()
            .filter(status=S.OPEN, owner=OWNER.TOWNSHIP, due_on__lt=today)
            .select_related("township")
        )
        if not overdue:
            return 0
        now = timezone.now()
        for ticket in overdue:
            ticket.owner, ticket.escalated_at = OWNER.COUNTY, now
        Ticket.objects.bulk_update(overdue, ["owner", "escalated_at"], batch_size=1000)
        audit_record_many(
            actor=None,
            action="ticket.escalate",
            objects=overdue,
            before={"owner": OWNER.TOWNSHIP},
            after={"owner": OWNER.COUNTY},
            comment=lambda t: f"超过答复期限 {t.due_on:%Y-%m-%d} 未答复，转县局承办",
        )
    return len(overdue)
