"""Due within 5 working days by the statutory calendar, in one place: the home page's counts and each role's
reminder list, the case list's filter and the approval queue's."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.cases.selectors import case_reminders, due_filter, due_soon_until
from applications.models import Case
from tests.conftest import client_for
from tests.factories import CaseFactory, PersonFactory

S = Case.Status
# Monday 2025-09-29: 09-30 is a working day, 10-01 … 10-08 are National Day, 10-11 (Saturday) is worked.
NOW = datetime.datetime(2025, 9, 29, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 9, 29)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def case(township, status, due, **fields):
    return CaseFactory(person=PersonFactory(township=township), status=status, due_on=due, **fields)


def test_five_working_days_reach_across_national_day_where_five_calendar_days_do_not(db):
    assert due_soon_until(TODAY) == datetime.date(2025, 10, 13)  # 09-30, 10-09, 10-10, 10-11, 10-13
    assert TODAY + datetime.timedelta(days=5) == datetime.date(2025, 10, 4)
    assert due_soon_until(datetime.date(2025, 10, 9)) == datetime.date(2025, 10, 15)


def test_a_case_due_after_the_holiday_is_due_soon_everywhere(client, township, reviewer, approver):
    after_holiday = case(township, S.REVIEW, datetime.date(2025, 10, 10))  # 11 calendar days, 3 working days
    too_late = case(township, S.REVIEW, datetime.date(2025, 10, 14))
    waiting = case(township, S.APPROVAL, datetime.date(2025, 10, 13), proposed_amount=Decimal("10.00"))
    soon = due_filter(Case.objects.all(), due="soon", day=TODAY)
    assert set(soon) == {after_holiday, waiting}
    client_for(client, reviewer)
    listed = client.get(reverse("applications:case_list"), {"due": "soon"}).text
    assert after_holiday.number in listed and waiting.number in listed and too_late.number not in listed
    home = client.get("/").text
    assert "5 个工作日内到期" in home and "5 天内到期" not in home
    assert next(q for q in client.get("/").context["queues"] if q["label"] == "5 个工作日内到期")["count"] == 2
    client_for(client, approver)
    queue = client.get(reverse("applications:approval_queue"), {"due": "soon"}).text
    assert waiting.number in queue


def test_the_clerk_is_reminded_of_their_townships_window_work_and_materials_due(
    client, township, other_township, clerk
):
    accepted = case(township, S.ACCEPTED, datetime.date(2025, 10, 9))
    returned = case(township, S.RETURNED, datetime.date(2025, 9, 26))  # overdue
    # 容缺受理: the time limit is far, the missing materials are due tomorrow.
    pending = case(
        township,
        S.ACCEPTED_PENDING,
        datetime.date(2025, 11, 20),
        missing_materials=["费用清单"],
        materials_deadline=datetime.date(2025, 9, 30),
    )
    far = case(township, S.ACCEPTED, datetime.date(2025, 10, 20))
    at_review = case(township, S.REVIEW, datetime.date(2025, 10, 9))  # the reviewer's, not the clerk's
    elsewhere = case(other_township, S.ACCEPTED, datetime.date(2025, 10, 9))
    client_for(client, clerk)
    response = client.get("/")
    (window,) = response.context["reminders"]
    assert [c.number for c in window["cases"]] == [returned.number, pending.number, accepted.number]
    assert window["count"] == 3
    html = response.text
    assert 'data-testid="reminders"' in html and "窗口待办" in html
    assert "补齐材料期限 2025-09-30" in html and "还有 1 个工作日" in html
    assert "已超期 2 个工作日" in html  # due on Friday 09-26: Sunday 09-28 (worked) and today have passed
    for other in (far, at_review, elsewhere):
        assert other.number not in html
    full = client.get(window["url"]).text
    assert all(c.number in full for c in (accepted, returned, pending))
    assert all(c.number not in full for c in (far, at_review, elsewhere))


def test_the_reviewer_and_the_approver_are_reminded_of_their_own_stage(client, township, reviewer, approver):
    at_review = case(township, S.REVIEW, datetime.date(2025, 10, 13))
    at_approval = case(township, S.APPROVAL, datetime.date(2025, 9, 1), proposed_amount=Decimal("10.00"))
    at_window = case(township, S.ACCEPTED, datetime.date(2025, 10, 9))
    client_for(client, reviewer)
    (mine,) = client.get("/").context["reminders"]
    assert mine["title"] == "待审核" and [c.pk for c in mine["cases"]] == [at_review.pk]
    assert at_window.number not in client.get(mine["url"]).text
    client_for(client, approver)
    response = client.get("/")
    (mine,) = response.context["reminders"]
    assert mine["title"] == "待审批" and [c.pk for c in mine["cases"]] == [at_approval.pk]
    assert "已超期" in response.text and at_approval.number in client.get(mine["url"]).text


def test_a_long_reminder_list_shows_the_first_ten_and_links_to_all(client, township, approver):
    for day in range(12):
        case(township, S.APPROVAL, datetime.date(2025, 9, 10) + datetime.timedelta(days=day))
    client_for(client, approver)
    response = client.get("/")
    (mine,) = response.context["reminders"]
    assert len(mine["cases"]) == 10 and mine["count"] == 12
    assert "查看全部 12 件" in response.text and "due=near" in mine["url"]


def test_roles_without_case_work_have_no_reminders(township, finance, supervisor):
    for user in (finance, supervisor):
        assert case_reminders(user=user, day=TODAY) == []
