"""Supervisor dashboard and reports: each KPI against a small hand-computed year."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from applications.models import Case
from applications.policy.services import policy_copy_to_draft, policy_load_preset
from reports.facts import refresh_facts
from reports.models import FundEntry, ReportFile
from reports.selectors import dashboard
from settlements.models import Settlement
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory

D = Decimal
TODAY = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


_n = iter(range(1, 100000))


def onestop(person, *, e, paid, day=datetime.date(2025, 6, 10), visit_type="住院", major=False, diagnosis=""):
    """A one-stop settlement with in-policy self-pay `e` of which `paid` was assisted at the hospital."""
    inpatient = visit_type == "住院"
    return Settlement.objects.create(
        number=f"K{next(_n):06d}",
        id_number=person.id_number,
        name=person.name,
        hospital="高州市人民医院",
        visit_type=visit_type,
        admitted_on=day - datetime.timedelta(days=3) if inpatient else None,
        discharged_on=day if inpatient else None,
        visit_on=None if inpatient else day,
        service_date=day,
        settled_on=day,
        total=e + D("1000"),
        in_policy=e + D("500"),
        basic=D("500"),
        critical=D("0"),
        onestop=paid,
        major_disease=major,
        diagnosis=diagnosis,
    )


@pytest.fixture
def year(township):
    """贵池-like: key recipients' inpatient stays 633.39 assisted of 887.61 self-pay; one outpatient visit;
    one major-disease stay of a non-key recipient; one window case approved and decided in 5 working days."""
    policy_load_preset(name="maoming-2018", county=township.county)
    from applications.models import PolicyVersion

    PolicyVersion.objects.update(major_disease_codes=["C", "N18"])  # malignant tumours, end-stage renal disease
    db = PersonFactory(township=township)
    IdentityFactory(person=db, category="DB", valid_from=datetime.date(2024, 1, 1))
    qt = PersonFactory(township=township)
    IdentityFactory(person=qt, category="QT", valid_from=datetime.date(2024, 1, 1))
    other_town = TownshipFactory(name="东岸镇", county=township.county)
    tk = PersonFactory(township=other_town)
    IdentityFactory(person=tk, category="TK", valid_from=datetime.date(2024, 1, 1))
    onestop(db, e=D("500.00"), paid=D("400.00"))
    onestop(tk, e=D("387.61"), paid=D("233.39"), day=datetime.date(2025, 8, 3))
    onestop(db, e=D("100"), paid=D("80"), visit_type="门诊", day=datetime.date(2025, 8, 20))
    onestop(qt, e=D("1000"), paid=D("800"), major=True, day=datetime.date(2025, 9, 1))
    onestop(qt, e=D("50"), paid=D("40"), visit_type="门诊", diagnosis="C34.9", day=datetime.date(2025, 12, 30))
    FundEntry.objects.create(year=2025, source="grant", amount=D("2000000"))
    FundEntry.objects.create(year=2025, source="lottery", amount=D("358000"))
    refresh_facts(year=2025)
    return {"db": db, "qt": qt, "tk": tk, "other_town": other_town}


def kpi(data, name_start):
    return next(k for k in data["kpis"] if k["name"].startswith(name_start))


def test_key_recipient_inpatient_ratio_is_the_guichi_formula(year):
    data = dashboard(year=2025)
    ratio = kpi(data, "重点救助对象")
    assert (data["totals"]["key_amount"], data["totals"]["key_self_pay"]) == (D("633.39"), D("887.61"))
    assert round(ratio["value"], 4) == D("0.7136") and ratio["target"] == D("0.70") and ratio["met"] is True


def test_counts_major_share_and_one_stop_rate(year):
    data = dashboard(year=2025)
    assert data["totals"]["count"] == 5 and data["totals"]["amount"] == D("1553.39")
    assert kpi(data, "重特大疾病")["value"] == D("0.4")  # the flagged stay and the C34 diagnosis: 2 of 5
    assert kpi(data, "一站式结算率")["value"] == D("1")
    by_category = {r["category"]: r["count"] for r in data["by_category"]}
    assert by_category == {"DB": 2, "QT": 2, "TK": 1}
    assert {r["month"] for r in data["by_month"]} == {6, 8, 9, 12}


def test_period_and_township_filters_and_an_empty_period(year, township):
    assert dashboard(year=2025, month_from=8, month_to=8)["totals"]["count"] == 2
    town = dashboard(year=2025, township=year["other_town"])
    assert town["totals"]["count"] == 1 and town["totals"]["amount"] == D("233.39")
    empty = dashboard(year=2024)
    assert empty["totals"]["count"] == 0 and all(k["value"] is None and k["met"] is None for k in empty["kpis"])
    assert empty["processing"]["average"] is None


def test_fund_balance_ratio(year, township, finance):
    from payouts.models import PayoutBatch, PayoutLine

    case = Case.objects.create(
        number="X1", person=year["db"], township=township, status=Case.Status.PAID, approved_amount=D("2075130")
    )
    batch = PayoutBatch.objects.create(number="ZF1", created_by=finance, status="closed")
    PayoutLine.objects.create(
        batch=batch,
        case=case,
        reference="ZF1-1",
        township=township,
        source="window",
        payee_name="x",
        payee_account="1",
        payee_bank="x",
        id_number="x",
        amount=D("2075130"),
        status="paid",
        resolved_at=datetime.datetime(2025, 12, 1, tzinfo=datetime.UTC),
    )
    fund = dashboard(year=2025)["fund"]
    assert fund["raised"] == D("2358000") and fund["paid_out"] == D("2075130")
    assert fund["onestop"] == D("1553.39") and fund["spent"] == D("2076683.39")
    assert fund["balance"] == D("281316.61")
    assert round(fund["ratio"], 2) == D("0.12")  # Taishan 2020: 282.87 ÷ 2,358 ≈ 12 %


def test_processing_time_in_working_days_and_the_funnel(year, township):
    from applications.models import Lead

    Case.objects.create(
        number="W1",
        person=year["db"],
        township=township,
        status=Case.Status.APPROVED,
        approved_amount=D("10"),
        accepted_on=datetime.date(2025, 3, 3),
        decided_at=datetime.datetime(2025, 3, 10, 2, 0, tzinfo=datetime.UTC),
    )
    lead = Lead.objects.create(number="XS1", person=year["qt"], township=township, year=2025, status="converted")
    data = dashboard(year=2025)
    assert data["processing"]["count"] == 1 and data["processing"]["maximum"] == data["processing"]["average"] == 5
    assert data["funnel"]["found"] == 1 and data["funnel"]["converted"] == 1 and data["funnel"]["paid"] == 0
    assert lead.pk


def test_clerk_sees_own_township_only(client, year, clerk, outsider):
    client.force_login(outsider)  # 东岸镇
    page = client.get(reverse("reports:dashboard"), {"year": 2025})
    assert page.status_code == 200 and page.context["d"]["totals"]["count"] == 1
    page = client.get(reverse("reports:dashboard"), {"year": 2025, "township": ""})
    assert page.context["township"] == outsider.township


def test_supervisor_page_and_finance_nav(client, year, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("reports:dashboard"), {"year": 2025})
    text = page.content.decode()
    assert page.status_code == 200 and "71.36%" in text and "达标" in text and "chart-month" in text


def test_excel_report_has_every_sheet_totals_equal_to_the_dashboard_and_charts(
    client, year, supervisor, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:report_new"), {"year": 2025, "kind": "year"})
    report = ReportFile.objects.get()
    assert report.status == ReportFile.Status.DONE and report.masked
    content = client.get(reverse("reports:report_download", args=[report.pk])).content
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["汇总", "按乡镇", "按类别", "按月", "追回", "回访与投诉", "明细"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row[0]}
    data = dashboard(year=2025)
    assert (
        summary["直接救助人次"] == data["totals"]["count"]
        and D(str(summary["直接救助金额（元）"])) == data["totals"]["amount"]
    )
    *towns, total = list(book["按乡镇"].iter_rows(min_row=2, values_only=True))
    assert sum(D(str(r[2])) for r in towns) == data["totals"]["amount"]
    assert total[0] == "合计" and D(str(total[2])) == data["totals"]["amount"]
    detail = list(book["明细"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 5 and all("*" in r[5] for r in detail)  # supervisor: IDs masked
    assert all(len(book[name]._charts) == 1 for name in ("汇总", "按乡镇", "按类别", "按月"))


def test_the_what_if_job_compares_a_draft_with_the_policy_in_force(
    client, township, supervisor, admin_user, django_capture_on_commit_callbacks, eager_tasks
):
    from applications.models import FirstRoundRule, PolicyVersion

    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    onestop(person, e=D("10000"), paid=D("0"))
    draft = policy_copy_to_draft(version=PolicyVersion.objects.get(), user=admin_user)
    FirstRoundRule.objects.filter(version=draft, category="DB").update(ratio=D("0.9"))
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:report_new"), {"year": 2025, "kind": "whatif", "policy": draft.pk})
    report = ReportFile.objects.get(kind="whatif")
    assert report.status == ReportFile.Status.DONE
    assert report.result["current_total"] == "8000.00" and report.result["draft_total"] == "9000.00"
    assert report.result["difference"] == "1000.00"
    page = client.get(reverse("reports:whatif", args=[report.pk]))
    assert "1,000.00" in page.content.decode()


def test_roles_without_the_dashboard_get_403(client, db):
    from accounts.roles import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="x", role=Role.APPROVER))
    assert client.get(reverse("reports:dashboard")).status_code == 403


def test_an_unassisted_stay_of_a_key_recipient_lowers_the_ratio(year):
    settle = Settlement.objects.create(
        number="UN1",
        id_number=year["db"].id_number,
        name="x",
        hospital="广州医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 7, 1),
        discharged_on=datetime.date(2025, 7, 5),
        service_date=datetime.date(2025, 7, 5),
        settled_on=datetime.date(2025, 7, 5),
        total=D("2000"),
        in_policy=D("1000"),
        basic=D("112.39"),
        onestop=D("0"),
    )
    refresh_facts(year=2025)
    data = dashboard(year=2025)
    assert data["totals"]["key_self_pay"] == D("887.61") + D("887.61") and data["totals"]["count"] == 5
    assert round(kpi(data, "重点救助对象")["value"], 4) == D("0.3568")
    assert settle.pk


def test_the_funnel_counts_each_lead_once_however_many_contacts(year, township, clerk):
    from applications.models import Lead, LeadContact

    case = Case.objects.create(
        number="L1", person=year["db"], township=township, status=Case.Status.PAID, approved_amount=D("1000")
    )
    lead = Lead.objects.create(
        number="XS9", person=year["db"], township=township, year=2025, status="converted", case=case
    )
    for day in (1, 2, 3):
        LeadContact.objects.create(
            lead=lead, contacted_on=datetime.date(2025, 9, day), method="phone", outcome="contacted", recorded_by=clerk
        )
    funnel = dashboard(year=2025)["funnel"]
    assert (funnel["found"], funnel["contacted"], funnel["converted"], funnel["paid"]) == (1, 1, 1, 1)
    assert funnel["amount"] == D("1000")
