"""The 基金监管 pages: by role and by place (another county's recovery is a 404, a clerk sees their township's),
paginated, personal data masked, confirmations before irreversible steps, evidence served only where visible."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from applications.models import Case
from audit.models import AuditEvent
from recipients import demo
from supervision.models import Reason, Recovery
from supervision.recoveries import recovery_create
from tests.conftest import client_for
from tests.factories import ApprovedCaseFactory, CountyFactory, PersonFactory, TownshipFactory, UserFactory

D = Decimal


def paid_directly(township, amount="5600.00"):
    return ApprovedCaseFactory(
        person=PersonFactory(township=township), status=Case.Status.PAID, approved_amount=D(amount)
    )


@pytest.fixture
def recovery(township, reviewer):
    return recovery_create(
        case=paid_directly(township), user=reviewer, reason=Reason.IDENTITY, amount=D("5600"), note="身份不符"
    )


def test_another_countys_recovery_is_a_404_and_not_listed(client, recovery):
    other = CountyFactory(name="化州市", code="440982")
    TownshipFactory(county=other, name="河西街道")
    theirs = UserFactory(username="hz-reviewer", role=Role.REVIEWER, county=other)
    client_for(client, theirs)
    assert client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).status_code == 404
    assert recovery.number not in client.get(reverse("supervision:recovery_list")).text
    assert client.get(reverse("supervision:recovery_new", args=[recovery.case_id])).status_code == 404


def test_a_clerk_sees_their_townships_recoveries_only_and_cannot_register(client, recovery, clerk, outsider):
    client_for(client, clerk)
    page = client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).text
    assert recovery.number in page and "登记退回" not in page
    assert client.get(reverse("supervision:recovery_new", args=[recovery.case_id])).status_code == 403
    client_for(client, outsider)
    assert client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).status_code == 404
    assert recovery.number not in client.get(reverse("supervision:recovery_list")).text


def test_the_list_is_paginated_with_totals_and_ids_masked(client, township, reviewer):
    for _ in range(31):
        recovery_create(
            case=paid_directly(township, "100.00"), user=reviewer, reason=Reason.OTHER, amount=D("100"), note="x"
        )
    client_for(client, reviewer)
    page = client.get(reverse("supervision:recovery_list")).text
    assert 'data-testid="pagination"' in page and "共 31 件：应追回 3,100.00 元" in page
    person = Recovery.objects.first().person
    assert person.id_number not in page and person.id_number[-4:] in page
    oldest = Recovery.objects.order_by("created_at", "pk").first()
    assert (
        oldest.number not in page and oldest.number in client.get(reverse("supervision:recovery_list") + "?page=2").text
    )


def test_the_search_posts_and_keeps_the_text_out_of_the_url(client, recovery, reviewer):
    client_for(client, reviewer)
    response = client.post(reverse("supervision:recovery_list"), {"q": recovery.person.name, "status": ""})
    assert response.status_code == 302 and recovery.person.name not in response.url
    assert recovery.number in client.get(response.url).text


def test_registering_from_the_case_page_asks_for_a_confirmation(client, township, reviewer):
    case = paid_directly(township)
    client_for(client, reviewer)
    page = client.get(reverse("applications:case_detail", args=[case.pk])).text
    assert 'data-testid="new-recovery"' in page
    form = client.get(reverse("supervision:recovery_new", args=[case.pk])).text
    assert "data-confirm" in form and 'data-testid="recoverable">5,600.00 元' in form
    refused = client.post(
        reverse("supervision:recovery_new", args=[case.pk]), {"reason": "calculation", "amount": "5600.01", "note": "x"}
    )
    assert "超过可追回金额" in refused.text
    scan = demo.blank_scan_png()
    from django.core.files.uploadedfile import SimpleUploadedFile

    done = client.post(
        reverse("supervision:recovery_new", args=[case.pk]),
        {
            "reason": "calculation",
            "amount": "600",
            "note": "床位费多算",
            "evidence": SimpleUploadedFile("证据.png", scan, content_type="image/png"),
        },
        follow=True,
    )
    recovery = Recovery.objects.get(case=case)
    assert "已登记追回" in done.text and recovery.evidence.count() == 1
    evidence = recovery.evidence.get()
    assert client.get(reverse("supervision:evidence_file", args=[recovery.pk, evidence.pk])).status_code == 200
    rejected = client.post(
        reverse("supervision:evidence_upload", args=[recovery.pk]),
        {"file": SimpleUploadedFile("证据.png", b"not an image", content_type="image/png")},
        follow=True,
    )
    assert "只接受 PDF、JPEG 或 PNG" in rejected.text
    assert AuditEvent.objects.filter(action="recovery.evidence").count() == 1


def test_finance_records_a_repayment_and_the_approver_decides_a_write_off(client, recovery, finance, approver):
    client_for(client, finance)
    page = client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).text
    assert 'data-testid="repay-form"' in page and "data-confirm" in page
    response = client.post(
        reverse("supervision:recovery_action", args=[recovery.pk, "repay"]),
        {"amount": "99999", "received_on": "2026-11-20", "reference": "R1"},
        follow=True,
    )
    assert "超过尚欠金额 5,600.00 元" in response.text
    client.post(
        reverse("supervision:recovery_action", args=[recovery.pk, "repay"]),
        {"amount": "600", "received_on": "2026-11-20", "reference": "R1"},
    )
    client.post(reverse("supervision:recovery_action", args=[recovery.pk, "writeoff_request"]), {"reason": "无力偿还"})
    assert (
        client.post(reverse("supervision:recovery_action", args=[recovery.pk, "writeoff_approve"])).status_code == 403
    )
    client_for(client, approver)
    page = client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).text
    assert 'data-testid="writeoff-decide"' in page
    client.post(reverse("supervision:recovery_action", args=[recovery.pk, "writeoff_approve"]), {"reason": "同意"})
    recovery.refresh_from_db()
    assert (recovery.status, recovery.recovered, recovery.written_off) == ("written_off", D("600.00"), D("5000.00"))


@pytest.mark.parametrize(
    ("role", "entries"),
    [
        (Role.REVIEWER, ["追回管理", "追回建议", "抽查", "资金监控"]),
        (Role.APPROVER, ["追回管理", "追回建议", "抽查"]),
        (Role.FINANCE, ["追回管理", "资金监控"]),
        (Role.SUPERVISOR, ["追回管理", "追回建议", "抽查", "资金监控"]),
        (Role.CLERK, ["追回管理"]),
        (Role.ADMIN, ["资金监控"]),
    ],
)
def test_the_menus_of_each_role(client, township, role, entries):
    user = UserFactory(username=f"menu-{role}", role=role, township=township if role == Role.CLERK else None)
    page = client_for(client, user).get(reverse("home")).text
    for label in ["追回管理", "追回建议", "抽查", "资金监控"]:
        assert (f">{label}<" in page) == (label in entries), label


def test_the_dashboard_shows_recoveries_by_reason_and_township_and_the_fund_net_of_them(client, recovery, supervisor):
    from reports.facts import refresh_facts

    refresh_facts(year=2026)
    page = client_for(client, supervisor).get(reverse("reports:dashboard") + "?year=2026").text
    assert 'data-testid="recoveries-by-reason"' in page and "身份不符" in page and "5,600.00 元" in page
    assert 'data-testid="fund-returned"' in page


def test_the_excel_report_has_the_recoveries_by_reason_and_township(recovery, township):
    import io

    from openpyxl import load_workbook

    from reports.excel import report_workbook

    book = load_workbook(io.BytesIO(report_workbook(year=2026, county=township.county)))
    rows = [r for r in book["追回"].iter_rows(values_only=True) if any(r)]
    assert ("身份不符", 1, 5600, 0, 0, 5600) in rows and (township.name, 1, 5600, 0, 0, 5600) in rows
    summary = [r for r in book["汇总"].iter_rows(values_only=True) if r[0] == "追回款退回基金"]
    assert summary and summary[0][1] == 0


def test_the_home_page_counts_the_reviewers_and_approvers_work(client, recovery, reviewer, approver, finance):
    from supervision.recoveries import writeoff_request

    writeoff_request(recovery=recovery, user=finance, reason="无力偿还")
    assert "核销待审批" in client_for(client, approver).get(reverse("home")).text
    page = client_for(client, reviewer).get(reverse("home")).text
    assert "追回建议待确认" in page and "抽查待复核" in page
