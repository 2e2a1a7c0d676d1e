"""The demo county's 回访 and complaints: a follow-up plan of the batch the bank has paid, the 石鼓镇 window's first
calls on it (one satisfied, one not reached twice, one finding the money missing, which opens its ticket), and an
enquiry from 12345 already answered. Everything goes through the services the portal uses."""

from accounts.models import User
from followups.calls import Result, call_record
from followups.models import FollowupPlan, Receipt
from followups.plans import plan_create, plan_scope
from followups.tickets import ticket_open, ticket_reply
from payouts.models import PayoutBatch, PayoutLine
from recipients.models import Person

SEED = 20261125


def seed_followups(command, *, batch: PayoutBatch) -> None:
    reviewer, clerk = User.objects.get(username="reviewer"), User.objects.get(username="clerk")
    if not batch.lines.filter(status=PayoutLine.Status.PAID).exists():
        return
    plan = plan_create(
        user=reviewer,
        scope=plan_scope(user=reviewer, batch=batch),
        method=FollowupPlan.Method.ALL,
        seed=SEED,
        note="演示：已回盘批次全部回访",
    )
    calls = list(plan.calls.filter(township=clerk.township).order_by("number"))
    answers = [
        Result(receipt=Receipt.RECEIVED, satisfaction="satisfied", aware=True, note="已收到，感谢政府"),
        Result(receipt=Receipt.UNREACHABLE, note="无人接听"),
        Result(receipt=Receipt.MISSING, satisfaction="fair", aware=True, note="本人称存折上没看到这笔钱"),
        Result(receipt=Receipt.RECEIVED, satisfaction="fair", aware=False),
    ]
    tickets = []
    for call, result in zip(calls, answers, strict=False):
        call, ticket = call_record(call=call, user=clerk, result=result)
        if result.receipt == Receipt.UNREACHABLE:
            call_record(call=call, user=clerk, result=result)  # a second try, still nobody
        if ticket is not None:
            tickets.append(ticket)
    person = Person.objects.filter(township=clerk.township).exclude(pk__in=[c.person_id for c in calls]).first()
    if person is not None:
        enquiry = ticket_open(
            user=clerk,
            person=person,
            kind="enquiry",
            channel="12345",
            category="policy",
            content="12345 转来：询问低保对象住院费用的救助比例和申请材料",
        )
        ticket_reply(
            ticket=enquiry,
            user=clerk,
            reply="已电话告知：低保对象政策范围内自付部分按 80% 救助，带发票、费用清单到镇窗口申请",
        )
        tickets.append(enquiry)
    command.stdout.write(
        f"  回访计划: {plan.number}（{plan.call_count} 户，已回访 {min(len(calls), len(answers))} 户），投诉工单 {len(tickets)} 张"
    )
