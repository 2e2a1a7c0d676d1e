"""Reading the spreadsheets other departments send: .xlsx or .csv (UTF-8 with or without BOM,
or GB18030 as written by Excel on a Chinese Windows), and parsing their cells.

Cells come back as read: str for text, float/int for number cells, date/datetime for date
cells (xlsx only). Column checks live with each import; this module only reads and converts.
"""

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from python_calamine import CalamineWorkbook

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


class TableError(ValueError):
    """The file as a whole cannot be read; the message is shown to the user."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list]  # data rows, header excluded
    first_row_number: int = 2  # spreadsheet row number of rows[0]
    # False when the whole file is known to hold no control characters (one search over a CSV's
    # text), so that rows need not be searched one by one.
    may_hold_control_characters: bool = True


def read_table(content: bytes, file_name: str) -> Table:
    name = file_name.lower()
    if name.endswith(".xls") or content.startswith(OLE_MAGIC):
        raise TableError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    if name.endswith(".xlsx"):
        if not content.startswith(XLSX_MAGIC):
            raise TableError("文件扩展名是 .xlsx，但内容不是有效的 Excel 文件")
        return _read_xlsx(content)
    if name.endswith(".csv"):
        return _read_csv(content)
    raise TableError("文件类型不支持：只接受 .xlsx 或 .csv 文件")


def _read_xlsx(content: bytes) -> Table:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise TableError(f"无法读取 Excel 文件：{exc}") from None
    return _split_header(rows)


def decode_csv(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise TableError("CSV 文件标明为 UTF-8，但其中有无法识别的字符，请重新保存为 UTF-8") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError("无法识别 CSV 文件编码：请保存为 UTF-8 或 GB18030（Excel 默认的“CSV（逗号分隔）”）") from None


def _read_csv(content: bytes) -> Table:
    text = decode_csv(content)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise TableError(f"CSV 文件格式错误：{exc}") from None
    table = _split_header(rows)
    table.may_hold_control_characters = has_control_characters(text)
    return table


def _split_header(rows: list[list]) -> Table:
    # Skip blank lines above the header.
    start = 0
    while start < len(rows) and not any(_is_filled(c) for c in rows[start]):
        start += 1
    if start >= len(rows):
        raise TableError("文件是空的：没有找到表头行")
    headers = [clean_header(c) for c in rows[start]]
    return Table(headers=headers, rows=rows[start + 1 :], first_row_number=start + 2)


def clean_header(value) -> str:
    text = "" if value is None else str(value)
    # Full-width and half-width brackets both occur in departments' templates.
    return text.strip().replace("(", "（").replace(")", "）").replace(" ", "")


def _is_filled(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def iter_records(table: Table, columns: dict[str, int], *, key: str | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (row number, {column: raw cell}) for every non-blank row.

    `key` names a column that is filled in every real row: checking it first spares scanning
    every cell of every row for blankness (this runs once per row of 100,000-row files).
    """
    width = len(table.headers)
    names = list(columns)
    pick = itemgetter(*columns.values())
    key_index = columns.get(key) if key else None
    for offset, row in enumerate(table.rows):
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        key_empty = key_index is None or not _is_filled(row[key_index])
        if key_empty and not any(_is_filled(c) for c in row[:width]):
            continue
        values = pick(row)
        yield table.first_row_number + offset, dict(zip(names, values if len(names) > 1 else (values,), strict=True))


def column_index(headers: list[str], wanted: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map column names to positions; returns the map and the names that appear twice."""
    found: dict[str, int] = {}
    repeated = []
    for i, header in enumerate(headers):
        if header in wanted:
            if header in found:
                repeated.append(header)
            else:
                found[header] = i
    return found, repeated


# --- cells ----------------------------------------------------------------------------------


class CellError(ValueError):
    """One cell is invalid; the message is shown to the user with row and column."""


def cell_text(value) -> str:
    """Text of a cell; integral number cells become their digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def cell_digits(value, *, what: str) -> str:
    """A long digit string (ID, bank account) that must not have gone through a float.

    Full-width digits (typed with a Chinese input method) are turned into ASCII.
    """
    if isinstance(value, float | int) and not isinstance(value, bool):
        if abs(value) >= 1e15:
            raise CellError(f"{what}被 Excel 存成了数字，超过 15 位的部分已丢失；请把该列设置为文本后重新录入")
        return str(int(value))
    text = cell_text(value)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """Invisible control characters (NUL and the like) that a database or a bank file would refuse."""
    return bool(_CONTROL.search(text))


_DATE_RES = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: 0?0:00(?::00)?)?$"), "ymd"),
    (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "ymd"),
)


def cell_date(value) -> datetime.date | None:
    """A date in any accepted form, or None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return datetime.date.fromisoformat(text)  # the common case, fast
        except ValueError:
            pass
    for pattern, _ in _DATE_RES:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError:
                raise CellError("不是有效日期") from None
    raise CellError("日期格式不对，应为 2024-03-05、2024/3/5 或 20240305")


_MONEY_RE = re.compile(r"^-?\d+(\.\d{1,2})?$")


def cell_money(value) -> Decimal | None:
    """Yuan with at most two decimals, read exactly (never through float arithmetic)."""
    if value is None:
        return None
    if isinstance(value, float | int) and not isinstance(value, bool):
        # The cell holds a binary float; its shortest repr is what Excel shows.
        text = repr(float(value)) if isinstance(value, float) else str(value)
        if "e" in text or "E" in text:
            raise CellError("金额数值异常")
        if text.endswith(".0"):
            text = text[:-2]
    else:
        text = cell_text(value).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if not text:
        return None
    if not _MONEY_RE.match(text):
        raise CellError("金额格式不对，应为以元为单位、最多两位小数的数字")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CellError("金额格式不对") from None
