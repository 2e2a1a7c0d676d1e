"""Spreadsheet text safety and the plain list workbook every export writes."""

import io
import itertools
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text a spreadsheet will not run as a formula (a leading quote); other values unchanged."""
    if isinstance(value, str) and value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def as_text(value) -> str:
    """Any value as safe cell text (None becomes empty)."""
    return safe_text("" if value is None else str(value))


def list_workbook(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    text_columns: Iterable[int] = (),
    money_columns: Iterable[int] = (),
    widths: dict[int, int] | None = None,
) -> bytes:
    """One sheet: a bold header, then the rows streamed (write-only, memory does not grow with the rows).

    Text columns keep long digit strings as text; money columns show two decimals with separators. Every column
    gets a width (`widths`, else one for its kind and header); printed, the sheet is A4 landscape one page wide,
    the header row on every page, the title above and 第 N 页 共 M 页 below.
    """
    text_columns, money_columns = set(text_columns), set(money_columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    rows = iter(rows)
    first = list(itertools.islice(rows, WIDTH_SAMPLE))  # what the columns hold, before the widths are written
    chosen = widths or {}
    for index, name in enumerate(headers):
        width = chosen.get(index) or default_width(
            name,
            [row[index] for row in first if index < len(row)],
            text=index in text_columns,
            money=index in money_columns,
        )
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    print_as_list(sheet, title)
    rows = itertools.chain(first, rows)
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
            cell = WriteOnlyCell(sheet, value=safe_text(value))
            if index in text_columns:
                cell.number_format = "@"
            elif index in money_columns:
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


WIDTH_SAMPLE = 200  # rows looked at for the widths
WIDTH_MAX = 40


def shown_width(value) -> int:
    """How wide a value shows (a Chinese character is two units wide; amounts with separators and cents)."""
    if value is None:
        return 0
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return len(f"{value:,.2f}")
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def default_width(header: str, values=(), *, text: bool = False, money: bool = False) -> int:
    """A column's width from its header and the first rows' values, at least what its kind needs."""
    base = 20 if text else 13 if money else 8
    widest = max([shown_width(header), *(shown_width(v) for v in values)], default=0)
    return min(WIDTH_MAX, max(base, widest + 2))


def print_as_list(sheet, title: str) -> None:
    """An openpyxl sheet printed as a list: A4 landscape, one page wide, the header row repeated, the title in the
    page header, 第 N 页 共 M 页 in the footer."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.oddHeader.center.text = title
    sheet.oddFooter.right.text = "第 &P 页 共 &N 页"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, file_name: str):
    """An .xlsx download (the name in ASCII, as every browser takes it)."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename={file_name}"
    return response
