"""Reading the spreadsheets other departments send: .xlsx or .csv (UTF-8 with or without BOM,
or GB18030 as written by Excel on a Chinese Windows), and parsing their cells.

Cells come back as read: str for text, float/int for number cells, date/datetime for date
cells (xlsx only). Column checks live with each import; this module only reads and converts.

Every file is treated as hostile. Before an .xlsx is handed to the reader (which allocates a dense grid up to
the last cell the sheet names), the zip is inspected: entry count, uncompressed size, compression ratio, and the
first sheet's extent, found by scanning its XML (row and cell references, and cells without references counted
as the reader would place them). Files past the limits (TableLimits; settings IMPORT_MAX_*) are refused with a
message saying what to fix, before anything large is allocated. Rows are then yielded one at a time.
"""

import csv
import datetime
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from python_calamine import CalamineWorkbook

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class TableLimits:
    """What a file may hold. The defaults allow a prefecture's monthly extract; imports pass the settings."""

    max_rows: int = EXCEL_MAX_ROWS
    max_columns: int = 256
    max_cells: int = 40_000_000  # rows × columns of the grid the reader allocates (about 30 bytes a cell)
    max_uncompressed: int = 1024 * 1024 * 1024  # bytes, all zip entries together
    max_ratio: int = 200  # uncompressed ÷ compressed, per entry (zip bombs reach thousands)
    max_entries: int = 10_000

    @classmethod
    def from_settings(cls) -> "TableLimits":
        """The limits a deployment sets (IMPORT_MAX_COLUMNS, IMPORT_MAX_CELLS, IMPORT_MAX_UNCOMPRESSED_MB)."""
        from django.conf import settings  # read when asked: this module is also used without Django settings

        return cls(
            max_columns=getattr(settings, "IMPORT_MAX_COLUMNS", cls.max_columns),
            max_cells=getattr(settings, "IMPORT_MAX_CELLS", cls.max_cells),
            max_uncompressed=getattr(settings, "IMPORT_MAX_UNCOMPRESSED_MB", cls.max_uncompressed // 2**20) * 2**20,
        )


DEFAULT_LIMITS = TableLimits()


class TableError(ValueError):
    """The file as a whole cannot be read; the message is shown to the user."""


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


# --- inspecting an .xlsx before reading it -----------------------------------------------------

# Rows, cells and the dimension; in a part of the sheet with formulas also each cell's formula and value (an empty
# value, <v/> or <v></v>, first).
_SHEET_TAG = re.compile(rb"()<(?:\w+:)?(row|c|dimension)\b([^>]*?)(/?)>|</(?:\w+:)?(row)>")
_SHEET_TAG_FORMULAS = re.compile(
    rb"<(?:\w+:)?(v)>\s*</(?:\w+:)?v>|<(?:\w+:)?(row|c|dimension|f|v)\b([^>]*?)(/?)>|</(?:\w+:)?(row)>"
)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_REF = re.compile(rb'\br="([A-Z]{1,4})([0-9]{1,8})"')
_ROW_NUMBER = re.compile(rb'\br="([0-9]{1,8})"')
_SHEET_ENTRY = re.compile(r"^xl/worksheets/[^/]+\.xml$")


@dataclass
class SheetExtent:
    rows: int = 0
    columns: int = 0
    declared: str = ""  # the sheet's own <dimension ref="...">
    formulas_without_value: int = 0  # formula cells the file holds no result of (written by a program, not Excel)
    first_formula_without_value: str = ""
    _row: int = field(default=0, repr=False)
    _column: int = field(default=0, repr=False)
    _formula: bool = field(default=False, repr=False)  # the current cell has a formula …
    _value: bool = field(default=False, repr=False)  # … and a value

    def end_cell(self) -> None:
        if self._formula and not self._value:
            self.formulas_without_value += 1
            if not self.first_formula_without_value:
                self.first_formula_without_value = f"{column_letters(self._column)}{self._row}"
        self._formula = self._value = False


def column_letters(number: int) -> str:
    """A column's number as A1-style letters (1 = A, 28 = AB)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes) -> int:
    """A1-style column letters as a number (A = 1, XFD = 16384)."""
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


def inspect_xlsx(content: bytes, limits: TableLimits = DEFAULT_LIMITS) -> SheetExtent:
    """Refuse an .xlsx that would take the reader past the limits; return the first sheet's extent."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TableError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式") from None
    if len(entries) > limits.max_entries:
        raise TableError(f"Excel 文件内部的部件过多（{len(entries)} 个），不像是正常的表格，请另存为新文件后再导入")
    total = sum(e.file_size for e in entries)
    if total > limits.max_uncompressed:
        raise TableError(
            f"Excel 文件解压后约 {total // 1024 // 1024:,} MB，超过上限 {limits.max_uncompressed // 1024 // 1024:,} MB；"
            "请分成几个文件导入，或改用 CSV"
        )
    for e in entries:
        if e.file_size > 1024 * 1024 and e.file_size > limits.max_ratio * max(e.compress_size, 1):
            raise TableError(
                f"Excel 文件中“{e.filename[:60]}”的压缩比异常（{e.file_size // max(e.compress_size, 1):,} 倍），"
                "可能是恶意构造的文件，已拒绝"
            )
    sheet = _first_sheet(archive)
    if sheet is None:
        raise TableError("Excel 文件中没有工作表")
    extent = _scan_sheet(archive, sheet)
    if extent.rows > limits.max_rows:
        raise TableError(f"工作表有 {extent.rows:,} 行，超过上限 {limits.max_rows:,} 行；请分成几个文件导入")
    if extent.columns > limits.max_columns:
        where = f"（最远的单元格在第 {extent.columns:,} 列）" if extent.columns > 1000 else ""
        raise TableError(
            f"工作表有 {extent.columns:,} 列{where}，超过上限 {limits.max_columns} 列；"
            "请删除表格右侧多余的列（或只复制数据区域到新工作簿）后另存再导入"
        )
    if extent.formulas_without_value:
        raise TableError(
            f"工作表中有 {extent.formulas_without_value:,} 个公式单元格没有计算结果（第一个在 "
            f"{extent.first_formula_without_value}），文件可能是由其他程序生成的：请用 Excel 或 WPS 打开后另存一次，"
            "或把公式复制后“粘贴为数值”再导入"
        )
    if extent.rows * extent.columns > limits.max_cells:
        raise TableError(
            f"工作表范围为 {extent.rows:,} 行 × {extent.columns:,} 列，超过可读取的单元格上限 "
            f"{limits.max_cells:,} 个；请删除多余的行列、分成几个文件，或改用 CSV"
        )
    return extent


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The zip entry of the workbook's first sheet (the one the reader takes), from workbook.xml and its rels."""
    names = set(archive.namelist())
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    except (KeyError, zipfile.BadZipFile, OSError):
        workbook, rels = b"", b""
    first = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', workbook)
    if first and rels:
        for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
            if re.search(rb'\bId="' + re.escape(first.group(1)) + rb'"', rel.group(0)):
                target = re.search(rb'\bTarget="([^"]+)"', rel.group(0))
                if target:
                    path = target.group(1).decode("utf-8", "replace").lstrip("/")
                    path = path if path.startswith("xl/") else f"xl/{path}"
                    if path in names:
                        return path
    sheets = sorted(n for n in names if _SHEET_ENTRY.match(n))
    return sheets[0] if sheets else None


def _scan_sheet(archive: zipfile.ZipFile, entry: str) -> SheetExtent:
    """The grid the reader will allocate for the sheet: the furthest row and column any cell reaches, counting
    rows and cells without a reference where the reader would put them. Streams the XML in 1 MB pieces."""
    extent = SheetExtent()
    tail = b""
    with archive.open(entry) as stream:
        while True:
            chunk = stream.read(1 << 20)
            data = tail + chunk
            cut = data.rfind(b">") + 1 if chunk else len(data)
            _scan_tags(data[:cut], extent)
            tail = data[cut:]
            if not chunk:
                break
            if len(tail) > 1 << 20:  # a single tag of a megabyte is not a spreadsheet
                raise TableError("Excel 文件的工作表内容异常，无法读取")
    extent.end_cell()
    return extent


def _scan_tags(data: bytes, extent: SheetExtent) -> None:
    formulas = extent._formula or _FORMULA.search(data)
    for match in (_SHEET_TAG_FORMULAS if formulas else _SHEET_TAG).finditer(data):
        if match.group(1):  # an empty value
            continue
        name, attrs = match.group(2) or match.group(5), match.group(3) or b""
        if name == b"f":
            extent._formula = True
        elif name == b"v":
            extent._value = extent._value or not match.group(4)
        elif name == b"c":
            extent.end_cell()
            ref = _REF.search(attrs)
            extent._column = column_number(ref.group(1)) if ref else extent._column + 1
            if ref:
                extent._row = max(extent._row, int(ref.group(2)))
            extent.columns = max(extent.columns, extent._column)
            extent.rows = max(extent.rows, extent._row)
        elif name == b"row" and match.group(5):  # the end of a row
            extent.end_cell()
        elif name == b"row":
            extent.end_cell()
            number = _ROW_NUMBER.search(attrs)
            extent._row = int(number.group(1)) if number else extent._row + 1
            extent._column = 0
            extent.rows = max(extent.rows, extent._row)
        elif name == b"dimension":
            ref = re.search(rb'\bref="([^"]{1,40})"', attrs)
            extent.declared = ref.group(1).decode("ascii", "replace") if ref else ""


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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """Invisible control characters (NUL and the like) that a database or a bank file would refuse."""
    return bool(_CONTROL.search(text))


CONTROL_MESSAGE = "含有不可见的控制字符，请删除后重新录入"


def control_columns(record: dict) -> list[str]:
    """The columns of a record (iter_records) whose text holds control characters."""
    return [column for column, raw in record.items() if isinstance(raw, str) and _CONTROL.search(raw)]


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
    sheet = _first_sheet(archive)
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
            ref = _REF.search(attrs)
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
