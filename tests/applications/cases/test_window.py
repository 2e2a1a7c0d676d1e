"""The window's daily work: the materials checklist and 容缺受理, one draft per person, bills corrected, duplicates
seen at entry, the review's calculation before the confirm, the 受理回执 and the person's history."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.cases import materials
from applications.cases.calculation import case_calculate
from applications.cases.services import case_accept, case_add_bill, case_create, case_review, case_submit
from applications.cases.workflow import TransitionRefused
from applications.models import Case
from applications.policy.presets import KEY_MATERIALS, MATERIALS
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from tests.conftest import accept_with_every_material, client_for
from tests.factories import IdentityFactory, PersonFactory

S = Case.Status
TODAY = datetime.date(2025, 9, 1)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
NON_KEY = [m for m in MATERIALS if m not in KEY_MATERIALS]


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


def bill(case, user, invoice="F0001", start=datetime.date(2025, 6, 1), total="42000"):
    return case_add_bill(
        case=case,
        user=user,
        hospital="广州市第一人民医院",
        visit_type="住院",
        admitted_on=start,
        discharged_on=start + datetime.timedelta(days=9),
        invoice_number=invoice,
        total=Decimal(total),
        in_policy=Decimal(total) * Decimal("0.9"),
        basic=Decimal(total) * Decimal("0.4"),
    )


def draft_with_bill(person, clerk, **kwargs):
    case = case_create(person=person, user=clerk)
    bill(case, clerk, **kwargs)
    return case


def post_materials(client, case, supplied, do="save", deadline=""):
    return client.post(
        reverse("applications:case_materials", args=[case.pk]),
        {"supplied": supplied, "do": do, "materials_deadline": deadline},
        follow=True,
    )


# --- the checklist and 容缺受理 ------------------------------------------------------------------------


def test_the_notice_lists_exactly_the_materials_not_ticked(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    page = client.get(reverse("applications:case_detail", args=[case.pk])).text
    assert 'data-testid="checklist"' in page and page.count('name="supplied"') == len(MATERIALS)
    ticked = ["医疗救助申请表", "费用清单"]
    post_materials(client, case, ticked)
    case.refresh_from_db()
    assert case.materials_supplied == ticked
    notice = client.get(reverse("applications:case_notice", args=[case.pk])).text
    listed = [m for m in MATERIALS if f"<li>{m}</li>" in notice]
    assert listed == [m for m in MATERIALS if m not in ticked]
    assert AuditEvent.objects.filter(action="case.materials").count() == 1


def test_a_scan_is_uploaded_for_a_listed_material_and_ticks_it(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    url = reverse("applications:case_upload", args=[case.pk])
    client.post(url, {"file": SimpleUploadedFile("fp.pdf", PDF), "material": "住院（门诊）医疗费用发票"})
    case.refresh_from_db()
    assert case.materials_supplied == ["住院（门诊）医疗费用发票"]
    notice = client.get(reverse("applications:case_notice", args=[case.pk])).text
    assert "<li>住院（门诊）医疗费用发票</li>" not in notice and "<li>费用清单</li>" in notice
    # A free-text name (the old form's 住院发票) is not a listed material: refused, nothing stored.
    response = client.post(url, {"file": SimpleUploadedFile("fp2.pdf", PDF), "material": "住院发票"}, follow=True)
    assert "材料清单中没有“住院发票”" in response.text and case.attachments.count() == 1


def test_accepting_with_every_material_ticked_is_a_plain_acceptance(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    response = accept_with_every_material(client, case)
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.missing_materials == [] and case.materials_supplied == MATERIALS
    assert "已受理，办结期限" in response.text


def test_unticked_non_key_materials_make_it_acceptance_pending_with_a_deadline(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    ticked = [m for m in MATERIALS if m not in ("费用清单", "银行账户信息")]
    response = post_materials(client, case, ticked, do="accept", deadline="")
    case.refresh_from_db()
    assert case.status == S.DRAFT and "容缺受理须写明补齐材料的期限" in response.text
    post_materials(client, case, ticked, do="accept", deadline="2025-08-31")
    case.refresh_from_db()
    assert case.status == S.DRAFT  # a deadline in the past is refused
    post_materials(client, case, ticked, do="accept", deadline="2025-09-15")
    case.refresh_from_db()
    assert case.status == S.ACCEPTED_PENDING
    assert case.missing_materials == ["费用清单", "银行账户信息"]
    assert case.materials_deadline == datetime.date(2025, 9, 15)
    notice = client.get(reverse("applications:case_notice", args=[case.pk])).text
    assert [m for m in MATERIALS if f"<li>{m}</li>" in notice] == ["费用清单", "银行账户信息"]
    assert "2025年9月15日" in notice


def test_a_missing_key_material_cannot_be_accepted_at_all(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    ticked = [m for m in MATERIALS if m != "申请人身份证或户口簿"]
    response = post_materials(client, case, ticked, do="accept", deadline="2025-09-15")
    case.refresh_from_db()
    assert case.status == S.DRAFT and "缺少关键材料：申请人身份证或户口簿" in response.text
    assert case.materials_supplied == ticked  # the ticks are kept for the notice
    with pytest.raises(TransitionRefused, match="不在|没有"):
        case_accept(case=case, user=clerk, supplied=["一份不在清单里的材料"])


def test_supplements_are_ticked_off_and_a_complete_case_becomes_accepted(client, clerk, person):
    case = draft_with_bill(person, clerk)
    case_accept(case=case, user=clerk, supplied=MATERIALS[:3], materials_deadline=datetime.date(2025, 9, 20))
    case.refresh_from_db()
    assert case.status == S.ACCEPTED_PENDING and case.missing_materials == MATERIALS[3:]
    client_for(client, clerk)
    url = reverse("applications:case_supplement", args=[case.pk])
    response = client.post(url, {"supplied": [MATERIALS[3]]}, follow=True)
    case.refresh_from_db()
    assert case.status == S.ACCEPTED_PENDING and case.missing_materials == MATERIALS[4:]
    assert "仍缺" in response.text
    response = client.post(url, {"supplied": ["医疗救助申请表"]}, follow=True)
    assert "不在待补齐清单中" in response.text
    client.post(url, {"supplied": MATERIALS[4:]})
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.missing_materials == [] and case.materials_deadline is None
    last = case.transitions.order_by("-pk").first()
    assert (last.from_status, last.to_status) == (S.ACCEPTED_PENDING, S.ACCEPTED) and "材料已齐全" in last.comment


def test_a_missing_material_may_be_uploaded_after_submission_and_supplements_it(client, clerk, person):
    case = draft_with_bill(person, clerk)
    case_accept(case=case, user=clerk, missing_materials=["费用清单"], materials_deadline=datetime.date(2025, 9, 20))
    case_submit(case=case, user=clerk)
    client_for(client, clerk)
    url = reverse("applications:case_upload", args=[case.pk])
    response = client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF), "material": "医疗救助申请表"}, follow=True)
    assert "只能上传待补齐的容缺材料" in response.text
    client.post(url, {"file": SimpleUploadedFile("qd.pdf", PDF), "material": "费用清单"})
    case.refresh_from_db()
    assert case.status == S.REVIEW and case.missing_materials == [] and case.attachments.count() == 1


def test_overdue_supplements_show_in_the_clerks_queue(client, clerk, person):
    case = draft_with_bill(person, clerk)
    case_accept(case=case, user=clerk, missing_materials=["费用清单"], materials_deadline=datetime.date(2025, 9, 5))
    assert not Case.objects.materials_overdue(TODAY).exists()
    later = datetime.date(2025, 9, 8)
    assert list(Case.objects.materials_overdue(later)) == [case]
    with time_machine.travel(datetime.datetime(2025, 9, 8, 10, 0, tzinfo=datetime.UTC), tick=False):
        client_for(client, clerk)
        home = client.get("/").text
        assert 'data-testid="materials-overdue"' in home and case.number in home
        page = client.get(reverse("applications:case_detail", args=[case.pk])).text
        assert "已逾期" in page


# --- drafts and bills ----------------------------------------------------------------------------------


def test_a_second_press_of_the_new_case_button_asks_first(client, clerk, person):
    client_for(client, clerk)
    url = reverse("applications:case_new", args=[person.pk])
    client.post(url)
    first = Case.objects.get()
    page = client.post(url)
    assert page.status_code == 200 and 'data-testid="open-draft"' in page.text
    assert reverse("applications:case_detail", args=[first.pk]) in page.text
    assert Case.objects.count() == 1
    client.post(url, {"another_draft": "1"})
    assert Case.objects.filter(person=person, status=S.DRAFT).count() == 2


def test_a_bill_is_corrected_and_removed_while_at_the_window_and_audited(client, clerk, reviewer, person):
    case = draft_with_bill(person, clerk)
    entered = case.bills.get()
    client_for(client, clerk)
    edit = reverse("applications:bill_edit", args=[case.pk, entered.pk])
    form = client.get(edit).text
    assert 'value="F0001"' in form and 'value="2025-06-01"' in form
    fields = {
        "hospital": "广州市第一人民医院",
        "visit_type": "住院",
        "admitted_on": "2025-06-01",
        "discharged_on": "2025-06-10",
        "invoice_number": "F0001",
        "total": "40000",
        "in_policy": "36000",
        "basic": "16000",
    }
    bad = client.post(edit, {**fields, "in_policy": "50000"})
    assert "政策范围内费用不能大于医疗总费用" in bad.text
    entered.refresh_from_db()
    assert entered.total == Decimal("42000.00")
    client.post(edit, fields)
    entered.refresh_from_db()
    assert entered.total == Decimal("40000.00") and entered.in_policy == Decimal("36000.00")
    event = AuditEvent.objects.get(action="case.update_bill")
    assert event.before["total"] == "42000.00" and event.after["total"] == "40000.00"
    client.post(reverse("applications:bill_remove", args=[case.pk, entered.pk]))
    assert not case.bills.exists()
    assert AuditEvent.objects.get(action="case.remove_bill").before["invoice_number"] == "F0001"
    # Once submitted, bills are the county's to judge: no more edits from the window.
    other = case_create(person=person, user=clerk, another_draft=True)
    bill(other, clerk, invoice="F0002")
    case_accept(case=other, user=clerk)
    case_submit(case=other, user=clerk)
    kept = other.bills.get()
    response = client.post(reverse("applications:bill_remove", args=[other.pk, kept.pk]), follow=True)
    assert "只有草稿或退回补正的案件可以修改就诊记录" in response.text and other.bills.exists()


def test_a_duplicate_invoice_is_shown_at_entry_with_a_link_and_what_to_do(client, clerk, outsider, person):
    first = draft_with_bill(person, clerk, invoice="DUP-1")
    case_accept(case=first, user=clerk)
    second = case_create(person=person, user=clerk)
    bill(second, clerk, invoice="DUP-1", start=datetime.date(2025, 7, 1))
    client_for(client, clerk)
    page = client.get(reverse("applications:case_detail", args=[second.pk])).text
    assert 'data-testid="duplicates"' in page and "录入提醒" in page
    assert f'href="{reverse("applications:case_detail", args=[first.pk])}"' in page
    assert "处理办法：" in page and "请删除本案件中的这张就诊记录" in page


def test_two_drafts_with_one_invoice_warn_too(client, clerk, person):
    first = draft_with_bill(person, clerk, invoice="DUP-2")
    second = case_create(person=person, user=clerk, another_draft=True)
    bill(second, clerk, invoice="DUP-2", start=datetime.date(2025, 7, 1))
    client_for(client, clerk)
    page = client.get(reverse("applications:case_detail", args=[second.pk])).text
    assert f"已在案件 {first.number}中申请" in page


# --- the review shows its amount before the confirm ----------------------------------------------------


def test_the_reviewer_sees_the_calculation_before_confirming(client, clerk, reviewer, person):
    case = draft_with_bill(person, clerk)
    case_accept(case=case, user=clerk)
    case_submit(case=case, user=clerk)
    client_for(client, reviewer)
    page = client.get(reverse("applications:case_detail", args=[case.pk])).text
    case.refresh_from_db()
    assert case.status == S.REVIEW and case.proposed_amount is None  # the page computed, saved nothing
    assert 'data-testid="review-preview"' in page and "拟救助" in page
    preview = case_calculate(case).amount
    assert f'name="expected_amount" value="{preview}"' in page
    # The amount confirmed must be the amount proposed: a different one (the ledger moved) is refused.
    response = client.post(
        reverse("applications:case_action", args=[case.pk, "review"]),
        {"expected_amount": str(preview - 1)},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == S.REVIEW and "计算结果已变为" in response.text
    client.post(reverse("applications:case_action", args=[case.pk, "review"]), {"expected_amount": str(preview)})
    case.refresh_from_db()
    assert case.status == S.APPROVAL and case.proposed_amount == preview


# --- receipt and person page ---------------------------------------------------------------------------


def test_the_receipt_gives_the_case_number_and_the_promised_date(client, clerk, person):
    case = draft_with_bill(person, clerk)
    client_for(client, clerk)
    response = client.get(reverse("applications:case_receipt", args=[case.pk]), follow=True)
    assert "案件尚未受理，没有受理回执" in response.text
    case_accept(case=case, user=clerk, missing_materials=["费用清单"], materials_deadline=datetime.date(2025, 9, 20))
    case.refresh_from_db()
    receipt = client.get(reverse("applications:case_receipt", args=[case.pk])).text
    assert case.number in receipt and f"{case.due_on.year}年{case.due_on.month}月{case.due_on.day}日" in receipt
    assert "待补齐的材料" in receipt and "<li>费用清单</li>" in receipt and "2025年9月20日" in receipt


def test_the_person_page_lists_cases_and_their_history(client, clerk, reviewer, person):
    case = draft_with_bill(person, clerk)
    case_accept(case=case, user=clerk)
    case_submit(case=case, user=clerk)
    case_review(case=case, user=reviewer)
    client_for(client, clerk)
    page = client.get(reverse("recipients:person_detail", args=[person.pk])).text
    assert 'data-testid="person-cases"' in page and case.number in page
    moved = f"案件 {case.number}：{S.REVIEW.label} → {S.APPROVAL.label}"
    assert 'data-testid="person-history"' in page and moved in page


def test_key_materials_must_be_on_the_list(township):
    from applications.policy.forms import PolicyVersionForm

    form = PolicyVersionForm(
        {
            "name": "测试",
            "effective_from": "2025-01-01",
            "time_limit_working_days": "30",
            "materials_text": "申请表\n发票",
            "key_materials_text": "申请表\n身份证",
        }
    )
    assert not form.is_valid() and "不在申请材料清单中：身份证" in str(form.errors["key_materials_text"])
    form = PolicyVersionForm(
        {
            "name": "测试",
            "effective_from": "2025-01-01",
            "time_limit_working_days": "30",
            "materials_text": "申请表\n发票",
            "key_materials_text": "发票",
        }
    )
    assert form.is_valid(), form.errors
    assert form.extra_fields()["key_materials"] == ["发票"]
    assert materials.OTHER == "其他材料"
