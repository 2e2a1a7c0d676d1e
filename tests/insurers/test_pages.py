"""The insurer pages through the test client: who may do what, other counties' statements a 404, the dashboard's
reserve equal to the Excel statement's totals, batches paid by the insurer, the operator command."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from applications.policy.services import policy_copy_to_draft
from audit.models import AuditEvent
from insurers.models import InsurerStatement, InsurerTerms
from insurers.selectors import reserve_position
from payouts.bankfile import bank_file
from payouts.services import batch_create
from tests.factories import ApprovedCaseFactory, CountyFactory, TownshipFactory, UserFactory

from .conftest import at, build, onestop, secondary

D = Decimal
pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def statement_total(content: bytes) -> Decimal:
    sheet = load_workbook(io.BytesIO(content))["结算单"]
    for row in sheet.iter_rows(values_only=True):
        if row[0] == "实际救助合计":
            return D(str(row[3])).quantize(D("0.01"))
    raise AssertionError("no total row")


def test_finance_requests_a_statement_and_a_second_finance_user_reviews_it(
    client, terms, county, finance, finance2, db_person, django_capture_on_commit_callbacks, eager_tasks
):
    onestop(db_person, datetime.date(2026, 2, 1), "6000")
    with at("2026-07-05"):
        with django_capture_on_commit_callbacks(execute=True):
            response = login(client, finance).post(
                reverse("insurers:statement_list"), {"year": 2026, "period": "H1"}, follow=True
            )
        statement = InsurerStatement.objects.get()
        assert statement.status == "built" and statement.created_by == finance
        assert statement.number in response.content.decode()
        response = client.get(reverse("insurers:statement_detail", args=[statement.pk]))
        assert "6,000.00" in response.content.decode()
        # The maker's page offers no review; a review posted anyway is refused.
        assert 'data-testid="review"' not in response.content.decode()
        client.post(reverse("insurers:statement_action", args=[statement.pk, "review"]))
        statement.refresh_from_db()
        assert statement.status == "built"
        page = login(client, finance2).get(reverse("insurers:statement_detail", args=[statement.pk]))
        assert 'data-testid="review"' in page.content.decode() and "data-confirm" in page.content.decode()
        client.post(reverse("insurers:statement_action", args=[statement.pk, "review"]))
        statement.refresh_from_db()
        assert statement.status == "reviewed" and statement.reviewed_by == finance2
        client.post(
            reverse("insurers:payment_new", args=[statement.pk]),
            {"amount": "6000.00", "paid_on": "2026-07-05", "reference": "财拨〔2026〕12号"},
        )
        download = client.get(reverse("insurers:statement_download", args=[statement.pk]))
    statement.refresh_from_db()
    assert statement.status == "settled"
    assert download.status_code == 200 and statement_total(download.content) == D("6000.00")
    assert AuditEvent.objects.filter(action="insurer.statement_download").exists()


def test_supervisor_reads_and_cannot_write(client, terms, county, finance, supervisor):
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        login(client, supervisor)
        assert client.get(reverse("insurers:statement_list")).status_code == 200
        assert client.get(reverse("insurers:statement_detail", args=[statement.pk])).status_code == 200
        assert client.post(reverse("insurers:statement_list"), {"year": 2026, "period": "H1"}).status_code == 403
        assert client.post(reverse("insurers:statement_action", args=[statement.pk, "review"])).status_code == 403


def test_clerk_has_no_statements(client, clerk):
    assert login(client, clerk).get(reverse("insurers:statement_list")).status_code == 403


def test_another_countys_statement_is_a_404(client, terms, county, finance):
    other = CountyFactory(name="化州市", code="440982")
    TownshipFactory(county=other, name="河西街道")
    outsider = UserFactory(username="hz_finance", role=Role.FINANCE, county=other)
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
    login(client, outsider)
    assert client.get(reverse("insurers:statement_detail", args=[statement.pk])).status_code == 404
    assert client.get(reverse("insurers:statement_download", args=[statement.pk])).status_code == 404
    assert statement.number not in client.get(reverse("insurers:statement_list")).content.decode()


def test_the_excel_totals_equal_the_dashboards(client, terms, county, finance, supervisor, db_person, tk_person):
    onestop(db_person, datetime.date(2026, 1, 20), "12345.67")
    onestop(tk_person, datetime.date(2026, 6, 30), "20000")
    onestop(tk_person, datetime.date(2026, 7, 1), "999")  # second half
    secondary(tk_person, datetime.datetime(2026, 5, 1, 3, tzinfo=datetime.UTC), "3000.33")
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        position = reserve_position(county_id=county.pk, year=2026)
        page = login(client, supervisor).get(reverse("reports:dashboard"), {"year": 2026}).content.decode()
        content = login(client, finance).get(reverse("insurers:statement_download", args=[statement.pk])).content
    assert statement_total(content) == position["halves"][0]["advanced"] == D("35346.00")
    assert 'data-testid="advanced-h1">35,346.00' in page
    assert 'data-testid="advanced-h2">999.00' in page
    assert 'data-testid="insurer-reserve"' in page


def test_a_batch_can_be_paid_by_the_insurer(client, terms, county, finance, db_person):
    ApprovedCaseFactory(person=db_person)
    with at("2026-07-05"):
        batch = batch_create(user=finance)
        page = login(client, finance).get(reverse("payouts:batch_detail", args=[batch.pk])).content.decode()
        assert 'data-testid="mark-insurer"' in page
        client.post(reverse("insurers:batch_payer", args=[batch.pk]), {"insurer": "1"})
    batch.refresh_from_db()
    assert batch.payer_name == terms.insurer_name and batch.paid_by_insurer
    assert AuditEvent.objects.filter(action="payout.payer", object_id=str(batch.pk)).exists()
    summary = load_workbook(io.BytesIO(bank_file(batch)))["汇总"]
    assert any(row[0] == "付款单位" and terms.insurer_name in row[1] for row in summary.iter_rows(values_only=True))


def test_a_county_without_an_insurer_cannot_mark_a_batch(client, county, finance, db_person):
    ApprovedCaseFactory(person=db_person)
    batch = batch_create(user=finance)
    page = login(client, finance).get(reverse("payouts:batch_detail", args=[batch.pk])).content.decode()
    assert 'data-testid="batch-payer"' not in page
    client.post(reverse("insurers:batch_payer", args=[batch.pk]), {"insurer": "1"})
    batch.refresh_from_db()
    assert batch.payer_name == ""


def test_admin_edits_terms_on_a_draft_only_and_a_copy_keeps_them(client, terms, admin_user):
    version = terms.version
    login(client, admin_user)
    assert client.get(reverse("insurers:terms_list")).status_code == 200
    response = client.get(reverse("insurers:terms_edit", args=[version.pk]), follow=True)
    assert "只有草稿" in response.content.decode()
    draft = policy_copy_to_draft(version=version, user=admin_user)
    copied = InsurerTerms.objects.get(version=draft)
    assert copied.insurer_name == terms.insurer_name and copied.fee_cap == D("100000")
    data = {
        "enabled": "on",
        "insurer_name": "中国人民财产保险股份有限公司茂名市分公司",
        "contract_start": "2027-01-01",
        "contract_end": "2027-12-31",
        "fee_rate": "0.008",
        "fee_cap": "100000",
        "fee_base": "all",
        "first_due_month": 7,
        "first_due_day": 31,
        "second_due_month": 12,
        "second_due_day": 31,
        "clearing_month": 3,
        "pays_manual": "on",
    }
    client.post(reverse("insurers:terms_edit", args=[draft.pk]), {**data, "contract_end": "2026-12-31"})
    copied.refresh_from_db()
    assert copied.insurer_name == terms.insurer_name  # end before start: refused
    client.post(reverse("insurers:terms_edit", args=[draft.pk]), data)
    copied.refresh_from_db()
    assert copied.insurer_name.startswith("中国人民财产")
    event = AuditEvent.objects.filter(action="insurer.terms_edit", object_id=str(draft.pk)).latest("pk")
    assert event.before["insurer_name"] == terms.insurer_name


def test_navigation_entries(client, finance, supervisor, admin_user, clerk):
    def menu(user):
        return login(client, user).get(reverse("home")).content.decode()

    assert "承办机构结算" in menu(finance)
    assert "承办机构结算" in menu(supervisor)
    assert "承办保险机构" in menu(admin_user)
    assert "承办机构结算" not in menu(clerk)


def test_operator_command_builds_and_exports(tmp_path, terms, county, db_person, capsys):
    onestop(db_person, datetime.date(2026, 2, 1), "1000")
    out = tmp_path / "h1.xlsx"
    with at("2026-07-05"):
        call_command("insurer_statement", "--county", county.code, "--period", "2026H1", str(out))
    assert "应拨付承办保险机构 1,000.00" in capsys.readouterr().out
    assert statement_total(out.read_bytes()) == D("1000.00")
    with at("2027-03-05"):
        call_command("insurer_statement", "--county", county.name, "--clearing", "2026", str(tmp_path / "c.xlsx"))
        assert "服务费 8.00" in capsys.readouterr().out
        with pytest.raises(CommandError, match="2026H1"):
            call_command("insurer_statement", "--county", county.code, "--period", "2026", str(out))
        with pytest.raises(CommandError, match="没有县"):
            call_command("insurer_statement", "--county", "nowhere", "--period", "2026H1", str(out))
        for year in ("99999", "-1", "1800"):
            with pytest.raises(CommandError, match=f"年度不对：{year}"):
                call_command("insurer_statement", "--county", county.code, f"--clearing={year}", str(out))


def test_the_statement_is_built_by_the_celery_task(task_worker, terms, county, finance, db_person):
    """Queued on commit by name; a real worker builds it when a broker is configured (in-process otherwise)."""
    import time

    from insurers.services import statement_request

    onestop(db_person, datetime.date(2026, 2, 1), "4321.00")
    with at("2026-07-05"):
        statement = statement_request(user=finance, county=county, kind="half", year=2026, half=1)
        for _ in range(300):
            statement.refresh_from_db()
            if statement.status not in ("queued", "running"):
                break
            time.sleep(0.1)
    assert statement.status == "built" and statement.assistance == D("4321.00")
