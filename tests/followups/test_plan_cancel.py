"""A plan drawn by mistake is cancelled, with a reason, while none of its calls is recorded: its calls leave the
windows' work and nothing more can be recorded on them, by hand or by a filled list."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from followups.calls import CallRefused, Result, call_record, calls_record_many
from followups.callsheet import call_sheet, calls_of
from followups.models import FollowupPlan, Receipt
from followups.plans import PlanRefused, plan_cancel, plan_create, plan_scope
from followups.selectors import work_queues
from imports.services import import_apply, import_confirm, import_create, import_validate
from tests.conftest import client_for

from .conftest import NOW, paid_line
from .test_call_import import filled


@pytest.fixture
def plan(batch, towns, reviewer):
    for town, n in zip(towns, (3, 1, 0), strict=True):
        for _ in range(n):
            paid_line(batch, town)
    return plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all")


def _waiting(user) -> int:
    return next(q["count"] for q in work_queues(user, NOW.date()) if q["label"].startswith("待回访"))


def test_a_cancelled_plan_leaves_the_work_and_takes_no_more_results(plan, reviewer, clerk, township):
    assert _waiting(clerk) == 3
    cancelled = plan_cancel(plan=plan, user=reviewer, reason="  抽取范围选错，\n重新制订 ")
    assert cancelled.status == "cancelled" and cancelled.cancelled_by == reviewer
    assert cancelled.cancel_reason == "抽取范围选错， 重新制订" and cancelled.cancelled_at is not None
    event = AuditEvent.objects.get(action="followup.plan_cancel")
    assert event.object_id == str(plan.pk) and event.after["status"] == "cancelled" and event.comment
    assert _waiting(clerk) == 0
    call = plan.calls.filter(township=township).first()
    with pytest.raises(CallRefused):  # not theirs to record any more (the page shows it read-only)
        call_record(call=call, user=clerk, result=Result(receipt=Receipt.RECEIVED, satisfaction="satisfied"))
    assert not plan.calls.done().exists()
    with pytest.raises(PlanRefused, match="已作废"):
        plan_cancel(plan=plan, user=reviewer, reason="再次")


def test_a_plan_with_a_recorded_call_cannot_be_cancelled(plan, reviewer, clerk, township):
    call = plan.calls.filter(township=township).first()
    call_record(call=call, user=clerk, result=Result(receipt=Receipt.UNREACHABLE))
    with pytest.raises(PlanRefused, match="已有 1 笔回访记录了结果，不能作废"):
        plan_cancel(plan=plan, user=reviewer, reason="选错了")
    assert FollowupPlan.objects.get(pk=plan.pk).status == "active"
    assert not AuditEvent.objects.filter(action="followup.plan_cancel").exists()


@pytest.mark.parametrize(
    ("reason", "message"), [("", "请填写作废原因"), ("   ", "请填写作废原因"), ("长" * 201, "200")]
)
def test_a_reason_is_required_and_bounded(plan, reviewer, reason, message):
    with pytest.raises(PlanRefused, match=message):
        plan_cancel(plan=plan, user=reviewer, reason=reason)
    assert FollowupPlan.objects.get(pk=plan.pk).status == "active"


def test_a_window_cannot_cancel(plan, clerk):
    with pytest.raises(PlanRefused, match="权限"):
        plan_cancel(plan=plan, user=clerk, reason="不想打")


def test_a_list_checked_before_the_plan_was_cancelled_is_refused_when_confirmed(plan, reviewer, clerk, township):
    calls = calls_of(plan, township)
    sheet = load_workbook(io.BytesIO(call_sheet(plan, calls, masked=False))).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    content = filled(rows, {1: ["已到账", "满意", "是", ""]})
    record = import_create(kind="followup", user=clerk, file_name="回访清单.xlsx", content=content, enqueue=False)
    record = import_validate(kind="followup", pk=record.pk)
    assert record.status == "valid", record.errors
    import_confirm(record=record, user=clerk, enqueue=False)
    plan_cancel(plan=plan, user=reviewer, reason="选错批次")
    record = import_apply(kind="followup", pk=record.pk)
    assert record.status == "invalid"
    assert {e["reason"] for e in record.errors} == {f"回访计划 {plan.number} 已作废，不能再记录回访结果"}
    assert len(record.errors) == 3  # every row of the township's list
    assert not plan.calls.done().exists()
    # Cancelled between the write's check and its recording: the recording, holding the plan, refuses it.
    with pytest.raises(CallRefused, match="已作废"):
        calls_record_many(results={call.pk: Result(receipt=Receipt.RECEIVED) for call in calls}, user=clerk)
    # A list of the cancelled plan uploaded afresh: every row says so.
    again = import_create(kind="followup", user=clerk, file_name="again.xlsx", content=content, enqueue=False)
    again = import_validate(kind="followup", pk=again.pk)
    assert again.status == "invalid" and "已作废" in again.errors[0]["reason"]


def test_the_page_cancels_after_asking_and_shows_it(client, plan, reviewer, clerk, township):
    page = client_for(client, reviewer).get(reverse("followups:plan_detail", args=[plan.pk])).text
    assert 'data-testid="cancel-plan"' in page and "data-confirm" in page
    response = client.post(reverse("followups:plan_cancel", args=[plan.pk]), {"reason": ""}, follow=True)
    assert "请填写作废原因" in response.text and FollowupPlan.objects.get(pk=plan.pk).status == "active"
    response = client.post(reverse("followups:plan_cancel", args=[plan.pk]), {"reason": "选错批次"}, follow=True)
    assert f"回访计划 {plan.number} 已作废" in response.text and 'data-testid="plan-cancelled"' in response.text
    assert "选错批次" in response.text and 'data-testid="cancel-plan"' not in response.text
    assert "已作废" in client.get(reverse("followups:plan_list")).text
    # The window sees the list read-only.
    client_for(client, clerk)
    calls = client.get(reverse("followups:call_list", args=[plan.pk, township.pk])).text
    assert "查看" in calls and ">记录<" not in calls
    call = plan.calls.filter(township=township).first()
    detail = client.get(reverse("followups:call_detail", args=[call.pk])).text
    assert "已作废，不再记录回访结果" in detail
    assert client.post(reverse("followups:plan_cancel", args=[plan.pk]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("followups:plan_cancel", args=[plan.pk])).status_code in (403, 405)


def test_the_operator_cancels_from_the_command_line(plan, capsys):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="请填写作废原因"):
        call_command("followup_plan", "--cancel", plan.number)
    with pytest.raises(CommandError, match="没有编号为 HF0 的回访计划"):
        call_command("followup_plan", "--cancel", "HF0", "--reason", "x")
    call_command("followup_plan", "--cancel", plan.number.lower(), "--reason", "重复制订")
    assert capsys.readouterr().out.startswith(f"回访计划 {plan.number} 已作废（重复制订），4 笔回访")
    assert FollowupPlan.objects.get(pk=plan.pk).cancelled_by is None
