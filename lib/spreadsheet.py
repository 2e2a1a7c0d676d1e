"""Spreadsheet text safety and the plain list workbook every export writes."""

import io
from collections.abc import Iterable, Sequence

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

    Text columns keep long digit strings as text; money columns show two decimals with separators.
    """
    text_columns, money_columns = set(text_columns), set(money_columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, width in (widths or {}).items():
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, file_name: str):
    """An .xlsx download (the name in ASCII, as every browser takes it)."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename={file_name}"
    return response
