"""Workbooks the portal hands out: the leads list (DATA-FORMATS §3)."""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from recipients.idnumber import mask_id_number, mask_phone

LEAD_HEADERS = [
    "线索编号",
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "身份证号",
    "联系电话",
    "救助类别",
    "年度",
    "结算笔数",
    "政策范围内个人自付合计",
    "预计救助金额",
    "状态",
]


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def leads_workbook(leads, *, masked: bool) -> bytes:
    """The leads as an .xlsx: IDs and phones as text, masked unless `masked` is False; streamed row by row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("主动救助线索")
    sheet.column_dimensions["E"].width = 22
    sheet.column_dimensions["B"].width = 14
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in LEAD_HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for lead in leads:
        person = lead.person
        id_number = mask_id_number(person.id_number) if masked else person.id_number
        phone = mask_phone(person.phone) if masked else person.phone
        row = [
            lead.number,
            lead.township.name,
            person.village.name if person.village_id else "",
            safe_text(person.name),
            id_number,
            phone,
            lead.get_category_display(),
            lead.year,
            lead.settlement_count,
            lead.self_pay_total,
            lead.estimate,
            lead.get_status_display(),
        ]
        cells = []
        for index, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=value)
            if index in (4, 5):
                cell.number_format = "@"
            elif index in (9, 10):
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SECONDARY_HEADERS = [
    "案件编号",
    "乡镇（街道）",
    "姓名",
    "身份证号",
    "救助类别",
    "年度",
    "年度个人负担",
    "起付线",
    "应救助金额",
    "已救助金额",
    "本次救助金额",
    "状态",
]
WARNING_HEADERS = [
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "身份证号",
    "联系电话",
    "救助类别",
    "年度",
    "年度个人负担",
    "起付线或启动标准",
    "距标准",
]


def _workbook(title: str, headers: list[str], rows, *, text_columns=(), money_columns=()) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in headers:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=safe_text(value) if isinstance(value, str) else value)
            if index in text_columns:
                cell.number_format = "@"
            elif index in money_columns:
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _amount(line: dict, key: str):
    from decimal import Decimal

    value = line.get(key)
    return Decimal(value) if value not in (None, "None") else None


def secondary_workbook(cases, *, masked: bool) -> bytes:
    """DATA-FORMATS §4: one row per person-year secondary case."""
    from recipients.categories import Category

    names = dict(Category.choices)

    def rows():
        for case in cases:
            line = (case.calculation or [{}])[0]
            person = case.person
            yield [
                case.number,
                case.township.name,
                person.name,
                mask_id_number(person.id_number) if masked else person.id_number,
                names.get(line.get("category"), ""),
                case.year,
                _amount(line, "burden"),
                _amount(line, "deductible"),
                _amount(line, "due"),
                _amount(line, "already_granted"),
                case.approved_amount if case.approved_amount is not None else case.proposed_amount,
                case.get_status_display(),
            ]

    return _workbook("二次救助名单", SECONDARY_HEADERS, rows(), text_columns=(3,), money_columns=(6, 7, 8, 9, 10))


def warning_workbook(burdens, *, masked: bool) -> bytes:
    def rows():
        for b in burdens:
            person = b.person
            yield [
                b.township.name,
                person.village.name if person.village_id else "",
                person.name,
                mask_id_number(person.id_number) if masked else person.id_number,
                mask_phone(person.phone) if masked else person.phone,
                b.get_category_display(),
                b.year,
                b.burden,
                b.threshold,
                b.threshold - b.burden,
            ]

    return _workbook("二次救助预警", WARNING_HEADERS, rows(), text_columns=(3, 4), money_columns=(7, 8, 9))
