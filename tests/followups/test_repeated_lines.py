"""A paid line drawn into two plans (its batch's, then its month's): the second plan's call list names the first
call and its result, so the window does not call the person twice unaware; a cancelled plan does not count."""

from django.urls import reverse

from followups.calls import Result, call_record
from followups.models import Receipt
from followups.plans import plan_cancel, plan_create, plan_scope
from followups.selectors import in_other_plans
from tests.conftest import client_for

from .conftest import paid_line


def test_the_second_plan_names_the_first_call(client, batch, township, reviewer, clerk):
    paid_line(batch, township), paid_line(batch, township)
    first = plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all")
    call = first.calls.order_by("number").first()
    call_record(call=call, user=clerk, result=Result(receipt=Receipt.RECEIVED, satisfaction="satisfied", aware=True))
    second = plan_create(user=reviewer, scope=plan_scope(user=reviewer, month="2026-11"), method="all")
    found = in_other_plans(second, second.calls.values_list("line_id", flat=True))
    assert len(found) == 2 and {c.plan for calls in found.values() for c in calls} == {first}
    page = client_for(client, clerk).get(reverse("followups:call_list", args=[second.pk, township.pk])).text
    assert f"已在 {first.number} 回访：已到账" in page and f"已在 {first.number} 待回访" in page
    third = plan_create(user=reviewer, scope=plan_scope(user=reviewer, month="2026-11"), method="all")
    plan_cancel(plan=third, user=reviewer, reason="重复制订")
    assert {c.plan for calls in in_other_plans(second, [call.line_id]).values() for c in calls} == {first}


def test_making_a_plan_on_the_web_warns_of_lines_already_drawn(client, batch, township, reviewer):
    paid_line(batch, township)
    plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all")
    client_for(client, reviewer)
    response = client.post(reverse("followups:plan_new"), {"basis": "month", "month": "2026-11", "method": "all"})
    page = client.get(response.url).text
    assert "其中 1 笔此前已列入回访计划" in page
