"""The audit log never shows full bank accounts, ID numbers or phones, on the portal page or in 系统管理."""

import pytest
from django.urls import reverse

from audit.services import audit_record
from recipients.idnumber import mask_summary, mask_text
from tests.conftest import client_for
from tests.factories import valid_id_number

ACCOUNT_OLD, ACCOUNT_NEW = "6228480000123456789", "6214589945093269014"


@pytest.fixture
def corrected(db):
    return audit_record(
        actor=None,
        action="payout.correct_payee",
        object_type="applications.case",
        object_id="1",
        object_repr="LX2026000001",
        before={"payee_name": "张三", "payee_account": ACCOUNT_OLD},
        after={"payee_name": "张三", "payee_account": ACCOUNT_NEW, "phone": "13812345678"},
        comment=f"银行退回：原账号 {ACCOUNT_OLD} 已销户，新账号 6214 5899 4509 3269 014",
    )


def test_the_audit_page_masks_accounts_in_summaries_and_comments(client, supervisor, corrected):
    client_for(client, supervisor)
    page = client.get(reverse("audit:event_list"), {"action": "payout.correct_payee"}).text
    assert ACCOUNT_OLD not in page and ACCOUNT_NEW not in page and "13812345678" not in page
    assert "6228***********6789" in page and "6214***********9014" in page and "138****5678" in page
    assert "62145899450932" not in page.replace(" ", "")


def test_the_admin_change_page_of_an_audit_row_is_masked(client, admin_user, corrected):
    admin_user.is_superuser = True
    admin_user.save()
    client_for(client, admin_user)
    page = client.get(reverse("admin:audit_auditevent_change", args=[corrected.pk])).text
    assert ACCOUNT_OLD not in page and ACCOUNT_NEW not in page and "6228***********6789" in page


def test_masking_finds_ids_accounts_and_phones_in_text():
    number = valid_id_number()
    text = mask_text(f"身份证 {number}，电话 13812345678，账号 6228 4800 0012 3456 789")
    assert number not in text and "13812345678" not in text and "0012 3456" not in text
    assert number[:4] in text and number[-4:] in text
    assert mask_summary({"amount": "9600.00", "year": 2026}) == {"amount": "9600.00", "year": 2026}
    # The portal's own numbers are left as they are.
    assert mask_text("线索 XS202500000123、案件 EC2025000001230") == "线索 XS202500000123、案件 EC2025000001230"
