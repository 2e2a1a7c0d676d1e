"""Plans drawn from paid lines; calls; the ticket a call opens; time limits across a holiday; escalation."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.roles import Role
from audit.models import AuditEvent
from followups import rules
from followups.calls import CallRefused, Result, call_record
from followups.models import FollowupPlan, FollowupPolicy, Receipt, Ticket, TicketTimeLimit
from followups.plans import PlanRefused, plan_create, plan_scope, redraw
from followups.tickets import TicketRefused, ticket_close, ticket_open, ticket_reply, tickets_escalate
from payouts.models import PayoutLine
from tests.factories import UserFactory

from .conftest import paid_line

D = Decimal
M = FollowupPlan.Method


def lines(batch, towns, per_town=(6, 3, 1)):
    return [paid_line(batch, town) for town, n in zip(towns, per_town, strict=True) for _ in range(n)]


def test_a_plan_of_a_batch_draws_its_paid_lines_with_each_townships_minimum(batch, towns, reviewer):
    paid = lines(batch, towns)
    paid_line(batch, towns[0], status=PayoutLine.Status.FAILED)  # not paid: never called
    scope = plan_scope(user=reviewer, batch=batch)
    plan = plan_create(user=reviewer, scope=scope, method=M.COUNT, size=4, per_township=2, seed=7)
    assert plan.population == 10
    drawn = list(plan.calls.values_list("line_id", flat=True))
    by_town = {t.pk: plan.calls.filter(township=t).count() for t in towns}
    assert by_town == {towns[0].pk: 2, towns[1].pk: 2, towns[2].pk: 1}  # minimums (1 is all 长坡镇 has) win over N
    assert plan.call_count == 5 == len(drawn)
    assert set(drawn) <= {line.pk for line in paid}
    assert sorted(drawn) == redraw(plan)  # the recorded seed draws the same lines again
    again = plan_create(user=reviewer, scope=scope, method=M.COUNT, size=4, per_township=2, seed=7)
    assert sorted(again.calls.values_list("line_id", flat=True)) == sorted(drawn)
    first = plan.calls.order_by("number").first()
    assert first.number == f"{plan.number}-0001" and first.amount == D("1000.00")
    assert first.paid_on == datetime.date(2026, 11, 20) and first.kind == "医疗救助"
    event = AuditEvent.objects.get(action="followup.plan_create", object_id=str(plan.pk))
    assert event.after["seed"] == 7 and event.after["calls"] == 5


def test_a_plan_of_a_month_takes_the_lines_paid_that_month(batch, towns, reviewer):
    lines(batch, towns, (2, 1, 0))
    paid_line(batch, towns[0], day=datetime.date(2026, 10, 31))
    plan = plan_create(user=reviewer, scope=plan_scope(user=reviewer, month="2026-11"), method=M.ALL)
    assert plan.population == plan.call_count == 3
    assert plan.scope_text == "2026年11月发放"


def test_a_plan_over_an_empty_period_says_so(batch, reviewer):
    with pytest.raises(PlanRefused, match="高州市2026年9月没有发放成功的支付明细"):
        plan_create(user=reviewer, scope=plan_scope(user=reviewer, month="2026年9月"), method=M.ALL)
    with pytest.raises(PlanRefused, match="没有发放成功的明细"):
        plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method=M.ALL)
    assert not FollowupPlan.objects.exists()


def test_only_county_staff_make_plans_of_their_own_county(batch, towns, clerk):
    lines(batch, towns, (1, 0, 0))
    with pytest.raises(PlanRefused, match="权限"):
        plan_create(user=clerk, scope=plan_scope(user=clerk, batch=batch), method=M.ALL)
    from tests.factories import CountyFactory

    stranger = UserFactory(username="hz", role=Role.REVIEWER, county=CountyFactory(name="化州市", code="440982"))
    with pytest.raises(PlanRefused, match="本县"):
        plan_scope(user=stranger, batch=batch)


@pytest.fixture
def plan(batch, towns, reviewer):
    lines(batch, towns, (3, 1, 0))
    return plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method=M.ALL)


def test_a_call_finding_the_money_missing_opens_a_ticket_linked_to_the_line(plan, clerk):
    call = plan.calls.filter(township=clerk.township).first()
    call, ticket = call_record(call=call, user=clerk, result=Result(receipt=Receipt.MISSING, note="本人说没收到"))
    assert ticket is not None and ticket.call == call and ticket.line == call.line and ticket.case == call.line.case
    assert ticket.category == Ticket.Category.NOT_RECEIVED and ticket.channel == Ticket.Channel.FOLLOWUP
    assert ticket.kind == Ticket.Kind.COMPLAINT and ticket.owner == Ticket.Owner.TOWNSHIP
    assert ticket.township == clerk.township and ticket.person == call.person and ticket.opened_by == clerk
    assert "未到账" in ticket.content and "本人说没收到" in ticket.content
    assert call.attempts == 1 and call.called_by == clerk
    # Recorded again (a correction): no second ticket.
    call, again = call_record(call=call, user=clerk, result=Result(receipt=Receipt.MISMATCH))
    assert again is None and Ticket.objects.count() == 1
    assert {e.action for e in AuditEvent.objects.filter(object_id__in=[str(call.pk), str(ticket.pk)])} >= {
        "followup.call_record",
        "ticket.open",
    }


def test_a_mismatch_opens_an_amount_ticket_and_a_received_call_none(plan, clerk):
    first, second = plan.calls.filter(township=clerk.township)[:2]
    _, ticket = call_record(call=first, user=clerk, result=Result(receipt=Receipt.MISMATCH))
    assert ticket.category == Ticket.Category.AMOUNT
    _, none = call_record(
        call=second, user=clerk, result=Result(receipt=Receipt.RECEIVED, satisfaction="fair", aware=True)
    )
    assert none is None


def test_not_reached_counts_attempts_and_asks_nothing(plan, clerk):
    call = plan.calls.filter(township=clerk.township).first()
    call, _ = call_record(call=call, user=clerk, result=Result(receipt=Receipt.UNREACHABLE))
    call, _ = call_record(call=call, user=clerk, result=Result(receipt=Receipt.UNREACHABLE))
    assert call.attempts == 2
    with pytest.raises(CallRefused, match="联系不上时不应填写"):
        call_record(call=call, user=clerk, result=Result(receipt=Receipt.UNREACHABLE, satisfaction="satisfied"))
    call, _ = call_record(
        call=call, user=clerk, result=Result(receipt=Receipt.RECEIVED, satisfaction="satisfied", aware=False)
    )
    assert call.attempts == 3 and call.reached


def test_a_clerk_records_only_their_townships_calls(plan, outsider, clerk):
    theirs = plan.calls.exclude(township=outsider.township).first()
    with pytest.raises(CallRefused):
        call_record(call=theirs, user=outsider, result=Result(receipt=Receipt.RECEIVED))


def test_the_time_limit_counts_working_days_across_national_day(plan, clerk):
    """Opened on 2025-09-30: 10-01..10-08 are the National Day and Mid-Autumn holiday, Saturday 10-11 is worked."""
    call = plan.calls.filter(township=clerk.township).first()
    with time_machine.travel(datetime.datetime(2025, 9, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        _, ticket = call_record(call=call, user=clerk, result=Result(receipt=Receipt.MISSING))
    assert ticket.opened_on == datetime.date(2025, 9, 30)
    assert ticket.time_limit == rules.DEFAULT_TIME_LIMITS["not_received"] == 5
    assert ticket.due_on == datetime.date(2025, 10, 14)  # 10-09, 10-10, 10-11 (调休), 10-13, 10-14


def test_a_countys_own_time_limit_replaces_the_default(plan, clerk, township):
    policy = FollowupPolicy.objects.create(county=township.county)
    TicketTimeLimit.objects.create(policy=policy, category="not_received", working_days=2)
    assert rules.time_limits(county_id=township.county_id)["not_received"] == 2
    assert rules.time_limits(county_id=township.county_id)["policy"] == 3
    _, ticket = call_record(
        call=plan.calls.filter(township=clerk.township).first(), user=clerk, result=Result(receipt="missing")
    )
    assert ticket.time_limit == 2 and ticket.due_on == datetime.date(2026, 11, 27)  # Wednesday 11-25 + 2


def test_an_overdue_ticket_escalates_to_the_county_once(plan, clerk, reviewer):
    _, ticket = call_record(
        call=plan.calls.filter(township=clerk.township).first(), user=clerk, result=Result(receipt="missing")
    )
    assert tickets_escalate(today=ticket.due_on) == 0  # due today: not yet overdue
    assert tickets_escalate(today=ticket.due_on + datetime.timedelta(days=1)) == 1
    ticket.refresh_from_db()
    assert ticket.owner == Ticket.Owner.COUNTY and ticket.escalated_at is not None
    assert AuditEvent.objects.filter(action="ticket.escalate", object_id=str(ticket.pk)).count() == 1
    assert tickets_escalate(today=ticket.due_on + datetime.timedelta(days=2)) == 0
    # The window still sees it, but the county answers it now.
    assert Ticket.objects.visible_to(clerk).overdue(ticket.due_on + datetime.timedelta(days=1)).count() == 1
    with pytest.raises(TicketRefused, match="县局"):
        ticket_reply(ticket=ticket, user=clerk, reply="已核实")
    with time_machine.travel(datetime.datetime(2026, 12, 10, 2, 0, tzinfo=datetime.UTC), tick=False):
        ticket = ticket_reply(ticket=ticket, user=reviewer, reply="已与银行核实，重新发放")
    assert ticket.status == Ticket.Status.REPLIED and ticket.answered_on_time is False
    ticket = ticket_close(ticket=ticket, user=reviewer, note="已到账")
    assert ticket.status == Ticket.Status.CLOSED
    with pytest.raises(TicketRefused):
        ticket_close(ticket=ticket, user=reviewer)


def test_the_escalation_runs_on_the_schedule():
    from config.schedules import SCHEDULES

    assert any(s.task == "followups.escalate_overdue" for s in SCHEDULES)
    from config.celery import app

    app.loader.import_default_modules()
    assert "followups.escalate_overdue" in app.tasks


def test_a_window_opens_a_ticket_for_its_own_people(plan, clerk, outsider):
    person = plan.calls.filter(township=clerk.township).first().person
    ticket = ticket_open(
        user=clerk, person=person, kind="enquiry", channel="12345", category="policy", content="询问二次救助标准"
    )
    assert ticket.due_on == datetime.date(2026, 11, 30)  # Wednesday + 3 working days, over the weekend
    assert ticket.time_limit == 3 and ticket.owner == Ticket.Owner.TOWNSHIP
    with pytest.raises(TicketRefused, match="本辖区"):
        ticket_open(user=outsider, person=person, kind="enquiry", channel="phone", category="policy", content="x")
    with pytest.raises(TicketRefused, match="本乡镇承办"):
        ticket_open(
            user=clerk, person=person, kind="complaint", channel="window", category="other", content="x", owner="county"
        )
    with pytest.raises(TicketRefused, match="自动生成"):
        ticket_open(user=clerk, person=person, kind="complaint", channel="followup", category="other", content="x")
