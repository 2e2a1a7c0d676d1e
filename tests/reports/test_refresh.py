"""The summary stays current: approvals, payments and imports queue a refresh of the years they touch once they
commit, coalesced (one queued and one running per year); a GET never writes the summary; targets come from the
policy in force for the county and period."""

import datetime
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.cases.workflow import transition
from applications.models import Bill, Case, PolicyVersion
from recipients.models import County, RosterImport, Township
from recipients.signals import roster_applied
from reports import services
from reports.facts import refresh_facts
from reports.models import AssistanceFact, FactRefresh
from reports.selectors import dashboard
from settlements.models import Settlement, SettlementImport
from settlements.signals import settlements_applied
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory

D = Decimal
TASK = "reports.refresh_facts"
NOW = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sent():
    """The tasks sent (by name), instead of running them."""
    with mock.patch("lib.tasks.send_task") as send:
        yield send


def refresh_calls(send) -> list:
    return [c.args for c in send.call_args_list if c.args[0] == TASK]


def waiting_case(township, *, number, discharged=datetime.date(2025, 6, 10), status=Case.Status.APPROVAL, **fields):
    """A case waiting for approval with one inpatient bill already granted 800."""
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    case = Case.objects.create(
        number=number, person=person, township=township, status=status, approved_amount=D("800"), **fields
    )
    Bill.objects.create(
        case=case,
        hospital="高州市人民医院",
        visit_type="住院",
        admitted_on=discharged - datetime.timedelta(days=5),
        discharged_on=discharged,
        invoice_number=f"F{number}",
        total=D("3000"),
        in_policy=D("2500"),
        basic=D("1500"),
        granted=D("800.00"),
    )
    return case


def act(case, action):
    with transaction.atomic():
        return transition(case, user=None, action=action)


def test_an_approval_queues_a_refresh_of_its_bills_year_once_it_commits(
    township, sent, django_capture_on_commit_callbacks
):
    case = waiting_case(township, number="A1")
    with django_capture_on_commit_callbacks(execute=True):
        act(case, "approve")
        assert refresh_calls(sent) == []  # nothing before the commit
    assert refresh_calls(sent) == [(TASK, 2025)]
    assert FactRefresh.objects.get(year=2025).requested_at is not None


def test_a_burst_of_1000_approvals_queues_one_refresh(township, sent, django_capture_on_commit_callbacks):
    first = waiting_case(township, number="B0")
    cases = Case.objects.bulk_create(
        [
            Case(number=f"B{n}", person=first.person, township=township, status=Case.Status.APPROVAL)
            for n in range(1, 1000)
        ]
    )
    Bill.objects.bulk_create(
        [
            Bill(
                case=c,
                hospital="医院",
                visit_type="门诊",
                visit_on=datetime.date(2025, 3, 1),
                invoice_number=f"G{c.pk}",
                total=D("100"),
                in_policy=D("100"),
                granted=D("10"),
            )
            for c in cases
        ]
    )
    for case in [first, *cases]:  # 1,000 approvals, each committed on its own
        with django_capture_on_commit_callbacks(execute=True):
            act(case, "approve")
    assert refresh_calls(sent) == [(TASK, 2025)]
    # Once a worker has taken the request, the next change queues again.
    services.facts_refresh_run(year=2025)
    assert AssistanceFact.objects.filter(year=2025, channel="manual").aggregate(n=Sum("visits"))["n"] == 1000
    with django_capture_on_commit_callbacks(execute=True):
        act(Case.objects.get(number="B1"), "mark_paid")
    assert refresh_calls(sent) == [(TASK, 2025), (TASK, 2025)]


def test_payment_and_secondary_approval_refresh_their_years_but_a_rejection_does_not(
    township, sent, django_capture_on_commit_callbacks
):
    paid = waiting_case(township, number="P1", discharged=datetime.date(2024, 12, 30), status=Case.Status.APPROVED)
    rejected = waiting_case(township, number="R1")
    secondary = waiting_case(township, number="S1", source=Case.Source.SECONDARY, year=2023)
    with django_capture_on_commit_callbacks(execute=True):
        act(rejected, "reject")
    assert refresh_calls(sent) == []
    with django_capture_on_commit_callbacks(execute=True):
        act(paid, "mark_paid")
        act(secondary, "approve")
    assert sorted(refresh_calls(sent)) == [(TASK, 2023), (TASK, 2024)]


def test_imports_refresh_the_years_they_touch(township, sent, django_capture_on_commit_callbacks):
    FactRefresh.objects.create(year=2022, refreshed_at=timezone.now())
    FactRefresh.objects.create(year=2021)  # never summarised: not refreshed because of a roster
    record = SettlementImport.objects.create(file_name="x.csv", file_hash="0" * 64, file_size=1)
    person = PersonFactory(township=township)
    Settlement.objects.create(
        number="S1",
        id_number=person.id_number,
        name=person.name,
        hospital="医院",
        visit_type="门诊",
        visit_on=datetime.date(2024, 5, 1),
        service_date=datetime.date(2024, 5, 1),
        settled_on=datetime.date(2024, 5, 1),
        total=D("100"),
        in_policy=D("100"),
        basic=D("50"),
        last_import=record,
    )
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            settlements_applied.send(sender=SettlementImport, record=record, changed=True, person_ids=[person.pk])
            settlements_applied.send(sender=SettlementImport, record=record, changed=True, person_ids=[])
        assert refresh_calls(sent) == [(TASK, 2024)]
        sent.reset_mock()
        FactRefresh.objects.update(requested_at=None)
        with django_capture_on_commit_callbacks(execute=True):
            roster_applied.send(sender=RosterImport, record=SimpleNamespace(pk=1), changed=False)
        assert refresh_calls(sent) == []
        with django_capture_on_commit_callbacks(execute=True):
            roster_applied.send(sender=RosterImport, record=SimpleNamespace(pk=1), changed=True)
        assert sorted(refresh_calls(sent)) == [(TASK, 2022), (TASK, 2026)]


def test_a_request_lost_by_the_broker_is_sent_again_after_a_while(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.facts_request_refresh(year=2025) is True
        assert services.facts_request_refresh(year=2025) is False
    later = timezone.now() + services.STALE_REQUEST + datetime.timedelta(seconds=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.facts_request_refresh(year=2025) is True
    assert len(refresh_calls(sent)) == 2


def test_a_refresh_left_running_by_a_dead_worker_is_run_again(township):
    waiting_case(township, number="D1", status=Case.Status.APPROVED)
    FactRefresh.objects.create(year=2025, started_at=timezone.now())
    assert services.facts_refresh_run(year=2025) == 1
    state = FactRefresh.objects.get(year=2025)
    assert state.summarised and not state.pending and state.rows == 1
    assert services.facts_refresh_run(year=2025) is None  # nothing queued: nothing to do


def test_nightly_rebuilds_this_and_last_year(township):
    waiting_case(township, number="N1", status=Case.Status.APPROVED)
    with time_machine.travel(datetime.datetime(2026, 1, 2, 0, 0, tzinfo=datetime.UTC), tick=False):
        services.reports_nightly()
    assert set(FactRefresh.objects.filter(refreshed_at__isnull=False).values_list("year", flat=True)) == {2025, 2026}
    assert not FactRefresh.objects.filter(requested_at__isnull=False).exists()
    assert AssistanceFact.objects.get(year=2025).visits == 1


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_get_of_an_unsummarised_year_writes_nothing_and_queues_a_refresh(
    client, township, supervisor, sent, django_capture_on_commit_callbacks
):
    waiting_case(township, number="G1", status=Case.Status.APPROVED)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        page = client.get(reverse("reports:dashboard"), {"year": 2025})
    text = page.content.decode()
    assert page.status_code == 200 and "尚未汇总" in text and "2026-03-01 18:00:00" in text  # the request's time
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w for w in writes if "django_session" not in w] == []
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:  # what happens once the request ends: a task is queued, nothing summed
            callback()
    assert refresh_calls(sent) == [(TASK, 2025)] and not AssistanceFact.objects.exists()
    # Later looks while it waits queue nothing more; a summarised year queues nothing at all.
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("reports:dashboard"), {"year": 2025})
    services.facts_refresh_run(year=2025)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(reverse("reports:dashboard"), {"year": 2025})
    assert refresh_calls(sent) == [(TASK, 2025)]
    assert "尚未汇总" not in page.content.decode() and page.context["d"]["totals"]["count"] == 1


def test_the_refresh_button_queues_a_refresh_instead_of_running_it(
    client, township, supervisor, sent, django_capture_on_commit_callbacks
):
    waiting_case(township, number="K1", status=Case.Status.APPROVED)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("reports:refresh") + "?year=2025")
    assert page.status_code == 302
    assert refresh_calls(sent) == [(TASK, 2025)] and not AssistanceFact.objects.exists()
    assert "已提交刷新 2025 年统计数据" in [str(m) for m in get_messages(page.wsgi_request)][0]


def fact(township, *, month=6, visits=10, major=3, key_amount="70", key_self_pay="100"):
    AssistanceFact.objects.create(
        year=2025, month=month, township=township, category="DB", benefit="住院", channel="onestop", key=True,
        major=True, visits=major, assisted=D(key_amount), self_pay=D(key_self_pay),
    )  # fmt: skip
    AssistanceFact.objects.create(
        year=2025, month=month, township=township, category="QT", benefit="门诊", channel="onestop",
        visits=visits - major, assisted=D("1"),
    )  # fmt: skip


def policy(county, start, end, key_target, major_target="0.28"):
    return PolicyVersion.objects.create(
        county=county,
        name=f"{county.name}{start}",
        effective_from=start,
        effective_to=end,
        status=PolicyVersion.Status.ACTIVE,
        key_ratio_target=D(key_target),
        major_share_target=D(major_target),
    )


def targets(data):
    return [k["target"] for k in data["kpis"]]


@time_machine.travel(NOW, tick=False)
def test_targets_come_from_the_policy_in_force_for_the_county_and_period(township):
    county = township.county
    policy(county, datetime.date(2025, 1, 1), datetime.date(2025, 6, 30), "0.60")
    policy(county, datetime.date(2025, 7, 1), None, "0.75", "0.30")
    other = TownshipFactory(name="乙镇", county=County.objects.create(name="乙县", code="990002"))
    policy(other.county, datetime.date(2025, 9, 1), None, "0.95", "0.50")  # the newest version overall
    fact(township)
    assert targets(dashboard(year=2025)) == [D("0.75"), D("0.30"), None]  # the period ends 12-31: second version
    assert targets(dashboard(year=2025, month_to=3)) == [D("0.60"), D("0.28"), None]
    assert targets(dashboard(year=2025, township=other)) == [D("0.95"), D("0.50"), None]
    with time_machine.travel(datetime.datetime(2025, 5, 15, tzinfo=datetime.UTC), tick=False):
        assert targets(dashboard(year=2025)) == [D("0.60"), D("0.28"), None]  # today is earlier than 12-31
    assert targets(dashboard(year=2024)) == [None, None, None]  # no policy of the county in force: no target


@time_machine.travel(NOW, tick=False)
def test_data_of_two_counties_is_judged_county_by_county(township):
    policy(township.county, datetime.date(2025, 1, 1), None, "0.70")
    other = TownshipFactory(name="乙镇", county=County.objects.create(name="乙县", code="990002"))
    policy(other.county, datetime.date(2025, 1, 1), None, "0.80")
    fact(township, key_amount="75", key_self_pay="100")  # 75 %: meets 70 %
    fact(other, key_amount="78", key_self_pay="100")  # 78 %: misses 80 %
    key = dashboard(year=2025)["kpis"][0]
    assert key["value"] == D("153") / D("200") and key["target"] is None and key["met"] is False
    assert [(c["county"], c["target"], c["met"]) for c in key["by_county"]] == [
        ("乙县", D("0.80"), False),
        ("高州市", D("0.70"), True),
    ]
    major = dashboard(year=2025)["kpis"][1]
    assert major["target"] == D("0.28") and major["met"] is True  # both counties share the target


@pytest.mark.django_db(transaction=True)
def test_an_approval_reaches_the_dashboard_through_the_worker(task_worker):
    township = Township.objects.create(county=County.objects.create(name="丙县", code="990003"), name="丙镇")
    case = waiting_case(township, number="W1")
    refresh_facts(year=2025)
    assert dashboard(year=2025)["totals"]["count"] == 0
    act(case, "approve")
    deadline = time.monotonic() + 60
    while dashboard(year=2025)["totals"]["count"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dashboard(year=2025)["totals"]["count"] == 1
    while FactRefresh.objects.get(year=2025).pending and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not FactRefresh.objects.get(year=2025).pending


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_a_year_at_once_leave_one_summary():
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    township = Township.objects.create(county=County.objects.create(name="丁县", code="990004"), name="丁镇")
    for n in range(20):
        waiting_case(
            township, number=f"T{n}", status=Case.Status.APPROVED, discharged=datetime.date(2025, n % 12 + 1, 5)
        )
    counts, barrier = [], threading.Barrier(2)

    def refresh():
        try:
            barrier.wait()
            counts.append(refresh_facts(year=2025))
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [12, 12] and AssistanceFact.objects.filter(year=2025).count() == 12


@pytest.mark.django_db
def test_the_refresh_leaves_the_callers_planner_settings_as_they_were(township):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL planner settings")
    waiting_case(township, number="Q1", status=Case.Status.APPROVED)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '5MB'")
        refresh_facts(year=2025)
        cursor.execute("SELECT current_setting('jit'), current_setting('enable_sort'), current_setting('work_mem')")
        assert cursor.fetchone() == ("on", "on", "5MB")
