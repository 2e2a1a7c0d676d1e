"""Reading the spreadsheets other departments send: .xlsx or .csv (UTF-8 with or without BOM,
or GB18030 as written by Excel on a Chinese Windows), and parsing their cells.

Cells come back as read: str for text, float/int for number cells, date/datetime for date
cells (xlsx only). Column checks live with each import; this module only reads and converts.

Every file is treated as hostile. Before an .xlsx is handed to the reader (which allocates a dense grid up to
the last cell the sheet names), it is inspected (lib.xlsx_limits): files past the limits (TableLimits; settings
IMPORT_MAX_*) are refused with a message saying what to fix, before anything large is allocated. Rows are then
yielded one at a time.
"""

import csv
import datetime
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from python_calamine import CalamineWorkbook

from .control import CONTROL_MESSAGE, has_control_characters  # noqa: F401 (the imports' names for them)
from .xlsx_limits import (  # noqa: F401 (TableLimits and the magic numbers are this module's names too)
    DEFAULT_LIMITS,
    EXCEL_MAX_ROWS,
    OLE_MAGIC,
    REF,
    XLSX_MAGIC,
    TableError,
    TableLimits,
    column_number,
    first_sheet,
    inspect_xlsx,
)


@dataclass
class Table:
    headers: list[str]
    rows: Iterable[list]  # data rows, header excluded; read once, in order
    first_row_number: int = 2  # spreadsheet row number of rows[0]
    # False when the whole file is known to hold no control characters (one search over a CSV's
    # text), so that rows need not be searched one by one.
    may_hold_control_characters: bool = True


def read_table(content: bytes, file_name: str, *, limits: TableLimits | None = None) -> Table:
    """The file's header and rows (see the module's docstring for the checks). `limits` default to the settings."""
    limits = limits or TableLimits.from_settings()
    name = file_name.lower()
    if name.endswith(".xls") or content.startswith(OLE_MAGIC):
        raise TableError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    if name.endswith(".xlsx"):
        if not content.startswith(XLSX_MAGIC):
            raise TableError("文件扩展名是 .xlsx，但内容不是有效的 Excel 文件")
        return _read_xlsx(content, limits)
    if name.endswith(".csv"):
        return _read_csv(content, limits)
    raise TableError("文件类型不支持：只接受 .xlsx 或 .csv 文件")


def _read_xlsx(content: bytes, limits: TableLimits) -> Table:
    inspect_xlsx(content, limits)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise TableError(f"无法读取 Excel 文件：{exc}") from None
    return _split_header(_xlsx_rows(sheet))


def _xlsx_rows(sheet) -> Iterator[list]:
    # The reader yields every row from the first, but each only from the first used column: pad it, so that
    # positions match the sheet's columns as the header row names them.
    pad = [""] * (sheet.start[1] if sheet.start else 0)
    try:
        for row in sheet.iter_rows():
            yield pad + row if pad else row
    except Exception as exc:  # a damaged cell deep in the sheet
        raise TableError(f"无法读取 Excel 文件：{exc}") from None


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
        return content.decode("gb18030").removeprefix("\ufeff")  # GB18030's own mark (84 31 95 33), when there
    except UnicodeDecodeError:
        raise TableError("无法识别 CSV 文件编码：请保存为 UTF-8 或 GB18030（Excel 默认的“CSV（逗号分隔）”）") from None


def _read_csv(content: bytes, limits: TableLimits) -> Table:
    text = decode_csv(content)
    table = _split_header(_csv_rows(text, limits))
    table.may_hold_control_characters = has_control_characters(text)
    return table


def _csv_rows(text: str, limits: TableLimits) -> Iterator[list]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(reader, start=1):
            if number > limits.max_rows:
                raise TableError(f"文件超过 {limits.max_rows:,} 行；请分成几个文件导入")
            if len(row) > limits.max_columns:
                raise TableError(
                    f"第 {number:,} 行有 {len(row):,} 列，超过上限 {limits.max_columns} 列；请检查分隔符或删除多余的列"
                )
            yield row
    except csv.Error as exc:
        raise TableError(f"CSV 文件格式错误：{exc}") from None


def _split_header(rows: Iterable[list]) -> Table:
    """The first non-blank row is the header; the rest are yielded as they are read."""
    rows = iter(rows)
    for number, row in enumerate(rows, start=1):
        if any(_is_filled(c) for c in row):
            return Table(headers=[clean_header(c) for c in row], rows=rows, first_row_number=number + 1)
    raise TableError("文件是空的：没有找到表头行")


def clean_header(value) -> str:
    text = "" if value is None else str(value).replace("\ufeff", "")
    # Full-width and half-width brackets both occur in departments' templates.
    return text.strip().replace("(", "（").replace(")", "）").replace(" ", "")


def _is_filled(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def iter_records(table: Table, columns: dict[str, int], *, key: str | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (row number, {column: raw cell}) for every non-blank row.

    `key` names a column that is filled in every real row: checking it first spares scanning
    every cell of every row for blankness (this runs once per row of 100,000-row files).
    """
    record = record_reader(columns)
    for number, row in iter_rows(table, key_index=columns.get(key) if key else None):
        yield number, record(row)


def iter_rows(table: Table, *, key_index: int | None = None) -> Iterator[tuple[int, list]]:
    """Yield (row number, the row's cells, padded with None to the header's width) for every non-blank row;
    `key_index` as iter_records' `key`. A reader of whole columns takes these; `record_reader` makes a row the
    record iter_records would have given."""
    width = len(table.headers)
    for number, row in enumerate(table.rows, start=table.first_row_number):
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        if key_index is not None:
            key = row[key_index]
            if type(key) is str and key and not key.isspace():  # (_is_filled of a text cell, inline: once a row)
                yield number, row
                continue
            if _is_filled(key):
                yield number, row
                continue
        if not any(_is_filled(c) for c in row[:width]):
            continue
        yield number, row


def record_reader(columns: dict[str, int]) -> Callable[[list], dict]:
    """A function giving a row of iter_rows as {column: raw cell}."""
    names = list(columns)
    pick = itemgetter(*columns.values())
    if len(names) == 1:
        return lambda row: {names[0]: pick(row)}
    return lambda row: dict(zip(names, pick(row), strict=True))


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


def control_columns(record: dict) -> list[str]:
    """The columns of a record (iter_records) whose text holds control characters."""
    return [column for column, raw in record.items() if isinstance(raw, str) and has_control_characters(raw)]


_DATE_RES = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: 0?0:00(?::00)?)?$"), "ymd"),
    (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "ymd"),
)


DATE_YEARS = (1900, 2100)  # a cell's date outside these is a typing error (settlements.sql: the same)
DATE_RANGE_MESSAGE = f"日期超出合理范围（应在 {DATE_YEARS[0]} 年至 {DATE_YEARS[1]} 年之间）"


def cell_date(value) -> datetime.date | None:
    """A date in any accepted form, or None for an empty cell."""
    day = _cell_date(value)
    if day is not None and not DATE_YEARS[0] <= day.year <= DATE_YEARS[1]:
        raise CellError(DATE_RANGE_MESSAGE)
    return day


def _cell_date(value) -> datetime.date | None:
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
# Thousands separators only where they belong (1,234.50): "1,0,0,0" is not a thousand (settlements.sql: the same).
_GROUPED_RE = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d{1,2})?$")


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
        text = cell_text(value).replace("，", ",").replace("¥", "").replace("￥", "")
        if "," in text:
            if not _GROUPED_RE.match(text):
                raise CellError("金额格式不对，应为以元为单位、最多两位小数的数字")
            text = text.replace(",", "")
    if not text:
        return None
    if not _MONEY_RE.match(text):
        raise CellError("金额格式不对，应为以元为单位、最多两位小数的数字")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CellError("金额格式不对") from None


# --- the header row alone ---------------------------------------------------------------------

_ROW_XML = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_CELL_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_VALUE_XML = re.compile(rb"<(?:\w+:)?v\b[^>]*>(.*?)</(?:\w+:)?v>", re.S)
_TEXT_XML = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>|<(?:\w+:)?t\b[^>]*/>", re.S)
_PHONETIC_XML = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_SI_XML = re.compile(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)
_SI_END = re.compile(rb"</(?:\w+:)?si>|<(?:\w+:)?si\s*/>")
_HEADER_SCAN = 8 << 20  # bytes of a sheet (or of its shared strings) read at most to find the header
_CSV_HEAD = 1 << 20  # bytes of a CSV decoded to find its header


class _NotPlain(Exception):
    """The header row holds something only the full reader reads as it does (a number, a date, a formula's
    error): `read_headers` falls back to it."""


def read_headers(content, file_name: str) -> list[str]:
    """The header row as `read_table` finds it (the first filled row, cleaned), without reading the rows.

    An .xlsx's first sheet is streamed only up to its first filled row, and its shared strings only up to the last
    one that row uses: no scan of the whole sheet and no reader (choosing how to read a file costs milliseconds,
    not the seconds of reading it). A header row holding anything but text, or a file the streaming does not
    understand, is read by `read_table` instead, which also refuses hostile files. A CSV is read from its first
    megabyte. `content` may be any bytes-like object (an operator's file is memory-mapped).
    """
    name = file_name.lower()
    if name.endswith(".csv") and len(content) > _CSV_HEAD:
        head = bytes(content[:_CSV_HEAD])
        cut = head.rfind(b"\n")
        return read_table(head[: cut + 1] if cut > 0 else bytes(content), file_name).headers
    if name.endswith(".xlsx") and bytes(content[:4]) == XLSX_MAGIC:
        try:
            headers = _xlsx_headers(content)
        except (_NotPlain, zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError):
            headers = None
        if headers is not None:
            return headers
    return read_table(content if isinstance(content, bytes) else bytes(content), file_name).headers


def _stream_until(archive: zipfile.ZipFile, entry: str, done) -> bytes:
    data = b""
    with archive.open(entry) as stream:
        while len(data) < _HEADER_SCAN:
            chunk = stream.read(1 << 16)
            data += chunk
            if not chunk or done(data):
                return data
    raise _NotPlain("header not found near the start")


def _xml_text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8"))


def _xlsx_headers(content) -> list[str] | None:
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    sheet = first_sheet(archive)
    if sheet is None:
        return None
    data = _stream_until(archive, sheet, lambda d: b"</sheetData" in d or _filled_row(d) is not None)
    cells = _filled_row(data)
    if cells is None:
        return None  # no filled row at all: read_table says the file is empty
    wanted = {int(v) for t, v in cells.values() if t == "s"}
    shared = _shared_strings(archive, max(wanted) + 1) if wanted else []
    texts = {}
    for column, (kind, value) in cells.items():
        texts[column] = shared[int(value)] if kind == "s" else value
    if not any(t.strip() for t in texts.values()):
        raise _NotPlain("the first row holds only empty strings")
    width = max(texts) + 1
    return [clean_header(texts.get(i, "")) for i in range(width)]


def _filled_row(data: bytes) -> dict[int, tuple[str, str]] | None:
    """The cells of the first complete row holding a value: {column: ("s", index) or ("text", text)}."""
    for row in _ROW_XML.finditer(data):
        cells: dict[int, tuple[str, str]] = {}
        position = -1
        for cell in _CELL_XML.finditer(row.group(1) or b""):
            attrs, inner = cell.group(1), cell.group(2) or b""
            ref = REF.search(attrs)
            position = column_number(ref.group(1)) - 1 if ref else position + 1
            kind = _CELL_TYPE.search(attrs)
            kind = kind.group(1).decode() if kind else "n"
            if kind == "inlineStr":
                text = "".join(_xml_text(t.group(1) or b"") for t in _TEXT_XML.finditer(_PHONETIC_XML.sub(b"", inner)))
                cells[position] = ("text", text)
                continue
            value = _VALUE_XML.search(inner)
            if value is None:
                continue  # a styled empty cell
            if kind == "s":
                cells[position] = ("s", value.group(1).decode("ascii"))
            elif kind == "str":
                cells[position] = ("text", _xml_text(value.group(1)))
            else:
                raise _NotPlain(f"a header cell of type {kind}")
        if cells:
            return cells
    return None


def _shared_strings(archive: zipfile.ZipFile, count: int) -> list[str]:
    entry = "xl/sharedStrings.xml"
    data = _stream_until(archive, entry, lambda d: len(_SI_END.findall(d)) >= count or b"</sst" in d)
    strings = []
    for si in _SI_XML.finditer(data):
        inner = _PHONETIC_XML.sub(b"", si.group(1) or b"")
        strings.append("".join(_xml_text(t.group(1) or b"") for t in _TEXT_XML.finditer(inner)))
    if len(strings) < count:
        raise _NotPlain("shared strings end early")
    return strings
