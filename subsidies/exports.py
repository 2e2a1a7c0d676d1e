"""The 资助参保名单 for the collecting department (DATA-FORMATS §9): one row per person and insurance year, streamed
from the database (a server-side cursor) into openpyxl's write-only workbook, so memory does not grow with the
rows. IDs in full only where the caller says so (operator commands; web users holding the unmask permission)."""

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lib.spreadsheet import safe_text
from recipients.categories import Category
from recipients.idnumber import mask_id_number

from .models import MODE_SHORT

HEADERS = [
    "身份证号",
    "姓名",
    "乡镇（街道）",
    "村（社区）",
    "资助类别",
    "资助方式",
    "个人缴费标准",
    "资助金额",
    "个人应缴",
    "认定日期",
]
WIDTHS = (22, 10, 14, 14, 18, 10, 13, 11, 11, 12)
FIELDS = (
    "person__id_number",
    "person__name",
    "township__name",
    "person__village__name",
    "category",
    "mode",
    "premium",
    "amount",
    "person_pays",
    "identified_on",
)
CATEGORY_NAMES = dict(Category.choices)


def entry_rows(entries) -> Iterable[tuple]:
    """The entries as the list's values, by township and name, read in chunks."""
    return (
        entries.order_by("township__name", "person__name", "person_id").values_list(*FIELDS).iterator(chunk_size=5000)
    )


def subsidy_workbook(rows: Iterable[tuple], *, masked: bool, target=None) -> tuple[bytes | None, int]:
    """The list as an .xlsx (to `target`, a path or file, or returned as bytes) and how many rows it holds."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("资助参保名单")
    sheet.freeze_panes = "A2"
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name in HEADERS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def money(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell

    def day(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    count = 0
    for id_number, name, township, village, category, mode, premium, amount, pays, identified_on in rows:
        sheet.append(
            [
                mask_id_number(id_number) if masked else id_number,
                safe_text(name),
                safe_text(township),
                safe_text(village or ""),
                CATEGORY_NAMES.get(category, category),
                MODE_SHORT.get(mode, mode),
                money(premium),
                money(amount),
                money(pays),
                day(identified_on),
            ]
        )
        count += 1
    if target is not None:
        book.save(target)
        return None, count
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count
