"""The 回访 and complaint KPIs on the 贵池 example (40 answered: 38 knew the policy, 95%; 39 satisfied, 97.5%), by
township and period, on the dashboard and in the Excel report."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from followups.calls import Result, call_record
from followups.kpis import followup_kpis
from followups.models import FollowupPolicy, Ticket
from followups.plans import plan_create, plan_scope
from followups.tickets import ticket_reply
from reports.excel import report_workbook
from tests.conftest import client_for

from .conftest import paid_line


@pytest.fixture
def guichi(batch, towns, reviewer, clerk):
    """42 calls in 石鼓镇: 40 answered (39 满意 or 基本满意, 38 knew the policy), one not reached, one 未到账
    (which answered neither question); 2 calls in 东岸镇, one satisfied."""
    for _ in range(42):
        paid_line(batch, towns[0])
    for _ in range(2):
        paid_line(batch, towns[1])
    plan = plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all")
    calls = list(plan.calls.filter(township=towns[0]).order_by("number"))
    for n, call in enumerate(calls[:40]):
        satisfaction = "unsatisfied" if n == 0 else ("fair" if n % 3 == 0 else "satisfied")
        call_record(call=call, user=clerk, result=Result(receipt="received", satisfaction=satisfaction, aware=n >= 2))
    call_record(call=calls[40], user=clerk, result=Result(receipt="unreachable"))
    call_record(call=calls[41], user=clerk, result=Result(receipt="missing"))
    other = plan.calls.filter(township=towns[1]).first()
    call_record(call=other, user=reviewer, result=Result(receipt="received", satisfaction="satisfied", aware=True))
    return plan


def test_the_guichi_figures(guichi, township):
    data = followup_kpis(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31), township=township)
    satisfaction, awareness, receipt, on_time = data["kpis"]
    assert satisfaction["value"] == D("0.975") and satisfaction["detail"] == "39 ÷ 40"
    assert awareness["value"] == D("0.95") and awareness["detail"] == "38 ÷ 40"
    assert receipt["value"] == D(40) / D(41)  # 已到账 of the 41 reached
    assert data["figures"]["unreachable"] == 1 and data["figures"]["tickets"] == 1
    assert satisfaction["target"] == D("0.85") and satisfaction["met"] is True
    assert awareness["target"] is None and awareness["met"] is None
    assert on_time["value"] is None  # the ticket is still within its time limit: not counted yet


def test_by_township_and_period(guichi, township, other_township):
    year = followup_kpis(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31), county=township.county)
    rows = {r["township__name"]: r for r in year["by_township"]}
    assert rows["石鼓镇"]["kpis"][0]["value"] == D("0.975") and rows["东岸镇"]["kpis"][0]["value"] == 1
    assert year["kpis"][0]["detail"] == "40 ÷ 41"
    october = followup_kpis(start=datetime.date(2026, 10, 1), end=datetime.date(2026, 10, 31), county=township.county)
    assert october["figures"]["calls"] == 0 and october["by_township"] == []


def test_tickets_answered_on_time_and_a_countys_targets(guichi, township, clerk):
    FollowupPolicy.objects.create(county=township.county, satisfaction_target=D("0.98"), on_time_target=D("0.9"))
    ticket = Ticket.objects.get()
    ticket_reply(ticket=ticket, user=clerk, reply="已核实，银行退回后重新发放")
    data = followup_kpis(start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 30), township=township)
    satisfaction, _, _, on_time = data["kpis"]
    assert satisfaction["met"] is False and satisfaction["target"] == D("0.98")
    assert on_time["value"] == 1 and on_time["detail"] == "1 ÷ 1" and on_time["met"] is True
    late = followup_kpis(
        start=datetime.date(2026, 11, 1),
        end=datetime.date(2026, 11, 30),
        township=township,
        today=datetime.date(2027, 1, 1),
    )
    assert late["kpis"][3]["value"] == 1  # answered in time stays in time


def test_the_dashboard_and_the_excel_report_show_them(client, guichi, township, supervisor):
    client_for(client, supervisor)
    page = client.get(reverse("reports:dashboard"), {"year": 2026})
    assert page.status_code == 200
    text = page.text
    assert "回访与投诉" in text and "≥ 85.00%" in text
    assert "97.56%" in text and "40 ÷ 41" in text  # the county: 39 + 1 of 41 answered
    assert 'title="39 ÷ 40">97.50%' in text  # 石鼓镇 in the table by township
    township_page = client.get(reverse("reports:dashboard"), {"year": 2026, "township": township.pk}).text
    assert "97.50%" in township_page and "95.00%" in township_page
    book = load_workbook(io.BytesIO(report_workbook(year=2026, township=township)))
    sheet = book["回访与投诉"]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    kpi = {row[0]: row for row in values if row and row[0]}
    assert kpi["满意度（满意 + 基本满意）"][1] == pytest.approx(0.975) and kpi["满意度（满意 + 基本满意）"][4] == "达标"
    assert kpi["政策知晓率"][1] == pytest.approx(0.95) and kpi["政策知晓率"][2] == "38 ÷ 40"
    assert kpi["石鼓镇"][1] == 42 and kpi["石鼓镇"][2] == 1
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
