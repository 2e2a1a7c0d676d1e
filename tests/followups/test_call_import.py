"""A filled call list imported back: checked against the plan whole, written in one transaction or not at all."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from followups.callsheet import HEADERS, call_sheet, calls_of
from followups.models import FollowupCall, FollowupImport, Ticket
from followups.plans import plan_create, plan_scope
from imports.services import import_apply, import_confirm, import_create, import_validate
from recipients.demo import to_csv
from tests.conftest import client_for

from .conftest import paid_line


@pytest.fixture
def plan(batch, towns, reviewer):
    for town, n in zip(towns, (4, 2, 0), strict=True):
        for _ in range(n):
            paid_line(batch, town, amount="1234.50")
    return plan_create(user=reviewer, scope=plan_scope(user=reviewer, batch=batch), method="all")


def exported(plan, township=None):
    """The list as the portal writes it, read back as rows of values (header first)."""
    content = call_sheet(plan, calls_of(plan, township), masked=False)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)], content


def filled(rows, answers: dict[int, list]) -> bytes:
    """The exported rows with 到账情况, 满意度, 是否知晓政策, 备注 (and 拨打次数) of some rows filled in, as .xlsx."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for n, row in enumerate(rows):
        values = list(row)
        if n in answers:
            values[7 : 7 + len(answers[n])] = answers[n]
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(user, content, name="回访清单.xlsx"):
    record = import_create(kind="followup", user=user, file_name=name, content=content, enqueue=False)
    record = import_validate(kind="followup", pk=record.pk)
    if record.status != record.Status.VALID:
        return record
    import_confirm(record=record, user=user, enqueue=False)
    return import_apply(kind="followup", pk=record.pk)


def test_the_exported_list_is_the_format_and_prints_on_a4(plan, township):
    rows, content = exported(plan, township)
    assert rows[0] == HEADERS and len(rows) == 5
    assert rows[1][0] == plan.calls.filter(township=township).order_by("number").first().number
    assert rows[1][5] == 1234.5 and rows[1][7] is None
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$1" and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "医疗救助回访清单" in sheet.oddHeader.center.text and plan.number in sheet.oddHeader.left.text
    assert "第 &P 页 共 &N 页" in sheet.oddFooter.right.text
    assert sheet.data_validations.dataValidation  # lists to pick from
    whole, content = exported(plan)
    assert len(load_workbook(io.BytesIO(content)).worksheets[0].row_breaks.brk) == 1  # each township its own pages


def test_a_filled_list_records_the_calls_and_opens_tickets(plan, clerk, township):
    rows, _ = exported(plan, township)
    content = filled(
        rows,
        {
            1: ["已到账", "满意", "是", "很好"],
            2: ["未到账", "", "否", "说没收到"],
            3: ["联系不上", "", "", "", 2],
        },
    )
    record = run(clerk, content)
    assert record.status == "done", record.errors
    assert (record.rows_recorded, record.rows_unchanged, record.rows_blank, record.tickets_opened) == (3, 0, 1, 1)
    assert record.plan == plan and record.township == township
    calls = {c.number: c for c in FollowupCall.objects.filter(plan=plan)}
    first, second, third = (calls[rows[n][0]] for n in (1, 2, 3))
    assert (first.receipt, first.satisfaction, first.aware, first.note) == ("received", "satisfied", True, "很好")
    assert first.called_by == clerk and first.attempts == 1
    assert third.receipt == "unreachable" and third.attempts == 2
    ticket = Ticket.objects.get()
    assert ticket.call == second and ticket.category == "not_received"
    assert AuditEvent.objects.filter(action="followup.call_record").count() == 3
    # The same file again changes nothing.
    again = run(clerk, content)
    assert again.status == "done" and (again.rows_recorded, again.rows_unchanged, again.tickets_opened) == (0, 3, 0)
    # The list as exported now carries the results: importing it as it is changes nothing either.
    rows, content = exported(plan, township)
    assert rows[1][7:11] == ["已到账", "满意", "是", "很好"]
    assert run(clerk, content).rows_recorded == 0


def test_a_list_with_bad_rows_is_rejected_whole_with_every_bad_row(plan, clerk, township):
    rows, _ = exported(plan, township)
    rows[1][7] = "已到帐"  # not a value of the list
    rows[2][2] = "李四"  # name changed
    rows[3][5] = 999.0  # amount changed
    rows[4][0] = "HF20991231001-0001"  # unknown
    rows[4][7] = "已到账"
    rows.append(list(rows[1]))  # the first call again
    rows[1][8] = "非常满意"
    record = run(clerk, filled(rows, {}))
    assert record.status == "invalid"
    found = {(e["row"], e["column"]) for e in record.errors}
    assert {(2, "到账情况"), (2, "满意度"), (3, "姓名"), (4, "发放金额"), (5, "回访编号"), (6, "回访编号")} <= found
    reasons = " ".join(e["reason"] for e in record.errors)
    assert (
        "应为：已到账、未到账、金额不符、联系不上" in reasons and "发放金额与回访清单不一致（应为 1,234.50）" in reasons
    )
    assert "回访编号不存在" in reasons and "与第 2 行重复" in reasons
    assert not FollowupCall.objects.exclude(receipt="").exists() and not Ticket.objects.exists()


def test_a_window_imports_its_own_townships_calls_only(plan, clerk, outsider):
    rows, _ = exported(plan, clerk.township)
    record = run(outsider, filled(rows, {1: ["已到账"]}))
    assert record.status == "invalid"
    assert {e["reason"] for e in record.errors} >= {"不属于本乡镇（属于石鼓镇），只能导入本乡镇的回访"}


def test_unreachable_with_answers_and_answers_without_receipt_are_errors(plan, clerk, township):
    rows, _ = exported(plan, township)
    record = run(clerk, filled(rows, {1: ["联系不上", "满意"], 2: ["", "满意", "是"], 3: ["已到账", "", "", "", 0]}))
    reasons = {(e["row"], e["reason"]) for e in record.errors}
    assert (2, "联系不上时不应填写满意度和是否知晓政策") in reasons
    assert (3, "填写了回访结果，但没有填写到账情况") in reasons
    assert (4, "拨打次数应为 1～99 的整数") in reasons


def test_a_csv_list_is_read_too(plan, clerk, township):
    call = plan.calls.filter(township=township).order_by("number").first()
    content = to_csv(
        [[call.number, call.name, "1,234.50", "金额不符", "基本满意", "是"]],
        headers=["回访编号", "姓名", "发放金额", "到账情况", "满意度", "是否知晓政策"],
    )
    record = run(clerk, content, "回访.csv")
    assert record.status == "done", record.errors
    assert Ticket.objects.get().category == "amount"


def test_the_import_pages_and_command(client, plan, clerk, reviewer, township, tmp_path):
    client_for(client, clerk)
    assert client.get(reverse("followups:import_upload")).status_code == 200
    assert client.get(reverse("followups:import_template")).status_code == 200
    rows, _ = exported(plan, township)
    path = tmp_path / "清单.xlsx"
    path.write_bytes(filled(rows, {1: ["已到账", "满意", "是"]}))
    out = io.StringIO()
    call_command("import_followups", str(path), stdout=out)
    assert "记录回访 1 户" in out.getvalue()
    record = FollowupImport.objects.get()
    # The operator's import is the county's: its staff see it, a window sees its own uploads only.
    assert client.get(reverse("followups:import_detail", args=[record.pk])).status_code == 404
    client_for(client, reviewer)
    assert client.get(reverse("followups:import_detail", args=[record.pk])).status_code == 200
    assert record.file_name in client.get(reverse("followups:import_list")).text
    bad = tmp_path / "坏.xlsx"
    rows[2][5] = 1.0
    bad.write_bytes(filled(rows, {2: ["已到账"]}))
    with pytest.raises(CommandError, match="校验未通过"):
        call_command("import_followups", str(bad), stdout=io.StringIO(), stderr=io.StringIO())


def test_a_window_uploads_checks_and_confirms_a_list_on_the_web(
    client, plan, clerk, township, eager_tasks, django_capture_on_commit_callbacks
):
    client_for(client, clerk)
    rows, _ = exported(plan, township)
    upload = io.BytesIO(filled(rows, {1: ["未到账", "不满意", "否", "没收到"]}))
    upload.name = "石鼓镇回访.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("followups:import_upload"), {"file": upload})
    record = FollowupImport.objects.get()
    assert record.township == township and record.status == "valid"
    page = client.get(response.url).text
    assert "记录回访计划" in page and "自动生成" in page and "1</strong> 张投诉工单" in page
    assert not FollowupCall.objects.exclude(receipt="").exists()  # nothing written before the confirm
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("followups:import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "done" and record.tickets_opened == 1
    assert Ticket.objects.get().call.number == rows[1][0]
    assert {
        "followup_import.upload",
        "followup_import.validate",
        "followup_import.confirm",
        "followup_import.apply",
    } <= set(AuditEvent.objects.values_list("action", flat=True))


def test_a_control_character_in_a_filled_list_is_a_row_error(plan, clerk, township):
    rows, _ = exported(plan, township)
    rows[1][7:11] = ["已到账", "满意", "是", "收到\x00了"]
    content = to_csv([["" if v is None else str(v) for v in row] for row in rows[1:]], headers=rows[0])
    record = run(clerk, content, name="回访清单.csv")
    assert record.status == "invalid"
    assert [(e["row"], e["column"], e["reason"]) for e in record.errors] == [
        (2, "备注", "含有不可见的控制字符，请删除后重新录入")
    ]
    assert not FollowupCall.objects.exclude(receipt="").exists()
