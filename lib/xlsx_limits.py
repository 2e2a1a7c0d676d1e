"""What an .xlsx or .csv may hold (TableLimits), the error of a file that cannot be read, and the inspection of an
.xlsx before the reader sees it: the zip's entries, sizes and compression ratios, and the first sheet's extent found
by scanning its XML (row and cell references; cells without references counted where the reader would place them;
formula cells the file holds no result of). lib.tabular reads what passes."""

import io
import re
import zipfile
from dataclasses import dataclass, field

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


# --- inspecting an .xlsx before reading it -----------------------------------------------------

# Rows, cells and the dimension; in a part of the sheet with formulas also each cell's formula and value (an empty
# value, <v/> or <v></v>, first).
_SHEET_TAG = re.compile(rb"()<(?:\w+:)?(row|c|dimension)\b([^>]*?)(/?)>|</(?:\w+:)?(row)>")
_SHEET_TAG_FORMULAS = re.compile(
    rb"<(?:\w+:)?(v)>\s*</(?:\w+:)?v>|<(?:\w+:)?(row|c|dimension|f|v)\b([^>]*?)(/?)>|</(?:\w+:)?(row)>"
)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
REF = re.compile(rb'\br="([A-Z]{1,4})([0-9]{1,8})"')
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
    sheet = first_sheet(archive)
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


def first_sheet(archive: zipfile.ZipFile) -> str | None:
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
            ref = REF.search(attrs)
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
