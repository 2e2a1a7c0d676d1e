"""抵扣: what a person owes kept back from their next payout line — on the batch, in the bank file's 摘要 and on the
case; recovered once the bank pays the line, released when it fails; never on a batch already locked or exported."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from applications.models import Case, LedgerEntry
from payouts import services as ps
from payouts.models import PayoutLine
from recipients.demo import to_csv
from supervision.models import Reason, Recovery, Repayment
from supervision.offsets import offset_apply, offset_cancel
from supervision.recoveries import RecoveryRefused, recovery_create
from tests.conftest import client_for

from .conftest import db_person, paid_case

D = Decimal
RETURN_HEADERS = ["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"]


@pytest.fixture
def owing(funded, maoming, township, clerk, reviewer, approver):
    """A person with a paid case (9,600.00) who owes 3,000.00 of it back, and a second case approved and waiting
    for its payout (an outpatient visit: 80 % of E 5,000 = 4,000.00)."""
    person = db_person(township)
    case = paid_case(person, clerk=clerk, reviewer=reviewer, approver=approver)
    recovery = recovery_create(
        case=case, user=reviewer, reason=Reason.CALCULATION, amount=D("3000"), note="多算", offset_next=True
    )
    from applications.cases.services import case_approve
    from tests.factories import bill_on, case_in_approval

    bill = bill_on(
        datetime.date(2026, 9, 1),
        visit_type="门诊",
        invoice="M2",
        total=D("6000"),
        in_policy=D("6000"),
        basic=D("1000"),
    )
    second = case_approve(case=case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill]), user=approver)
    assert second.approved_amount == D("4000.00")
    return recovery, second


def bank_return(batch, results=None):
    rows = [
        [line.reference, line.payee_account, str(line.amount), (results or {}).get(line.case_id, "成功"), ""]
        for line in batch.lines.filter(amount__gt=0).order_by("reference")
    ]
    return to_csv(rows, headers=RETURN_HEADERS)


def through_the_bank(batch, finance, finance2, results=None):
    batch = ps.batch_review(batch=ps.batch_lock(batch=batch, user=finance), user=finance2)
    content = ps.batch_export(batch=batch, user=finance)
    ps.bank_return_import(batch=batch, user=finance, file_name="回盘.csv", content=bank_return(batch, results))
    return content


def test_the_next_batch_keeps_back_what_is_owed_and_the_bank_file_says_so(owing, finance, finance2):
    recovery, second = owing
    batch = ps.batch_create(user=finance)
    line = batch.lines.get(case=second)
    assert (line.amount, line.offset, line.gross) == (D("1000.00"), D("3000.00"), D("4000.00"))
    assert batch.total == D("1000.00")
    recovery.refresh_from_db()
    assert (recovery.offset_pending, recovery.due, recovery.status) == (
        D("3000.00"),
        D("0.00"),
        Recovery.Status.PENDING,
    )
    content = through_the_bank(batch, finance, finance2)
    sheet = load_workbook(io.BytesIO(content))["代发明细"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[7] == line.reference)
    assert row[4] == 1000 and row[6] == "医疗救助金（已抵扣追回款 3,000.00 元）"
    summary = [
        r for r in load_workbook(io.BytesIO(content))["汇总"].iter_rows(values_only=True) if r[0] == "抵扣追回款"
    ]
    assert summary and "3,000.00 元" in summary[0][1]
    recovery.refresh_from_db()
    assert (recovery.recovered, recovery.offset_pending, recovery.status) == (D("3000.00"), D("0.00"), "recovered")
    repayment = recovery.repayments.get()
    assert (repayment.kind, repayment.status, repayment.reference) == ("offset", "done", line.reference)
    assert Case.objects.get(pk=second.pk).status == Case.Status.PAID
    # The first case's ledger gave back what the offset recovered.
    assert LedgerEntry.objects.get(person=recovery.person, year=2026, pool="住院").granted == D("6600.00")


def test_the_offset_is_shown_on_the_batch_and_on_the_case(client, owing, finance):
    recovery, second = owing
    batch = ps.batch_create(user=finance)
    page = client_for(client, finance).get(reverse("payouts:batch_detail", args=[batch.pk])).text
    assert 'data-testid="batch-offsets"' in page and 'data-testid="line-offset">3,000.00 元' in page
    page = client.get(reverse("applications:case_detail", args=[second.pk])).text
    assert "已抵扣追回款 3,000.00 元" in page
    page = client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).text
    assert "抵扣待发放确认" in page and batch.lines.get(case=second).reference in page


def test_a_failed_line_releases_its_offset_and_the_amount_is_owed_again(owing, finance, finance2):
    recovery, second = owing
    batch = ps.batch_create(user=finance)
    through_the_bank(batch, finance, finance2, results={second.pk: "失败"})
    recovery.refresh_from_db()
    assert (recovery.offset_pending, recovery.recovered, recovery.due) == (D("0.00"), D("0.00"), D("3000.00"))
    assert recovery.repayments.get().status == Repayment.Status.RELEASED
    assert LedgerEntry.objects.get(person=recovery.person, year=2026, pool="住院").granted == D("9600.00")


def test_a_removed_line_or_a_cancelled_batch_releases_its_offset(owing, finance):
    recovery, second = owing
    batch = ps.batch_create(user=finance)
    ps.batch_remove_line(batch=batch, line_id=batch.lines.get(case=second).pk, user=finance, reason="核对")
    recovery.refresh_from_db()
    assert recovery.due == D("3000.00")
    batch = ps.batch_create(user=finance)  # the case is back in the pool: the offset is made again
    assert batch.lines.get(case=second).offset == D("3000.00")
    ps.batch_cancel(batch=batch, user=finance, reason="重做")
    recovery.refresh_from_db()
    assert recovery.due == D("3000.00") and recovery.repayments.filter(status="released").count() == 2


def test_an_offset_against_a_locked_or_exported_batch_is_refused(owing, finance, finance2):
    recovery, second = owing
    Recovery.objects.filter(pk=recovery.pk).update(offset_next=False)
    batch = ps.batch_create(user=finance)
    line = batch.lines.get(case=second)
    batch = ps.batch_lock(batch=batch, user=finance)
    with pytest.raises(RecoveryRefused, match="已锁定"):
        offset_apply(recovery=recovery, line_id=line.pk, amount=D("100"), user=finance)
    batch = ps.batch_review(batch=batch, user=finance2)
    ps.batch_export(batch=batch, user=finance)
    with pytest.raises(RecoveryRefused, match="已导出代发文件，不能再在其中抵扣"):
        offset_apply(recovery=recovery, line_id=line.pk, amount=D("100"), user=finance)
    assert PayoutLine.objects.get(pk=line.pk).offset == 0


def test_an_offset_larger_than_what_is_owed_or_paid_or_of_another_person_is_refused(
    owing, finance, maoming, township, clerk, reviewer, approver
):
    recovery, second = owing
    Recovery.objects.filter(pk=recovery.pk).update(offset_next=False)
    batch = ps.batch_create(user=finance)
    line = batch.lines.get(case=second)
    with pytest.raises(RecoveryRefused, match="超过尚欠金额 3,000.00 元"):
        offset_apply(recovery=recovery, line_id=line.pk, amount=D("3000.01"), user=finance)
    other = paid_case(db_person(township), clerk=clerk, reviewer=reviewer, approver=approver, invoice="O1")
    theirs = recovery_create(case=other, user=reviewer, reason=Reason.OTHER, amount=D("10"), note="x")
    with pytest.raises(RecoveryRefused, match="本人的发放"):
        offset_apply(recovery=theirs, line_id=line.pk, amount=D("10"), user=finance)
    with pytest.raises(RecoveryRefused, match="没有抵扣的权限"):
        offset_apply(recovery=recovery, line_id=line.pk, amount=D("10"), user=reviewer)
    done = offset_apply(recovery=recovery, line_id=line.pk, amount=D("500"), user=finance)
    with pytest.raises(RecoveryRefused, match="已抵扣过本追回"):
        offset_apply(recovery=recovery, line_id=line.pk, amount=D("10"), user=finance)
    offset_cancel(repayment=done, user=finance, reason="本人要求另行退回")
    assert PayoutLine.objects.get(pk=line.pk).amount == D("4000.00")
    recovery.refresh_from_db()
    assert recovery.due == D("3000.00")


def test_a_line_offset_in_full_pays_nothing_leaves_the_bank_file_and_is_settled_at_export(
    funded, maoming, township, clerk, reviewer, approver, finance, finance2
):
    person = db_person(township)
    case = paid_case(person, clerk=clerk, reviewer=reviewer, approver=approver)
    recovery = recovery_create(
        case=case, user=reviewer, reason=Reason.FRAUD, amount=D("9600"), note="虚开发票", offset_next=True
    )
    from applications.cases.services import case_approve
    from tests.factories import bill_on, case_in_approval

    bill = bill_on(
        datetime.date(2026, 9, 1),
        visit_type="门诊",
        invoice="M3",
        total=D("6000"),
        in_policy=D("6000"),
        basic=D("1000"),
    )
    second = case_approve(case=case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill]), user=approver)
    other = paid_case(db_person(township), clerk=clerk, reviewer=reviewer, approver=approver, invoice="O2")
    Case.objects.filter(pk=other.pk).update(status=Case.Status.APPROVED)  # someone else paid in the same batch
    batch = ps.batch_create(user=finance)
    line = batch.lines.get(case=second)
    assert (line.amount, line.offset) == (D("0.00"), D("4000.00"))
    content = through_the_bank(batch, finance, finance2)
    references = [r[7] for r in load_workbook(io.BytesIO(content))["代发明细"].iter_rows(min_row=2, values_only=True)]
    assert line.reference not in references and len(references) == 1
    line.refresh_from_db()
    assert line.status == PayoutLine.Status.PAID and Case.objects.get(pk=second.pk).status == Case.Status.PAID
    recovery.refresh_from_db()
    assert (recovery.recovered, recovery.due, recovery.status) == (D("4000.00"), D("5600.00"), "partial")
    assert ps.batch_close(batch=batch, user=finance).status == "closed"


def test_finance_offsets_from_the_recovery_page(client, owing, finance):
    recovery, second = owing
    Recovery.objects.filter(pk=recovery.pk).update(offset_next=False)
    batch = ps.batch_create(user=finance)
    line = batch.lines.get(case=second)
    client_for(client, finance)
    page = client.get(reverse("supervision:recovery_detail", args=[recovery.pk])).text
    assert 'data-testid="offset-form"' in page and "data-confirm" in page
    response = client.post(
        reverse("supervision:recovery_action", args=[recovery.pk, "offset"]),
        {"line": line.pk, "amount": "1200.00"},
        follow=True,
    )
    assert "已抵扣" in response.text
    assert PayoutLine.objects.get(pk=line.pk).offset == D("1200.00")
