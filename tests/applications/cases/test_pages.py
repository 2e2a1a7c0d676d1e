import datetime

import pytest
import time_machine
from django.urls import reverse

from applications.models import Case, LedgerEntry
from applications.policy.services import policy_load_preset
from tests.applications.cases.queue import approve_through_queue
from tests.conftest import accept_with_every_material, client_for
from tests.factories import IdentityFactory, PersonFactory


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def person(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township, name="王秀英")
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person


BILL = {
    "hospital": "广州市第一人民医院",
    "visit_type": "住院",
    "admitted_on": "2025-06-01",
    "discharged_on": "2025-06-10",
    "visit_on": "",
    "invoice_number": "F0001",
    "settlement_number": "",
    "total": "42000",
    "in_policy": "38000",
    "basic": "20000",
    "critical": "6000",
    "other": "",
    "donation": "",
    "diagnosis": "",
}


def test_case_goes_from_window_to_approval_through_the_pages(client, clerk, reviewer, approver, person):
    client_for(client, clerk)
    response = client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    assert response.url == reverse("applications:case_detail", args=[case.pk])
    client.post(reverse("applications:case_add_bill", args=[case.pk]), BILL)
    assert case.bills.count() == 1
    accept_with_every_material(client, case)
    client.post(reverse("applications:case_action", args=[case.pk, "submit"]))
    client_for(client, reviewer)
    client.post(reverse("applications:case_action", args=[case.pk, "review"]), {"comment": "材料齐全"})
    page = client.get(reverse("applications:case_detail", args=[case.pk])).text
    assert "9,600.00 元" in page and 'data-testid="calculation"' in page
    client_for(client, approver)
    response = client.post(reverse("applications:case_action", args=[case.pk, "approve"]), follow=True)
    assert "已批准" in response.text
    assert LedgerEntry.objects.get(person=person).granted == 9600


def test_bad_bill_is_refused_with_a_message(clerk_client, person):
    clerk_client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    response = clerk_client.post(
        reverse("applications:case_add_bill", args=[case.pk]), {**BILL, "in_policy": "50000"}, follow=True
    )
    assert "政策范围内费用不能大于医疗总费用" in response.text
    assert not case.bills.exists()


def test_clerk_of_another_township_gets_404(client, clerk, outsider, person):
    client_for(client, clerk)
    client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    client_for(client, outsider)
    assert client.get(reverse("applications:case_detail", args=[case.pk])).status_code == 404
    assert client.post(reverse("applications:case_action", args=[case.pk, "withdraw"])).status_code == 404
    listing = client.get(reverse("applications:case_list")).text
    assert reverse("applications:case_detail", args=[case.pk]) not in listing


def test_reviewer_cannot_approve_through_the_page(client, clerk, reviewer, person):
    client_for(client, clerk)
    client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    client.post(reverse("applications:case_add_bill", args=[case.pk]), BILL)
    accept_with_every_material(client, case)
    client.post(reverse("applications:case_action", args=[case.pk, "submit"]))
    client_for(client, reviewer)
    client.post(reverse("applications:case_action", args=[case.pk, "review"]))
    response = client.post(reverse("applications:case_action", args=[case.pk, "approve"]))
    assert response.status_code == 403
    assert Case.objects.get().status == Case.Status.APPROVAL


def test_the_overdue_filter_lists_a_case_past_its_deadline_and_due_soon_does_not(reviewer_client, clerk, person):
    from applications.cases.services import case_accept, case_add_bill, case_create

    case = case_create(person=person, user=clerk)
    from decimal import Decimal

    money = {k: Decimal(BILL[k]) for k in ("total", "in_policy", "basic", "critical")}
    case_add_bill(
        case=case,
        user=clerk,
        hospital=BILL["hospital"],
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        invoice_number="F0001",
        **money,
    )
    case_accept(case=case, user=clerk)
    Case.objects.filter(pk=case.pk).update(due_on=datetime.date(2025, 8, 29))
    url = reverse("applications:case_list")
    assert case.number in reviewer_client.get(url, {"due": "overdue"}).text
    assert case.number not in reviewer_client.get(url, {"due": "soon"}).text


def _ready_for_approval(person, clerk, reviewer, invoice, start):
    from decimal import Decimal

    from applications.cases.services import case_accept, case_add_bill, case_create, case_review, case_submit

    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="广州市第一人民医院",
        visit_type="住院",
        admitted_on=start,
        discharged_on=start + datetime.timedelta(days=3),
        invoice_number=invoice,
        total=Decimal("5000"),
        in_policy=Decimal("4000"),
        basic=Decimal("2000"),
    )
    case_accept(case=case, user=clerk)
    case_submit(case=case, user=clerk)
    return case_review(case=case, user=reviewer)


def test_bulk_approval_approves_each_and_explains_refusals(client, clerk, reviewer, approver, person):
    from audit.models import AuditEvent

    a = _ready_for_approval(person, clerk, reviewer, "A1", datetime.date(2025, 3, 1))
    b = _ready_for_approval(person, clerk, reviewer, "B1", datetime.date(2025, 4, 1))
    dup = _ready_for_approval(person, clerk, reviewer, "A1", datetime.date(2025, 5, 1))
    client_for(client, approver)
    queue = client.get(reverse("applications:approval_queue")).text
    assert a.number in queue and dup.number in queue
    response = approve_through_queue(client, [a.pk, b.pk, dup.pk])
    # a and dup claim the same invoice: neither may be approved until one is resolved; b goes through
    assert Case.objects.get(pk=b.pk).status == Case.Status.APPROVED
    assert Case.objects.get(pk=a.pk).status == Case.Status.APPROVAL
    assert "发票 A1" in response.text and b.number in response.text
    assert AuditEvent.objects.filter(action="case.approve").count() == 1


def test_home_shows_the_approval_queue_to_the_approver_not_to_the_clerk(client, clerk, reviewer, approver, person):
    _ready_for_approval(person, clerk, reviewer, "Q1", datetime.date(2025, 3, 1))
    client_for(client, approver)
    html = client.get("/").text
    assert 'data-testid="queues"' in html and "待审批" in html
    client_for(client, clerk)
    html = client.get("/").text
    assert "草稿（待受理）" in html and "待审批" not in html


def test_case_list_query_count_does_not_grow_with_cases(
    reviewer_client, clerk, reviewer, person, django_assert_max_num_queries
):
    for i in range(3):
        _ready_for_approval(
            person, clerk, reviewer, f"N{i}", datetime.date(2025, 1, 1) + datetime.timedelta(days=10 * i)
        )
    url = reverse("applications:case_list")
    reviewer_client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(12) as few:
        reviewer_client.get(url)
    for i in range(3, 9):
        _ready_for_approval(
            person, clerk, reviewer, f"N{i}", datetime.date(2025, 1, 1) + datetime.timedelta(days=10 * i)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        reviewer_client.get(url)


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _draft(client, clerk, person):
    client_for(client, clerk)
    client.post(reverse("applications:case_new", args=[person.pk]))
    return Case.objects.get()


def test_scan_is_stored_outside_static_and_served_only_to_who_may_see_it(
    client, clerk, outsider, reviewer, person, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = _draft(client, clerk, person)
    client.post(
        reverse("applications:case_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("发票.pdf", PDF), "material": "住院（门诊）医疗费用发票"},
    )
    attachment = case.attachments.get()
    assert attachment.content_type == "application/pdf" and attachment.material == "住院（门诊）医疗费用发票"
    assert str(settings.MEDIA_ROOT) in attachment.file.path and "static" not in attachment.file.path
    url = reverse("applications:case_attachment", args=[case.pk, attachment.pk])
    client_for(client, reviewer)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    client_for(client, outsider)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("发票.pdf", PNG, "内容与扩展名不符"),
        ("病历.png", b"MZ\x90\x00 this is a program", "只接受 PDF、JPEG 或 PNG"),
        ("空.pdf", b"", "文件是空的"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(client, clerk, person, name, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = _draft(client, clerk, person)
    response = client.post(
        reverse("applications:case_upload", args=[case.pk]), {"file": SimpleUploadedFile(name, content)}, follow=True
    )
    assert message in response.text
    assert not case.attachments.exists()


def test_oversized_scan_is_refused(client, clerk, person, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.cases import attachments

    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 1000)
    case = _draft(client, clerk, person)
    response = client.post(
        reverse("applications:case_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("大.pdf", PDF + b"0" * 2000)},
        follow=True,
    )
    assert "文件过大" in response.text and not case.attachments.exists()


def test_one_notice_lists_every_missing_material(client, clerk, person):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = _draft(client, clerk, person)
    client.post(
        reverse("applications:case_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("发票.pdf", PDF), "material": "住院（门诊）医疗费用发票"},
    )
    html = client.get(reverse("applications:case_notice", args=[case.pk])).text
    assert "一次性告知书" in html and "费用清单" in html and "银行账户信息" in html
    assert "<li>住院（门诊）医疗费用发票</li>" not in html  # supplied


def test_approval_sheet_prints_the_calculation(client, clerk, reviewer, approver, person):
    case = _ready_for_approval(person, clerk, reviewer, "P1", datetime.date(2025, 3, 1))
    client_for(client, approver)
    html = client.get(reverse("applications:case_print", args=[case.pk])).text
    assert "审批表" in html and "救助比例" in html and "签字" in html
    assert person.id_number not in html


def test_second_of_two_concurrent_edits_is_refused_not_lost(client, clerk, person, township):
    from tests.factories import UserFactory

    case = _draft(client, clerk, person)
    url = reverse("applications:case_edit", args=[case.pk])
    form = {
        "agent_name": "王小明",
        "agent_id_number": "",
        "agent_relation": "儿子",
        "payee_name": person.name,
        "payee_bank": "中国农业银行高州支行",
        "payee_account": "6228480000111122223",
        "revision": str(case.revision),
    }
    colleague = UserFactory(username="colleague", role="clerk", township=township)
    # both open the form at the same revision; the colleague saves first
    client_for(client, colleague)
    assert client.post(url, {**form, "agent_relation": "女儿"}).status_code == 302
    client_for(client, clerk)
    response = client.post(url, form)
    assert response.status_code == 200 and "已被他人修改" in response.text
    case.refresh_from_db()
    assert case.agent_relation == "女儿" and case.agent_name == "王小明"


def test_the_case_form_refuses_a_bad_account_and_saves_the_signed_commitment(clerk_client, clerk, person):
    clerk_client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    url = reverse("applications:case_edit", args=[case.pk])
    base = {
        "agent_name": "",
        "agent_id_number": "",
        "agent_relation": "",
        "payee_name": "x",
        "payee_bank": "y",
        "revision": str(case.revision),
    }
    response = clerk_client.post(url, {**base, "new_account": "6228-48a", "new_account_again": "6228-48a"})
    assert "银行账号只能由数字组成" in response.text
    response = clerk_client.post(url, {**base, "new_account": "6214 5899 4509 3269 14"})
    assert "两次输入的银行账号不一致" in response.text
    response = clerk_client.post(url, {**base, "new_account": "62145899", "new_account_again": "62145899"})
    assert "12 至 30 位数字" in response.text
    account = "6228480000111122223"
    clerk_client.post(url, {**base, "new_account": account, "new_account_again": account, "commitment_signed": "on"})
    case.refresh_from_db()
    assert case.commitment_signed and case.payee_account == account
    # The form never shows the account in full, and an empty entry keeps it.
    page = clerk_client.get(url).text
    assert account not in page and "6228***********2223" in page
    clerk_client.post(url, {**base, "revision": str(case.revision), "agent_name": "王小明"})
    case.refresh_from_db()
    assert case.payee_account == account and case.agent_name == "王小明"


def test_case_list_filters_by_acceptance_date(reviewer_client, clerk, reviewer, person):
    case = _ready_for_approval(person, clerk, reviewer, "D1", datetime.date(2025, 3, 1))
    url = reverse("applications:case_list")
    assert case.number in reviewer_client.get(url, {"accepted_from": "2025-09-01", "accepted_to": "2025-09-01"}).text
    assert case.number not in reviewer_client.get(url, {"accepted_from": "2025-09-02"}).text


def test_bill_table_shows_running_totals(client, clerk, person):
    case = _draft(client, clerk, person)
    client.post(reverse("applications:case_add_bill", args=[case.pk]), BILL)
    client.post(
        reverse("applications:case_add_bill", args=[case.pk]),
        {**BILL, "invoice_number": "F0002", "admitted_on": "2025-07-01", "discharged_on": "2025-07-03"},
    )
    html = client.get(reverse("applications:case_detail", args=[case.pk])).text
    assert "合计 2 张" in html and "84,000.00 元" in html


def test_the_new_applicant_page_refuses_a_bad_id_and_registers_with_the_identity_pending(clerk_client, person):
    from tests.factories import valid_id_number

    url = reverse("applications:case_new_applicant")
    bad = clerk_client.post(url, {"id_number": "123", "name": "张三"})
    assert "身份证号应为 18 位" in bad.text
    response = clerk_client.post(
        url, {"id_number": valid_id_number(datetime.date(1966, 6, 6)), "name": "张三"}, follow=True
    )
    assert "身份待核实" in response.text


ROLE_ACTIONS = {
    # role fixture: actions it may take (every other action answers 403)
    "clerk": {"submit", "withdraw"},
    "reviewer": {"review", "return"},
    "approver": {"approve", "reject"},
    "finance": set(),
    "supervisor": set(),
}


@pytest.mark.parametrize("role", [*ROLE_ACTIONS, "outsider", "admin_user"])
@pytest.mark.parametrize("action", ["submit", "withdraw", "review", "return", "approve", "reject"])
def test_each_action_answers_only_the_roles_that_may_take_it(request, client, clerk, person, role, action):
    case = _draft(client, clerk, person)
    user = request.getfixturevalue(role)
    client_for(client, user)
    response = client.post(reverse("applications:case_action", args=[case.pk, action]), {"comment": "意见"})
    if role == "admin_user":
        assert response.status_code == 403  # configuration role: no case access at all
    elif role == "outsider":
        assert response.status_code == 404  # another township's case does not exist for them
    elif action in ROLE_ACTIONS[role]:
        assert response.status_code == 302  # allowed: the service then checks the state
    else:
        assert response.status_code == 403
