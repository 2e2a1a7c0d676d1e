"""The 资助参保名单 for the collecting department (DATA-FORMATS §9): one row per person and insurance year, streamed
from the database (a server-side cursor) into a constant-memory workbook, so memory does not grow with the
rows. IDs in full only where the caller says so (operator commands; web users holding the unmask permission)."""

import os
import tempfile
from collections.abc import Iterable

import xlsxwriter

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
    """The list as an .xlsx (written to the path `target`, or returned as bytes) and how many rows it holds.

    XlsxWriter in constant-memory mode: each row goes to disk as it is written (memory does not grow with the
    rows), at about twice the speed of openpyxl's write-only mode (which without lxml spends ~80 µs a row
    serialising XML: 8 s for 100,000 rows, against the 10 s the list may take built and exported)."""
    path = target
    if target is None:
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
    try:
        book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        book.set_properties({"title": "资助参保名单", "author": "医疗救助经办管理系统"})
        sheet = book.add_worksheet("资助参保名单")
        for col, width in enumerate(WIDTHS):
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)  # one page wide
        sheet.repeat_rows(0)
        sheet.set_header("&C资助参保名单")
        sheet.set_footer("&R第 &P 页 共 &N 页")
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        money = book.add_format({"num_format": "#,##0.00"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        text = book.add_format({"num_format": "@"})
        for col, name in enumerate(HEADERS):
            sheet.write_string(0, col, name, head)
        count = 0
        for r, row in enumerate(rows, start=1):
            id_number, name, township, village, category, mode, premium, amount, pays, identified_on = row
            sheet.write_string(r, 0, mask_id_number(id_number) if masked else id_number, text)
            sheet.write_string(r, 1, safe_text(name))
            sheet.write_string(r, 2, safe_text(township))
            sheet.write_string(r, 3, safe_text(village or ""))
            sheet.write_string(r, 4, CATEGORY_NAMES.get(category, category))
            sheet.write_string(r, 5, MODE_SHORT.get(mode, mode))
            sheet.write_number(r, 6, premium, money)
            sheet.write_number(r, 7, amount, money)
            sheet.write_number(r, 8, pays, money)
            sheet.write_datetime(r, 9, identified_on, day)
            count = r
        book.close()
        if target is not None:
            return None, count
        with open(path, "rb") as handle:
            return handle.read(), count
    finally:
        if target is None:
            os.unlink(path)
