"""The approval queue: 30 a page, filtered and sorted in the URL; bulk approval confirmed first (count, total,
breakdown, each case's preview) and acting only on the cases ticked on the page shown."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.cases.list_views import QUEUE_PAGE
from applications.models import Case, LedgerEntry
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from tests.conftest import client_for
from tests.factories import CaseFactory, IdentityFactory, PersonFactory, bill_on, case_in_approval

from .queue import approve_through_queue, confirm, queue_url, shown_token, tick

D = Decimal
S = Case.Status
# Monday 2025-09-29, 10:00 in Gaozhou: National Day (10-01 … 10-08) is two days ahead.
NOW = datetime.datetime(2025, 9, 29, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 9, 29)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def county(township, other_township):
    policy_load_preset(name="maoming-2018", county=township.county)
    return township, other_township


def reviewed(township, clerk, reviewer, invoice: str, *, due=None, month=6):
    """A window case at approval whose grant is 9,600.00 (a DB person's 12,000 stay at 80%)."""
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    bill = bill_on(
        datetime.date(2025, month, 10),
        invoice=invoice,
        total=D("42000"),
        in_policy=D("38000"),
        basic=D("20000"),
        critical=D("6000"),
    )
    case = case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill])
    if due is not None:
        Case.objects.filter(pk=case.pk).update(due_on=due)
        case.due_on = due
    return case


def waiting(n: int, township, **fields) -> list[Case]:
    """Cases written straight into 待审批 (no bills): enough to fill pages."""
    values = {"status": S.APPROVAL, "proposed_amount": D("100.00"), "due_on": datetime.date(2025, 11, 1)}
    values.update(fields)
    return [CaseFactory(person=PersonFactory(township=township), **values) for _ in range(n)]


def numbers(html: str) -> list[str]:
    """The case numbers in the queue table, in order."""
    table = html.split('data-testid="queue"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/cases/\d+/">([^<]+)</a>', table)


def test_the_queue_shows_30_a_page_and_carries_the_filters_in_the_page_links(client, approver, township):
    cases = waiting(QUEUE_PAGE + 5, township, source=Case.Source.SECONDARY, year=2025)
    client_for(client, approver)
    first = client.get(queue_url("source=secondary"))
    assert len(numbers(first.text)) == QUEUE_PAGE
    assert "?source=secondary&amp;page=2" in first.text and "第 1 / 2 页，共 35 条" in first.text
    second = client.get(queue_url("source=secondary&page=2"))
    assert len(numbers(second.text)) == 5
    assert set(numbers(first.text)) | set(numbers(second.text)) == {c.number for c in cases}
    assert "共 <strong>35</strong> 件，拟救助合计 <strong>3,500.00 元</strong>" in first.text


def test_the_queue_filters_by_township_source_amount_and_due(client, approver, township, other_township):
    overdue = waiting(1, township, due_on=datetime.date(2025, 9, 26), proposed_amount=D("50.00"))[0]
    # Due on 10-10: 11 calendar days away, but only 3 working days (National Day lies between).
    soon = waiting(1, township, due_on=datetime.date(2025, 10, 10), proposed_amount=D("5000.00"))[0]
    later = waiting(1, other_township, due_on=datetime.date(2025, 10, 14), proposed_amount=D("800.00"))[0]
    secondary = waiting(1, other_township, source=Case.Source.SECONDARY, year=2025, proposed_amount=D("900.00"))[0]
    client_for(client, approver)

    def listed(query):
        return set(numbers(client.get(queue_url(query)).text))

    assert listed("") == {overdue.number, soon.number, later.number, secondary.number}
    assert listed(f"township={other_township.pk}") == {later.number, secondary.number}
    assert listed("source=secondary") == {secondary.number}
    assert listed("amount_from=500&amount_to=1000") == {later.number, secondary.number}
    assert listed("amount_from=1000") == {soon.number}
    assert listed("due=overdue") == {overdue.number}
    assert listed("due=soon") == {soon.number}
    assert listed("due=near") == {overdue.number, soon.number}
    assert listed(f"township={township.pk}&due=soon&amount_from=1000") == {soon.number}
    refused = client.get(queue_url("amount_from=900&amount_to=100"))
    assert "金额止不能小于金额起" in refused.text


def test_the_queue_sorts_by_due_date_amount_township_and_acceptance_both_ways(
    client, approver, township, other_township
):
    a = waiting(1, other_township, due_on=datetime.date(2025, 10, 20), proposed_amount=D("300"))[0]
    b = waiting(1, township, due_on=datetime.date(2025, 10, 10), proposed_amount=D("100"))[0]
    c = waiting(1, township, due_on=datetime.date(2025, 10, 15), proposed_amount=D("200"))[0]
    Case.objects.filter(pk=a.pk).update(accepted_on=datetime.date(2025, 9, 1))
    Case.objects.filter(pk=b.pk).update(accepted_on=datetime.date(2025, 9, 20))
    Case.objects.filter(pk=c.pk).update(accepted_on=datetime.date(2025, 9, 10))
    client_for(client, approver)

    def order(query):
        return numbers(client.get(queue_url(query)).text)

    assert order("") == [b.number, c.number, a.number]  # 办结期限, earliest first
    assert order("sort=due&order=desc") == [a.number, c.number, b.number]
    assert order("sort=amount&order=desc") == [a.number, c.number, b.number]
    assert order("sort=amount") == [b.number, c.number, a.number]
    assert order("sort=accepted") == [a.number, c.number, b.number]
    assert order("sort=accepted&order=desc") == [b.number, c.number, a.number]
    by_township = order("sort=township")
    assert by_township[-1] == a.number or by_township[0] == a.number  # the collation decides; ties keep their id
    assert order("sort=township&order=desc") == list(reversed(by_township))
    page = client.get(queue_url("sort=amount&order=asc")).text
    assert "sort=amount&amp;order=desc" in page  # the column's link sorts the other way


def test_the_confirmation_shows_count_total_breakdown_and_previews_and_changes_nothing(
    client, county, clerk, outsider, reviewer, approver
):
    township, other = county
    a = reviewed(township, clerk, reviewer, "A1")
    b = reviewed(other, outsider, reviewer, "B1")
    client_for(client, approver)
    page = tick(client, [a.pk, b.pk])
    html = page.text
    assert page.status_code == 200 and "确认批准 2 件案件" in html
    assert 'data-testid="confirm-total">19,200.00 元' in html
    assert 'data-testid="confirm-granted">19,200.00 元' in html
    by_source = html.split('data-testid="by-source"', 1)[1].split("</table>", 1)[0]
    assert "窗口申请" in by_source and ">2<" in by_source and "19,200.00 元" in by_source
    by_township = html.split('data-testid="by-township"', 1)[1].split("</table>", 1)[0]
    assert township.name in by_township and other.name in by_township and by_township.count("9,600.00 元") == 2
    assert a.number in html and b.number in html
    assert Case.objects.filter(status=S.APPROVAL).count() == 2
    assert not AuditEvent.objects.filter(action="case.approve").exists()
    assert not LedgerEntry.objects.exists()


def test_confirming_approves_the_confirmed_cases_and_says_which_and_why_not(client, county, clerk, reviewer, approver):
    township, _ = county
    good = reviewed(township, clerk, reviewer, "G1")
    a = reviewed(township, clerk, reviewer, "SAME", month=3)
    dup = reviewed(township, clerk, reviewer, "SAME", month=4)  # the same invoice claimed twice
    client_for(client, approver)
    page = tick(client, [good.pk, a.pk, dup.pk])
    assert "不能批准：存在重复申请" in page.text and "预计不能批准 2 件" in page.text
    result = confirm(client, page).text
    assert Case.objects.get(pk=good.pk).status == S.APPROVED
    assert Case.objects.filter(pk__in=[a.pk, dup.pk], status=S.APPROVAL).count() == 2
    assert f"已批准 1 件，批准金额合计 9,600.00 元：{good.number}" in result
    assert f"未批准 {a.number}：" in result and f"未批准 {dup.number}：" in result and "发票 SAME" in result
    assert AuditEvent.objects.filter(action="case.approve").count() == 1


def test_a_case_on_another_page_is_never_approved(client, county, clerk, reviewer, approver):
    township, _ = county
    on_first = reviewed(township, clerk, reviewer, "P1", due=datetime.date(2025, 10, 20))
    waiting(QUEUE_PAGE - 1, township, due_on=datetime.date(2025, 10, 21))
    on_second = reviewed(township, clerk, reviewer, "P2", due=datetime.date(2025, 12, 1))
    client_for(client, approver)
    assert on_second.number in numbers(client.get(queue_url("page=2")).text)
    # The second page's case ticked with the first page's list of cases shown: left out of the confirmation.
    page = tick(client, [on_first.pk, on_second.pk], query="page=1")
    assert "确认批准 1 件案件" in page.text and on_second.number not in page.text
    confirm(client, page, query="page=1")
    assert Case.objects.get(pk=on_first.pk).status == S.APPROVED
    assert Case.objects.get(pk=on_second.pk).status == S.APPROVAL


def test_nothing_is_approved_without_the_page_shown_or_with_a_confirmation_made_up(
    client, county, clerk, reviewer, approver, second_approver
):
    township, _ = county
    case = reviewed(township, clerk, reviewer, "X1")
    client_for(client, approver)
    # A post without the signed list of the page (the old one-step form, or a crafted request) approves nothing.
    response = client.post(queue_url(), {"case": [case.pk], "accept_zero": "1"}, follow=True)
    assert "页面已过期" in response.text
    forged = client.post(queue_url(), {"step": "confirm", "confirmed": "1:abc"}, follow=True)
    assert "确认页已过期，未批准任何案件" in forged.text
    # Another approver's confirmation does not work for this one.
    client_for(client, second_approver)
    theirs = tick(client, [case.pk])
    client_for(client, approver)
    assert "确认页已过期" in confirm(client, theirs).text
    assert Case.objects.get(pk=case.pk).status == S.APPROVAL
    # Ticking nothing says so.
    nothing = client.post(queue_url(), {"step": "preview", "shown": shown_token(client)}, follow=True)
    assert "没有选择案件" in nothing.text


def test_a_case_decided_between_confirmation_and_confirm_is_reported_not_approved_twice(
    client, county, clerk, reviewer, approver, second_approver
):
    township, _ = county
    case = reviewed(township, clerk, reviewer, "R1")
    client_for(client, approver)
    page = tick(client, [case.pk])
    client_for(client, second_approver)
    approve_through_queue(client, [case.pk])
    client_for(client, approver)
    result = confirm(client, page).text
    assert f"未批准 {case.number}：案件当前状态为“已批准”" in result
    assert AuditEvent.objects.filter(action="case.approve").count() == 1


def test_the_zero_grant_checkbox_is_carried_to_the_confirmation(client, county, clerk, reviewer, approver):
    township, _ = county
    case = reviewed(township, clerk, reviewer, "Z1")
    LedgerEntry.objects.create(person=case.person, year=2025, pool="住院", granted=D("60000"))
    client_for(client, approver)
    refused = tick(client, [case.pk])
    assert "不能批准：按当前台账重新计算，本次批准金额为 0.00 元" in refused.text
    assert 'data-testid="zero-hint"' in refused.text
    assert Case.objects.get(pk=case.pk).status == S.APPROVAL
    accepted = tick(client, [case.pk], accept_zero=True)
    assert "0 元批准：已勾选" in accepted.text and 'data-testid="confirm-granted">0.00 元' in accepted.text
    confirm(client, accepted)
    approved = Case.objects.get(pk=case.pk)
    assert approved.status == S.APPROVED and approved.approved_amount == D("0.00")


def test_only_approvers_reach_the_queue(client, clerk, reviewer, finance):
    for user in (clerk, reviewer, finance):
        client_for(client, user)
        assert client.get(reverse("applications:approval_queue")).status_code == 403
        assert client.post(reverse("applications:approval_queue"), {"step": "confirm"}).status_code == 403


def test_the_confirmation_escapes_names_and_carries_no_inline_script(client, county, clerk, reviewer, approver):
    from recipients.models import Township
    from tests.test_hostile_text import HANDLER, HOSTILE, SCRIPT_TAG

    township, _ = county
    case = reviewed(township, clerk, reviewer, "H1")
    Township.objects.filter(pk=township.pk).update(name=f"石鼓{HOSTILE}")
    client_for(client, approver)
    for response in (client.get(queue_url()), tick(client, [case.pk])):
        html = response.text
        assert HOSTILE not in html and not SCRIPT_TAG.search(html) and not HANDLER.search(html)


def test_the_queue_page_query_count_does_not_grow_with_cases(
    client, approver, township, other_township, django_assert_max_num_queries
):
    waiting(3, township)
    client_for(client, approver)
    client.get(queue_url())  # warm the session and permission caches
    with django_assert_max_num_queries(15) as few:
        client.get(queue_url())
    waiting(QUEUE_PAGE, other_township, source=Case.Source.SECONDARY, year=2025)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(queue_url())
