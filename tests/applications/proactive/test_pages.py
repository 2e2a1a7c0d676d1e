"""Lead and job pages through the test client: scoping, masking, the township's work, the schedule."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from applications.models import Case, Job, Lead
from applications.proactive.crosscheck import crosscheck_now
from audit.models import AuditEvent
from tests.factories import IdentityFactory, PersonFactory, settle

D = Decimal
TODAY = datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def lead(township, other_township):
    from applications.policy.services import policy_load_preset

    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township, phone="13812345678")
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    settle(person)
    other = PersonFactory(township=other_township)
    IdentityFactory(person=other, category="TK", valid_from=datetime.date(2024, 1, 1))
    settle(other)
    crosscheck_now()
    return Lead.objects.get(person=person)


def test_clerk_sees_only_own_township_leads(client, clerk, lead):
    client.force_login(clerk)
    page = client.get(reverse("applications:lead_list"))
    assert page.status_code == 200
    assert lead.number in page.content.decode()
    assert page.context["totals"]["n"] == 1
    other = Lead.objects.exclude(pk=lead.pk).get()
    assert client.get(reverse("applications:lead_detail", args=[other.pk])).status_code == 404


def test_reviewer_sees_every_township(client, reviewer, lead):
    client.force_login(reviewer)
    assert client.get(reverse("applications:lead_list")).context["totals"]["n"] == 2


def test_finance_has_no_lead_pages(client, finance, lead):
    client.force_login(finance)
    assert client.get(reverse("applications:lead_list")).status_code == 403


def test_export_is_masked_for_roles_without_full_pii(client, approver, lead):
    client.force_login(approver)
    response = client.get(reverse("applications:lead_export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][4] == "身份证号" and len(rows) == 3
    ids = {r[4] for r in rows[1:]}
    assert lead.person.id_number not in ids and all("*" in i for i in ids)
    assert all("****" in r[5] for r in rows[1:] if r[5])
    event = AuditEvent.objects.get(action="lead.export")
    assert event.after["masked"] is True


def test_export_in_full_for_the_clerk_is_audited(client, clerk, lead):
    client.force_login(clerk)
    response = client.get(reverse("applications:lead_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert len(rows) == 2 and rows[1][4] == lead.person.id_number and rows[1][5] == "13812345678"
    assert rows[1][10] == 9600 and rows[1][0] == lead.number
    assert AuditEvent.objects.get(action="lead.export").after["masked"] is False


def test_export_leads_command_writes_full_ids(tmp_path, lead):
    out = tmp_path / "leads.xlsx"
    call_command("export_leads", str(out))
    rows = list(load_workbook(out).active.values)
    assert {r[4] for r in rows[1:]} == {lead.person.id_number, Lead.objects.exclude(pk=lead.pk).get().person.id_number}


def test_clerk_records_contact_and_converts(client, clerk, lead):
    client.force_login(clerk)
    response = client.post(
        reverse("applications:lead_contact", args=[lead.pk]),
        {"contacted_on": "2025-08-31", "method": "phone", "outcome": "agreed", "note": "本人同意"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.outcome == "agreed" and lead.contacts.count() == 1
    response = client.post(reverse("applications:lead_convert", args=[lead.pk]))
    case = Case.objects.get(source=Case.Source.LEAD)
    assert response.url == reverse("applications:case_detail", args=[case.pk])
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.case == case


def test_a_future_contact_date_is_refused_and_nothing_is_written(client, clerk, lead):
    client.force_login(clerk)
    client.post(
        reverse("applications:lead_contact", args=[lead.pk]),
        {"contacted_on": "2025-09-05", "method": "phone", "outcome": "agreed"},
    )
    assert lead.contacts.count() == 0


def test_reviewer_cannot_work_leads(client, reviewer, lead):
    client.force_login(reviewer)
    assert client.post(reverse("applications:lead_convert", args=[lead.pk])).status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.OPEN


def test_clerk_closes_a_lead_with_a_reason(client, clerk, lead):
    client.force_login(clerk)
    client.post(reverse("applications:lead_close", args=[lead.pk]), {"reason": "deceased", "note": ""})
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CLOSED and lead.close_reason == "deceased"
    page = client.get(reverse("applications:lead_detail", args=[lead.pk]))
    assert "已关闭" in page.content.decode() and "convert" not in page.content.decode().split("data-testid=")[-1]


def test_job_page_runs_a_cross_check_on_the_worker_and_shows_its_figures(client, reviewer, lead, task_worker):
    import time

    client.force_login(reviewer)
    response = client.post(reverse("applications:job_run"), {"year": "2025"})
    assert response.status_code == 302
    job = Job.objects.order_by("-pk").first()
    deadline = time.monotonic() + 30
    while job.status != Job.Status.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.year == 2025 and job.requested_by == reviewer
    page = client.get(reverse("applications:job_list"))
    assert page.status_code == 200 and "运行记录" in page.content.decode()


def test_supervisor_sees_jobs_but_cannot_run_them(client, supervisor, lead):
    client.force_login(supervisor)
    assert client.get(reverse("applications:job_list")).status_code == 200
    assert client.post(reverse("applications:job_run"), {}).status_code == 403


def test_admin_edits_the_nightly_schedule(client, admin_user, db):
    client.force_login(admin_user)
    task = PeriodicTask.objects.get(name="主动救助比对（每晚）")
    assert task.task == "applications.crosscheck_nightly" and task.enabled
    client.post(reverse("applications:job_schedule"), {"enabled": "", "hour": "3", "minute": "15"})
    task.refresh_from_db()
    assert not task.enabled and task.crontab.hour == "3" and task.crontab.minute == "15"
    assert AuditEvent.objects.filter(action="job.schedule").exists()
    client.post(reverse("applications:job_schedule"), {"enabled": "on", "hour": "25", "minute": "0"})
    task.refresh_from_db()
    assert not task.enabled and task.crontab.hour == "3"


def test_reviewer_cannot_edit_the_schedule(client, reviewer, db):
    client.force_login(reviewer)
    assert client.post(reverse("applications:job_schedule"), {"hour": "1", "minute": "0"}).status_code == 403


def test_crosscheck_command_prints_a_summary(lead, capsys):
    call_command("crosscheck", "--year", "2025")
    out = capsys.readouterr().out
    assert "比对完成" in out and "预计救助金额合计" in out


def test_the_list_shows_the_latest_contact_outcome(client, clerk, lead):
    from applications.proactive.services import lead_record_contact

    lead_record_contact(
        lead=lead, user=clerk, contacted_on=datetime.date(2025, 8, 30), method="phone", outcome="unreachable"
    )
    client.force_login(clerk)
    assert "联系不上" in client.get(reverse("applications:lead_list")).content.decode()


def test_an_empty_lead_list_renders(client, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("applications:lead_list"))
    assert page.status_code == 200 and "0.00 元" in page.content.decode()
