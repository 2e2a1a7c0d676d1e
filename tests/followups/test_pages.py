"""The pages of plans, call lists, calls and tickets: who reaches them, phones masked and each full view audited,
a clerk kept in their township, another county's plan a 404."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from audit.models import AuditEvent
from followups.models import FollowupCall, FollowupPlan, Ticket
from followups.plans import plan_create, plan_scope
from tests.conftest import client_for
from tests.factories import CountyFactory, TownshipFactory, UserFactory

from .conftest import make_batch, paid_line

PHONE = "13912345678"


@pytest.fixture
def plan(batch, towns, reviewer):
    for town, n in zip(towns, (3, 2, 1), strict=True):
        for _ in range(n):
            paid_line(batch, town, phone=PHONE)
    return plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all", seed=11)


def test_county_staff_make_a_plan_on_the_web(client, batch, towns, reviewer):
    paid_line(batch, towns[0])
    client_for(client, reviewer)
    page = client.get(reverse("followups:plan_new"))
    assert page.status_code == 200 and batch.number in page.text and "data-confirm" in page.text
    response = client.post(
        reverse("followups:plan_new"),
        {"basis": "batch", "batch": batch.pk, "method": "count", "size": 5, "per_township": 1},
        follow=True,
    )
    plan = FollowupPlan.objects.get()
    assert response.redirect_chain[-1][0] == reverse("followups:plan_detail", args=[plan.pk])
    assert f"已生成回访计划 {plan.number}" in response.text and str(plan.seed) in response.text
    empty = client.post(reverse("followups:plan_new"), {"basis": "month", "month": "2026-03", "method": "all"})
    assert "高州市2026年3月没有发放成功的支付明细，无法制订回访计划" in empty.text
    assert FollowupPlan.objects.count() == 1


@pytest.mark.parametrize("role", [Role.CLERK, Role.APPROVER, Role.FINANCE, Role.SUPERVISOR])
def test_only_the_reviewer_makes_plans(client, role, township):
    user = UserFactory(username=f"u-{role}", role=role, township=township if role == Role.CLERK else None)
    client_for(client, user)
    assert client.get(reverse("followups:plan_new")).status_code == 403


def test_a_clerk_sees_their_townships_calls_only(client, plan, clerk, towns):
    client_for(client, clerk)
    detail = client.get(reverse("followups:plan_detail", args=[plan.pk]))
    assert detail.status_code == 200
    assert "石鼓镇" in detail.text and "东岸镇" not in detail.text
    assert client.get(reverse("followups:call_list", args=[plan.pk, towns[1].pk])).status_code == 404
    other_call = plan.calls.filter(township=towns[1]).first()
    assert client.get(reverse("followups:call_detail", args=[other_call.pk])).status_code == 404
    sheet = client.get(reverse("followups:call_sheet", args=[plan.pk]), {"township": towns[1].pk})
    rows = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in rows} == {"石鼓镇"} and len(rows) == 3  # the clerk's own list, whatever was asked


def test_phones_are_masked_and_each_full_view_audited(client, plan, clerk, township):
    client_for(client, clerk)
    url = reverse("followups:call_list", args=[plan.pk, township.pk])
    page = client.get(url)
    assert "139****5678" in page.text and PHONE not in page.text
    revealed = client.post(url, {"do": "reveal"})
    assert PHONE in revealed.text
    event = AuditEvent.objects.get(action="followup.pii_view")
    assert event.actor == clerk and "石鼓镇" in event.comment and "3 人" in event.comment
    call = plan.calls.filter(township=township).first()
    one = client.post(reverse("followups:call_detail", args=[call.pk]), {"do": "reveal"})
    assert PHONE in one.text and AuditEvent.objects.filter(action="followup.pii_view").count() == 2


def test_a_role_without_the_permission_never_sees_a_phone(client, plan, township):
    approver = UserFactory(username="appr", role=Role.APPROVER)
    client_for(client, approver)
    page = client.get(reverse("followups:call_list", args=[plan.pk, township.pk]))
    assert page.status_code == 200 and PHONE not in page.text and "显示本页完整联系电话" not in page.text
    client.post(reverse("followups:call_list", args=[plan.pk, township.pk]), {"do": "reveal"})
    assert not AuditEvent.objects.filter(action="followup.pii_view").exists()
    sheet = client.get(reverse("followups:call_sheet", args=[plan.pk]))
    phones = {
        row[3] for row in load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(min_row=2, values_only=True)
    }
    assert phones == {"139****5678"}
    event = AuditEvent.objects.get(action="followup.export")
    assert event.after["masked"] is True and event.after["calls"] == 6


def test_the_downloaded_list_is_in_full_for_the_window_and_audited(client, plan, clerk):
    client_for(client, clerk)
    sheet = client.get(reverse("followups:call_sheet", args=[plan.pk]))
    assert sheet["Content-Disposition"].startswith("attachment; filename=huifang-")
    phones = {
        row[3] for row in load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(min_row=2, values_only=True)
    }
    assert phones == {PHONE}
    event = AuditEvent.objects.get(action="followup.export")
    assert event.after == {"township": "石鼓镇", "calls": 3, "masked": False} and event.comment == "含完整联系电话"


def test_recording_a_call_on_the_web_opens_the_ticket(client, plan, clerk, township):
    client_for(client, clerk)
    call = plan.calls.filter(township=township).first()
    response = client.post(
        reverse("followups:call_detail", args=[call.pk]),
        {"do": "record", "receipt": "missing", "note": "没收到"},
        follow=True,
    )
    ticket = Ticket.objects.get(call=call)
    assert f"已自动生成投诉工单 {ticket.number}" in response.text
    assert client.get(reverse("followups:ticket_detail", args=[ticket.pk])).status_code == 200
    wrong = client.post(
        reverse("followups:call_detail", args=[call.pk]),
        {"do": "record", "receipt": "unreachable", "satisfaction": "satisfied"},
    )
    assert "联系不上时不应填写满意度和是否知晓政策" in wrong.text
    person = client.get(reverse("recipients:person_detail", args=[call.person.pk]))
    assert ticket.number in person.text and call.number in person.text  # the person page's panel


def test_the_ticket_pages_answer_and_close(client, plan, clerk, township):
    client_for(client, clerk)
    person = plan.calls.filter(township=township).first().person
    page = client.get(reverse("followups:ticket_new"), {"person": person.pk})
    assert page.status_code == 200 and person.name in page.text
    response = client.post(
        reverse("followups:ticket_new"),
        {"person": person.pk, "kind": "enquiry", "channel": "12345", "category": "policy", "content": "询问报销比例"},
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert "答复期限 2026-11-30（3 个工作日）" in response.text
    by_id = client.post(
        reverse("followups:ticket_new"),
        {
            "id_number": person.id_number,
            "kind": "complaint",
            "channel": "window",
            "category": "attitude",
            "content": "态度差",
        },
    )
    assert by_id.status_code == 302 and Ticket.objects.count() == 2
    client.post(reverse("followups:ticket_reply", args=[ticket.pk]), {"reply": "已电话解答"})
    client.post(reverse("followups:ticket_close", args=[ticket.pk]), {"note": "群众满意"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and ticket.answered_on_time
    listing = client.get(reverse("followups:ticket_list"), {"queue": "closed"})
    assert ticket.number in listing.text
    assert {"ticket.open", "ticket.reply", "ticket.close"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_lists_and_pages_open_for_every_role_that_reads_them(client, plan, township):
    for role in [Role.CLERK, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.SUPERVISOR]:
        user = UserFactory(username=f"r-{role}", role=role, township=township if role == Role.CLERK else None)
        client_for(client, user)
        for name, args in [
            ("followups:plan_list", []),
            ("followups:plan_detail", [plan.pk]),
            ("followups:call_list", [plan.pk, township.pk]),
            ("followups:ticket_list", []),
        ]:
            assert client.get(reverse(name, args=args)).status_code == 200, (role, name)
        home = client.get(reverse("home")).text
        if user.has_perm("followups.handle_ticket"):
            assert "投诉工单待答复" in home
        assert ("回访计划" in home) == user.has_perm("followups.view_followupplan")
    admin = UserFactory(username="adm", role=Role.ADMIN)
    client_for(client, admin)
    assert client.get(reverse("followups:plan_list")).status_code == 403


def test_another_countys_plan_and_ticket_are_404(client, plan, township):
    county = CountyFactory(name="化州市", code="440982")
    town = TownshipFactory(county=county, name="河西街道")
    stranger = UserFactory(username="hz-rev", role=Role.REVIEWER, county=county)
    maker = UserFactory(username="hz-fin", role=Role.FINANCE, county=county)
    paid_line(make_batch(maker, county, "ZF20261120009"), town)
    client_for(client, stranger)
    assert client.get(reverse("followups:plan_detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("followups:call_list", args=[plan.pk, township.pk])).status_code == 404
    assert client.get(reverse("followups:call_sheet", args=[plan.pk])).status_code == 404
    call = FollowupCall.objects.filter(plan=plan).first()
    assert client.get(reverse("followups:call_detail", args=[call.pk])).status_code == 404
    assert plan.number not in client.get(reverse("followups:plan_list")).text
    from followups.calls import Result, call_record

    clerk = UserFactory(username="sg", role=Role.CLERK, township=township)
    _, ticket = call_record(
        call=plan.calls.filter(township=township).first(), user=clerk, result=Result(receipt="missing")
    )
    assert client.get(reverse("followups:ticket_detail", args=[ticket.pk])).status_code == 404
    assert ticket.number not in client.get(reverse("followups:ticket_list")).text


def test_the_administrator_keeps_the_countys_time_limits_and_targets(client, township):
    from followups.models import FollowupPolicy, TicketTimeLimit

    admin = UserFactory(username="cfg", role=Role.ADMIN)
    client_for(client, admin)
    form = client.get(reverse("admin:followups_followuppolicy_add"))
    assert form.status_code == 200 and 'value="5"' in form.text  # the defaults offered
    prefix = "time_limits"
    data = {
        "county": township.county_id,
        "satisfaction_target": "0.90",
        "awareness_target": "",
        "receipt_target": "",
        "on_time_target": "0.95",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-category": "not_received",
        f"{prefix}-0-working_days": "3",
    }
    response = client.post(reverse("admin:followups_followuppolicy_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = FollowupPolicy.objects.get()
    assert str(policy.satisfaction_target) == "0.9000"
    assert TicketTimeLimit.objects.get().working_days == 3
    assert AuditEvent.objects.filter(action="admin.add").count() == 2  # the parameters and the time limit
