"""Payout batches: selection, maker-checker, the bank file, the bank's return, and never paying twice."""

import datetime
import hashlib
import io
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from applications.models import Case
from audit.models import AuditEvent
from payouts import services
from payouts.models import PayoutBatch, PayoutLine
from recipients.demo import to_csv
from tests.factories import PersonFactory, TownshipFactory, UserFactory

D = Decimal
B = PayoutBatch.Status
RETURN_HEADERS = ["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"]


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role=Role.FINANCE)


def approved_case(township, amount="5600.00", *, name=None, account="6228480000123456789", source="window"):
    person = PersonFactory(township=township, **({"name": name} if name else {}))
    case = Case.objects.create(
        number=f"T{person.pk:08d}",
        person=person,
        township=township,
        source=source,
        status=Case.Status.APPROVED,
        approved_amount=D(amount),
        payee_name=person.name,
        payee_bank="中国农业银行高州支行",
        payee_account=account,
        decided_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    )
    return case


def reviewed_batch(finance, finance2, **filters):
    batch = services.batch_create(user=finance, **filters)
    batch = services.batch_lock(batch=batch, user=finance)
    return services.batch_review(batch=batch, user=finance2)


def return_file(lines, results=None, **changes):
    rows = []
    for line in lines:
        result = (results or {}).get(line.reference, "成功")
        rows.append(
            [line.reference, line.payee_account, str(line.amount), result, "户名不符" if result == "失败" else ""]
        )
    for index, row in changes.items():
        rows[int(index.strip("r"))] = row
    return to_csv(rows, headers=RETURN_HEADERS)


# --- building batches ------------------------------------------------------------------------------


def test_a_batch_takes_every_payable_case_and_its_totals_are_the_sum_of_lines(township, finance):
    other = TownshipFactory(name="东岸镇")
    a, b, c = approved_case(township, "5600.00"), approved_case(township, "1234.56"), approved_case(other, "100")
    approved_case(township, "300", account="")  # no account: not payable
    batch = services.batch_create(user=finance)
    assert batch.status == B.DRAFT and batch.line_count == 3
    assert batch.total == D("6934.56") == sum(line.amount for line in batch.lines.all())
    assert {line.case_id for line in batch.lines.all()} == {a.pk, b.pk, c.pk}
    assert len({line.reference for line in batch.lines.all()}) == 3
    summary = services.batch_summary(batch)
    assert {row["township__name"]: row["total"] for row in summary["by_township"]} == {
        "石鼓镇": D("6834.56"),
        "东岸镇": D("100.00"),
    }


def test_filters_select_by_township_and_benefit(township, finance):
    other = TownshipFactory(name="东岸镇")
    approved_case(township)
    approved_case(other)
    secondary = approved_case(township, "800", source="secondary")
    batch = services.batch_create(user=finance, benefit="secondary")
    assert [line.case_id for line in batch.lines.all()] == [secondary.pk]
    batch = services.batch_create(user=finance, township=other)
    assert batch.line_count == 1 and batch.lines.get().township == other


def test_a_case_is_in_one_live_batch_only(township, finance):
    approved_case(township)
    services.batch_create(user=finance)
    with pytest.raises(services.PayoutRefused, match="没有符合条件"):
        services.batch_create(user=finance)


def test_the_database_refuses_a_second_live_line_for_a_case(township, finance):
    case = approved_case(township)
    batch = services.batch_create(user=finance)
    other = PayoutBatch.objects.create(number="ZFX", created_by=finance)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.create(
            batch=other,
            case=case,
            reference="ZFX-1",
            township=township,
            source="window",
            payee_name="x",
            payee_account="1",
            payee_bank="x",
            id_number="x",
            amount=D("1"),
        )
    assert batch.lines.count() == 1


def test_other_roles_cannot_build_batches(township, reviewer, approver):
    approved_case(township)
    for user in (reviewer, approver):
        with pytest.raises(services.PayoutRefused):
            services.batch_create(user=user)
    assert not PayoutBatch.objects.exists()


# --- maker-checker -------------------------------------------------------------------------------


def test_the_maker_cannot_review_their_own_batch(township, finance, finance2):
    approved_case(township)
    batch = services.batch_lock(batch=services.batch_create(user=finance), user=finance)
    with pytest.raises(services.PayoutRefused, match="另一名财务人员"):
        services.batch_review(batch=batch, user=finance)
    assert PayoutBatch.objects.get().status == B.LOCKED
    assert services.batch_review(batch=batch, user=finance2).status == B.REVIEWED


def test_a_locked_batch_cannot_be_edited_and_an_unreviewed_one_not_exported(township, finance, finance2):
    approved_case(township)
    approved_case(township, "10")
    batch = services.batch_create(user=finance)
    with pytest.raises(services.PayoutRefused):
        services.batch_export(batch=batch, user=finance)
    batch = services.batch_lock(batch=batch, user=finance)
    line = batch.lines.first()
    with pytest.raises(services.PayoutRefused, match="已锁定"):
        services.batch_remove_line(batch=batch, line_id=line.pk, user=finance)
    with pytest.raises(services.PayoutRefused):
        services.batch_export(batch=batch, user=finance)
    assert PayoutLine.objects.filter(live=True).count() == 2 and not AuditEvent.objects.filter(action="payout.export")


def test_a_removed_line_and_a_cancelled_batch_return_their_cases_to_the_pool(township, finance):
    a, b = approved_case(township), approved_case(township, "10")
    batch = services.batch_create(user=finance)
    batch = services.batch_remove_line(batch=batch, line_id=batch.lines.get(case=a).pk, user=finance)
    assert batch.line_count == 1 and batch.total == D("10.00")
    assert list(services.payable_cases()) == [a]
    services.batch_cancel(batch=batch, user=finance, reason="重做")
    assert set(services.payable_cases()) == {a, b}


# --- the bank file -------------------------------------------------------------------------------


def test_bank_file_sheets_text_ids_numeric_amounts_and_capitals(township, finance, finance2):
    approved_case(township, "1234.56", name='=HYPERLINK("http://x")')
    approved_case(township, "100")
    batch = reviewed_batch(finance, finance2)
    content = services.batch_export(batch=batch, user=finance)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["代发明细", "汇总"]
    detail = list(book["代发明细"].iter_rows(values_only=True))
    assert detail[0] == ("序号", "户名", "银行账号", "开户银行", "金额（元）", "身份证号", "摘要", "业务编号")
    sheet = book["代发明细"]
    assert sheet["C2"].data_type == "s" and sheet["F2"].data_type == "s"  # account and ID as text
    assert sheet["E2"].data_type == "n" and sheet["E2"].number_format == "#,##0.00"
    names = [row[1] for row in detail[1:]]
    assert '=HYPERLINK("http://x")' in names  # kept as text, never a formula
    formula_cell = sheet.cell(row=names.index('=HYPERLINK("http://x")') + 2, column=2)
    assert formula_cell.data_type == "s" and formula_cell.quotePrefix
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row[0]}
    assert summary["批次号"] == batch.number and summary["笔数"] == 2
    assert summary["金额合计（小写）"] == 1334.56 and summary["金额合计（大写）"] == "壹仟叁佰叁拾肆元伍角陆分"
    assert summary["复核人"] == finance2.display_name and summary["石鼓镇"] == 2


def test_re_exporting_gives_the_same_bytes_and_the_hash_is_recorded(township, finance, finance2):
    approved_case(township)
    batch = reviewed_batch(finance, finance2)
    first = services.batch_export(batch=batch, user=finance)
    second = services.batch_export(batch=batch, user=finance)
    assert first == second
    batch.refresh_from_db()
    assert batch.content_hash == hashlib.sha256(first).hexdigest() and batch.export_count == 2
    assert batch.status == B.EXPORTED


# --- the bank's return ---------------------------------------------------------------------------


def test_return_with_a_failure_pays_the_rest_and_the_failed_case_waits_for_a_new_account(township, finance, finance2):
    a, b = approved_case(township), approved_case(township, "10")
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    lines = list(batch.lines.order_by("reference"))
    failed_ref = lines[1].reference
    outcome = services.bank_return_import(
        batch=batch, user=finance, file_name="r.csv", content=return_file(lines, {failed_ref: "失败"})
    )
    assert (outcome.record.paid, outcome.record.failed) == (1, 1)
    paid_case = Case.objects.get(pk=lines[0].case_id)
    failed_case = Case.objects.get(pk=lines[1].case_id)
    assert paid_case.status == Case.Status.PAID and failed_case.status == Case.Status.APPROVED
    assert failed_case not in services.payable_cases()  # same account: waits for a correction
    services.payee_correct(
        case=failed_case,
        user=finance,
        payee_name="王秀英",
        payee_bank="农商行",
        payee_account="621458000011112222",
        reason="户名与账号不符，已核实",
    )
    assert list(services.payable_cases()) == [failed_case]
    assert AuditEvent.objects.filter(action="payout.correct_payee").exists()
    with pytest.raises(services.PayoutRefused):
        services.batch_close(batch=services.batch_create(user=finance), user=finance)  # the new batch is a draft
    batch = services.batch_close(batch=batch, user=finance)
    assert batch.status == B.CLOSED and {a.pk, b.pk} == {paid_case.pk, failed_case.pk}


def test_importing_the_same_return_twice_changes_nothing(township, finance, finance2):
    approved_case(township)
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    content = return_file(batch.lines.all())
    services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=content)
    again = services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=content)
    assert again.repeated and batch.returns.count() == 1
    # The same results in another file: nothing new either.
    third = services.bank_return_import(batch=batch, user=finance, file_name="r2.csv", content=content + b"\r\n")
    assert (third.record.paid, third.record.unchanged) == (0, 1)


# fault: (data row of the error, column, what the message says)
FAULTS = {
    "unknown": (3, "业务编号", "本批次中没有这个业务编号"),
    "amount": (3, "金额（元）", "不一致"),
    "account": (3, "银行账号", "不一致"),
    "duplicate": (4, "业务编号", "与第 2 行重复"),
    "other_batch": (3, "业务编号", "属于另一个批次"),
    "result": (3, "处理结果", "应为“成功”或“失败”"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_return_that_does_not_match_is_refused_whole(township, finance, finance2, fault):
    approved_case(township)
    approved_case(township, "10")
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    lines = list(batch.lines.order_by("reference"))
    rows = [[line.reference, line.payee_account, str(line.amount), "成功", ""] for line in lines]
    if fault == "unknown":
        rows[1][0] = "ZF00000000999-00001"
    elif fault == "amount":
        rows[1][2] = "11.00"
    elif fault == "account":
        rows[1][1] = "6228480000000000000"
    elif fault == "duplicate":
        rows.append(list(rows[0]))
    elif fault == "other_batch":
        approved_case(township, "20")
        other = services.batch_create(user=finance)
        rows[1][0] = other.lines.get().reference
    elif fault == "result":
        rows[1][3] = "处理中"
    with pytest.raises(services.ReturnRejected) as refused:
        services.bank_return_import(
            batch=batch, user=finance, file_name="r.csv", content=to_csv(rows, headers=RETURN_HEADERS)
        )
    row, column, reason = FAULTS[fault]
    assert [(e["row"], e["column"]) for e in refused.value.errors] == [(row, column)]
    assert reason in refused.value.errors[0]["reason"]
    assert not Case.objects.filter(status=Case.Status.PAID).exists()
    assert PayoutLine.objects.filter(status="paid").count() == 0 and batch.returns.count() == 0


def test_a_return_contradicting_an_earlier_one_is_refused(township, finance, finance2):
    approved_case(township)
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    line = batch.lines.get()
    services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=return_file([line]))
    with pytest.raises(services.ReturnRejected, match="未做任何更改"):
        services.bank_return_import(
            batch=batch, user=finance, file_name="r2.csv", content=return_file([line], {line.reference: "失败"})
        )
    assert Case.objects.get().status == Case.Status.PAID


def test_a_paid_case_can_never_be_paid_again(township, finance, finance2):
    case = approved_case(township)
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=return_file(batch.lines.all()))
    assert not services.payable_cases().exists()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.APPROVED)  # even if someone reset the case by hand
    assert not services.payable_cases().exists()  # its paid line is still live
    other = PayoutBatch.objects.create(number="ZFY", created_by=finance)
    line = batch.lines.get()
    line.live = False
    line.save()  # and even with the live flag cleared, one paid line per case is a database rule
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.create(
            batch=other,
            case=case,
            reference="ZFY-1",
            township=township,
            source="window",
            payee_name="x",
            payee_account="1",
            payee_bank="x",
            id_number="x",
            amount=D("1"),
            status="paid",
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_created_at_the_same_moment_never_share_a_case(township, finance, finance2):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    cases = [approved_case(township, "10") for _ in range(40)]
    results, barrier = [], threading.Barrier(2)

    def build(user):
        try:
            barrier.wait()
            results.append(services.batch_create(user=user))
        except services.PayoutRefused as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=build, args=(u,)) for u in (finance, finance2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = PayoutLine.objects.filter(live=True)
    assert lines.count() == len(cases)
    assert lines.values("case").distinct().count() == len(cases)


# --- commands and pages --------------------------------------------------------------------------


def test_the_export_and_return_commands_write_the_file_apply_the_return_and_refuse_bad_input(
    tmp_path, township, finance, finance2, capsys
):
    approved_case(township)
    batch = reviewed_batch(finance, finance2)
    out = tmp_path / "daifa.xlsx"
    call_command("export_batch", batch.number, str(out))
    assert "已导出" in capsys.readouterr().out and load_workbook(out).sheetnames == ["代发明细", "汇总"]
    ret = tmp_path / "return.csv"
    ret.write_bytes(return_file(batch.lines.all()))
    call_command("import_bank_return", batch.number, str(ret))
    assert "成功 1 笔" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([["NOPE", "1", "1", "成功", ""]], headers=RETURN_HEADERS))
    with pytest.raises(CommandError, match="未做任何更改"):
        call_command("import_bank_return", batch.number, str(bad))
    with pytest.raises(CommandError, match="没有批次"):
        call_command("export_batch", "ZF0", str(out))


def test_unreviewed_batch_export_command_is_refused(tmp_path, township, finance):
    approved_case(township)
    batch = services.batch_create(user=finance)
    with pytest.raises(CommandError, match="不能进行此操作"):
        call_command("export_batch", batch.number, str(tmp_path / "x.xlsx"))


def test_public_notice_masks_names_and_ids(client, township, finance, finance2):
    approved_case(township, name="王秀英")
    batch = reviewed_batch(finance, finance2)
    client.force_login(finance)
    rows = list(
        load_workbook(io.BytesIO(client.get(reverse("payouts:public_notice", args=[batch.pk])).content)).active.values
    )
    line = rows[[row[0] for row in rows].index("序号") + 1]  # the notice's title and terms come first
    assert line[2] == "王*英" and "*" in line[3] and line[5] == 5600


def test_finance_sees_the_batch_pages_and_a_clerk_gets_403(client, township, finance, clerk):
    case = approved_case(township)
    batch = services.batch_create(user=finance)
    client.force_login(finance)
    assert client.get(reverse("payouts:batch_list")).status_code == 200
    page = client.get(reverse("payouts:batch_detail", args=[batch.pk]))
    assert batch.number in page.content.decode() and case.number in page.content.decode()
    assert client.get(reverse("payouts:line_search"), {"q": case.number}).context["page"].paginator.count == 1
    assert "发放记录" in client.get(reverse("applications:case_detail", args=[case.pk])).content.decode()
    client.force_login(clerk)
    assert client.get(reverse("payouts:batch_list")).status_code == 403
    assert client.post(reverse("payouts:batch_action", args=[batch.pk, "lock"])).status_code == 403


def test_finance_home_counts_unbatched_payables_and_batches_another_user_may_review(
    client, township, finance, finance2
):
    approved_case(township)
    batch = services.batch_lock(batch=services.batch_create(user=finance), user=finance)
    approved_case(township, "10")
    client.force_login(finance2)
    queues = {q["label"]: q["count"] for q in client.get(reverse("home")).context["queues"]}
    assert queues["待发放（未进批次）"] == 1 and queues["批次待复核"] == 1
    client.force_login(finance)
    assert {q["label"]: q["count"] for q in client.get(reverse("home")).context["queues"]}["批次待复核"] == 0
    assert PayoutBatch.objects.get(pk=batch.pk).status == B.LOCKED  # looking at the queues changed nothing


# --- found in review -----------------------------------------------------------------------------


def test_a_name_only_correction_returns_the_failed_case_to_the_pool(township, finance, finance2):
    case = approved_case(township)
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    line = batch.lines.get()
    services.bank_return_import(
        batch=batch, user=finance, file_name="r.csv", content=return_file([line], {line.reference: "失败"})
    )
    assert case in services.awaiting_correction()
    services.payee_correct(
        case=case,
        user=finance,
        payee_name="王秀英",
        payee_bank=case.payee_bank,
        payee_account=case.payee_account,
        reason="户名不符，已核实",
    )
    assert list(services.payable_cases()) == [case] and case not in services.awaiting_correction()


def test_an_approved_case_without_an_account_is_listed_and_can_be_filled_in(township, finance):
    case = approved_case(township, account="")
    assert not services.payable_cases().exists() and list(services.awaiting_correction()) == [case]
    services.payee_correct(
        case=case,
        user=finance,
        payee_name="王秀英",
        payee_bank="农商行",
        payee_account="6214 5800 0011 1122",
        reason="补录",
    )
    case.refresh_from_db()
    assert case.payee_account == "6214580000111122" and list(services.payable_cases()) == [case]


def test_the_payee_cannot_change_while_the_case_waits_in_a_batch(township, finance, finance2):
    case = approved_case(township)
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    line = batch.lines.get()
    services.bank_return_import(
        batch=batch, user=finance, file_name="r.csv", content=return_file([line], {line.reference: "失败"})
    )
    services.payee_correct(
        case=case, user=finance, payee_name="王秀英", payee_bank="农商行", payee_account="62145800001111", reason="更正"
    )
    services.batch_create(user=finance)  # the corrected case is in a new batch, waiting for the bank
    with pytest.raises(services.PayoutRefused, match="正在一个支付批次中"):
        services.payee_correct(
            case=case, user=finance, payee_name="x", payee_bank="x", payee_account="62284800009999", reason="x"
        )


def test_an_account_typed_with_spaces_still_matches_the_return(township, finance, finance2):
    approved_case(township, account="6228 4800 0012 3456 789")
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    line = batch.lines.get()
    assert line.payee_account == "6228480000123456789"
    outcome = services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=return_file([line]))
    assert outcome.record.paid == 1


def test_re_export_after_a_failed_line_is_still_identical(township, finance, finance2):
    approved_case(township)
    approved_case(township, "10")
    batch = reviewed_batch(finance, finance2)
    first = services.batch_export(batch=batch, user=finance)
    lines = list(batch.lines.order_by("reference"))
    services.bank_return_import(
        batch=batch, user=finance, file_name="r.csv", content=return_file(lines, {lines[0].reference: "失败"})
    )
    assert services.batch_export(batch=batch, user=finance) == first


def test_a_return_records_each_paid_case_transition_and_audit(township, finance, finance2):
    cases = [approved_case(township), approved_case(township, "10")]
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    services.bank_return_import(batch=batch, user=finance, file_name="r.csv", content=return_file(batch.lines.all()))
    from applications.models import CaseTransition

    for case in cases:
        case.refresh_from_db()
        assert case.status == Case.Status.PAID
        assert CaseTransition.objects.filter(case=case, to_status="paid", actor=finance).count() == 1
        assert AuditEvent.objects.filter(action="case.mark_paid", object_id=str(case.pk)).count() == 1


def test_an_export_whose_file_cannot_be_written_leaves_the_batch_as_it_was(
    tmp_path, township, finance, finance2, monkeypatch
):
    import os

    approved_case(township)
    batch = reviewed_batch(finance, finance2)
    (tmp_path / "dir.xlsx").mkdir()
    with pytest.raises(CommandError, match="输出路径是一个目录"):
        call_command("export_batch", batch.number, str(tmp_path / "dir.xlsx"))
    with pytest.raises(CommandError, match="不能是同一个文件"):
        call_command("export_batch", batch.number, str(tmp_path / "a.xlsx"), "--notice", str(tmp_path / "a.xlsx"))

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(CommandError, match="无法写入"):
        call_command("export_batch", batch.number, str(tmp_path / "daifa.xlsx"))
    monkeypatch.undo()
    batch.refresh_from_db()
    assert batch.status == "reviewed" and batch.exported_at is None and batch.export_count == 0
    assert not batch.content_hash
    assert not AuditEvent.objects.filter(action="payout.export").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.xlsx"]


def test_a_return_with_a_control_character_or_an_overlong_reason_is_refused_whole(township, finance, finance2):
    approved_case(township), approved_case(township, "10")
    batch = reviewed_batch(finance, finance2)
    services.batch_export(batch=batch, user=finance)
    first, second = batch.lines.order_by("reference")
    rows = [
        [first.reference, first.payee_account, str(first.amount), "失败", "户名\x00不符"],
        [second.reference, second.payee_account, str(second.amount), "失败", "原" * 201],
    ]
    with pytest.raises(services.ReturnRejected) as refused:
        services.bank_return_import(
            batch=batch, user=finance, file_name="r.csv", content=to_csv(rows, headers=RETURN_HEADERS)
        )
    assert [(e["row"], e["column"], e["reason"]) for e in refused.value.errors] == [
        (2, "失败原因", "含有不可见的控制字符，请删除后重新录入"),
        (3, "失败原因", "失败原因超过 200 个字"),
    ]
    assert not batch.lines.exclude(status="pending").exists()
