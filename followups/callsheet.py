"""The 回访清单 (DATA-FORMATS §11) as a workbook for the township windows: printed on A4 to call from, filled in
(lists to choose from in the result columns), and imported back (followups.import_format).

The first sheet stays a plain table — the header row, then one row per call — so that the filled file reads back
as it was written: the title, the plan and the township go to the printed page header, the count and the page
numbers to the footer (as the bank file does, payouts.bankfile). Phones are masked unless written for a user
holding the personal-data permission (the export is audited by the caller). A county's list of several townships
starts each township on a new page.
"""

import datetime
import io

import xlsxwriter
from django.utils import timezone

from payouts.workbook import LINE_HEIGHT, PAGE_NUMBERS, TextFormats, a4, header_text
from recipients.idnumber import mask_phone

from .models import FollowupCall, FollowupPlan, Receipt, Satisfaction

COL_NUMBER, COL_TOWNSHIP, COL_NAME, COL_PHONE = "回访编号", "乡镇（街道）", "姓名", "联系电话"
COL_KIND, COL_AMOUNT, COL_PAID = "救助类型", "发放金额", "发放日期"
COL_RECEIPT, COL_SATISFACTION, COL_AWARE, COL_NOTE, COL_ATTEMPTS = (
    "到账情况",
    "满意度",
    "是否知晓政策",
    "备注",
    "拨打次数",
)
COLUMNS = [
    (COL_NUMBER, 20),
    (COL_TOWNSHIP, 13),
    (COL_NAME, 10),
    (COL_PHONE, 15),
    (COL_KIND, 17),
    (COL_AMOUNT, 13),
    (COL_PAID, 12),
    (COL_RECEIPT, 11),
    (COL_SATISFACTION, 10),
    (COL_AWARE, 13),
    (COL_NOTE, 30),
    (COL_ATTEMPTS, 9),
]
HEADERS = [name for name, _ in COLUMNS]
AWARE = {True: "是", False: "否"}
TITLE = "医疗救助回访清单"
RULES = [
    "每行一户；回访编号、乡镇（街道）、姓名、联系电话、救助类型、发放金额、发放日期由系统填写，请勿修改。",
    "到账情况填：" + "、".join(Receipt.labels) + "；未到账或金额不符时，系统会自动生成投诉工单。",
    "满意度填：" + "、".join(Satisfaction.labels) + "；是否知晓政策填：是、否。联系不上时这两列留空。",
    "拨打次数可空（每导入一次记为又拨打了一次）；联系不上的，可以之后再拨打，在同一份清单中改填结果后再次导入。",
    "尚未回访的行留空即可。任何一行有错误，整份清单都不会导入；系统会列出每一处错误。",
    "清单中含联系电话，请妥善保管，用完销毁，不得外传。",
]


def call_rows(plan: FollowupPlan, calls, *, masked: bool):
    for call in calls.select_related("township", "person").order_by("township__code", "township__name", "number"):
        yield call, (mask_phone(call.person.phone) if masked else call.person.phone)


def call_sheet(plan: FollowupPlan, calls, *, masked: bool, township_name: str = "") -> bytes:
    """The call list of the given calls (a township's, or the plan's)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": f"{TITLE} {plan.number}", "author": "医疗救助经办管理系统"})
    cell = {"border": 1, "valign": "vcenter"}
    head = book.add_format({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2", "text_wrap": True})
    text = TextFormats(book, **cell)
    wrapped = TextFormats(book, **cell, text_wrap=True)
    fill = TextFormats(book, **cell, bg_color="#FFF9E6")  # the columns the window fills in
    fill_wrapped = TextFormats(book, **cell, bg_color="#FFF9E6", text_wrap=True)
    money = book.add_format({**cell, "num_format": "#,##0.00"})
    date = book.add_format({**cell, "num_format": "yyyy-mm-dd", "align": "center"})
    count = book.add_format({**cell, "bg_color": "#FFF9E6", "align": "center"})
    sheet = book.add_worksheet("回访清单")
    for col, (_, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
    sheet.set_default_row(LINE_HEIGHT * 1.6)  # room to write by hand on the printed list
    sheet.freeze_panes(1, 0)
    for col, title in enumerate(HEADERS):
        sheet.write_string(0, col, title, head)
    row, townships, breaks, previous = 0, [], [], None
    for call, phone in call_rows(plan, calls, masked=masked):
        row += 1
        if call.township_id != previous:
            if previous is not None:
                breaks.append(row)
            townships.append(call.township.name)
            previous = call.township_id
        text.write(sheet, row, 0, call.number)
        text.write(sheet, row, 1, call.township.name)
        wrapped.write(sheet, row, 2, call.name)
        text.write(sheet, row, 3, phone)
        wrapped.write(sheet, row, 4, call.kind)
        sheet.write_number(row, 5, float(call.amount), money)
        sheet.write_datetime(row, 6, datetime.datetime.combine(call.paid_on, datetime.time()), date)
        for col, value, formats in (
            (7, call.get_receipt_display() if call.receipt else "", fill),
            (8, call.get_satisfaction_display() if call.satisfaction else "", fill),
            (9, AWARE.get(call.aware, ""), fill),
            (10, call.note, fill_wrapped),
        ):
            if value:
                formats.write(sheet, row, col, value)
            else:  # an empty cell to fill in, not an empty text
                sheet.write_blank(row, col, None, formats.plain)
        if call.attempts:
            sheet.write_number(row, 11, call.attempts, count)
        else:
            sheet.write_blank(row, 11, None, count)
    if row:
        for col, values in ((7, Receipt.labels), (8, Satisfaction.labels), (9, list(AWARE.values()))):
            sheet.data_validation(
                1, col, row, col, {"validate": "list", "source": list(values), "error_message": "请从列表中选择"}
            )
        sheet.data_validation(
            1, 11, row, 11, {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 99}
        )
    if breaks:
        sheet.set_h_pagebreaks(breaks[:1023])
    a4(sheet, landscape=True, margins=(0.4, 0.4, 0.8, 0.7))
    sheet.repeat_rows(0)
    place = township_name or ("、".join(townships) if len(townships) <= 3 else f"{len(townships)} 个乡镇（街道）")
    sheet.set_header(
        f"&L&10回访计划：{header_text(plan.number)}（{header_text(plan.scope_text)}）"
        f'&C&"-,Bold"&14{TITLE}&R&10{header_text(place)}',
        {"margin": 0.3},
    )
    stamp = timezone.localtime()
    sheet.set_footer(
        f"&L&9共 {row:,} 户　导出 {stamp:%Y-%m-%d %H:%M}　回访人：__________&R&9{PAGE_NUMBERS}", {"margin": 0.3}
    )
    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 110)
    for n, line in enumerate(RULES):
        notes.write_string(n, 0, line)
    a4(notes, landscape=False)
    book.close()
    return buffer.getvalue()


def calls_of(plan: FollowupPlan, township=None):
    calls = FollowupCall.objects.filter(plan=plan)
    return calls.filter(township=township) if township is not None else calls
