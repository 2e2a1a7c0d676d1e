"""Hostile spreadsheets are refused before the reader allocates anything large (lib.tabular.inspect_xlsx).

The dangerous reads run in a child process: before the checks, the reader aborted the whole process (SIGABRT)
trying to allocate a grid of 16,384 × 1,048,576 cells, which would take the test run down with it.
"""

import io
import subprocess
import sys
import textwrap
import zipfile

import pytest

from lib.tabular import TableError, TableLimits, inspect_xlsx, read_table

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def workbook(sheet_data: str, *, padding: int = 0) -> bytes:
    """A minimal .xlsx whose first sheet holds `sheet_data` (the inside of <sheetData>)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_data}</sheetData>{' ' * padding}</worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def read_in_child(content: bytes, file_name: str = "名册.xlsx") -> subprocess.CompletedProcess:
    """read_table in a separate Python process: a crash there cannot take the test run down."""
    script = textwrap.dedent(
        """
        import sys
        from lib.tabular import TableError, read_table
        try:
            table = read_table(sys.stdin.buffer.read(), sys.argv[1])
            print("rows", sum(1 for _ in table.rows))
        except TableError as exc:
            print("refused", exc)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script, file_name], input=content, capture_output=True, timeout=60, cwd="."
    )


def test_a_single_cell_at_the_last_excel_address_is_refused_without_a_crash():
    content = workbook(f'<row r="1">{cell("A1", "身份证号")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>')
    assert len(content) < 2000  # the 1.6 KB file of the report
    result = read_in_child(content)
    assert result.returncode == 0, result.stderr.decode()[-500:]
    out = result.stdout.decode()
    assert out.startswith("refused") and "16,384 列" in out and "删除表格右侧多余的列" in out


def test_cells_without_references_are_counted_where_the_reader_would_place_them():
    # 300 cells in one row with no r="..." attributes: the reader lays them out as 300 columns.
    content = workbook("<row>" + "<c/>" * 300 + "</row>")
    with pytest.raises(TableError, match="300 列"):
        inspect_xlsx(content)


def test_rows_without_references_count_too():
    content = workbook(cell("A1", "h") + "<row/>" * 1000, padding=0)
    with pytest.raises(TableError, match="行"):
        inspect_xlsx(content, TableLimits(max_rows=500))


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    # 30 MB of padding that deflates to a few kilobytes.
    content = workbook(f'<row r="1">{cell("A1", "身份证号")}</row>', padding=30 * 1024 * 1024)
    assert len(content) < 100_000
    with pytest.raises(TableError, match="压缩比异常"):
        inspect_xlsx(content)


def test_an_entry_past_the_uncompressed_limit_is_refused():
    content = workbook(f'<row r="1">{cell("A1", "身份证号")}</row>', padding=3 * 1024 * 1024)
    with pytest.raises(TableError, match="解压后"):
        inspect_xlsx(content, TableLimits(max_uncompressed=2 * 1024 * 1024, max_ratio=10**6))


def test_too_many_cells_is_refused_even_within_rows_and_columns():
    content = workbook(f'<row r="1">{cell("A1", "a")}</row><row r="100000">{cell("CV100000", "z")}</row>')
    with pytest.raises(TableError, match="单元格上限"):
        inspect_xlsx(content, TableLimits(max_cells=1_000_000))


def test_a_damaged_zip_is_a_clear_error():
    with pytest.raises(TableError, match="已损坏"):
        read_table(b"PK\x03\x04" + b"\x00" * 100, "名册.xlsx")


def test_a_normal_workbook_reads_with_its_column_positions():
    content = workbook(
        f'<row r="3">{cell("C3", "身份证号")}{cell("D3", "姓名")}</row><row r="4">{cell("C4", "1")}{cell("D4", "张三")}</row>'
    )
    extent = inspect_xlsx(content)
    assert (extent.rows, extent.columns) == (4, 4)
    table = read_table(content, "名册.xlsx")
    assert table.headers[2:] == ["身份证号", "姓名"] and table.first_row_number == 4
    assert [row[2:] for row in table.rows] == [["1", "张三"]]


def test_a_csv_line_with_thousands_of_columns_is_refused():
    content = ("身份证号,姓名\n" + "," * 5000 + "\n").encode()
    table = read_table(content, "名册.csv")
    with pytest.raises(TableError, match="列"):
        list(table.rows)


HEAD = f'<row r="1">{cell("A1", "身份证号")}{cell("B1", "姓名")}</row>'


@pytest.mark.parametrize(
    "formula_cell",
    [
        '<c r="B2"><f>1+1</f><v /></c>',  # openpyxl's
        '<c r="B2"><f>1+1</f><v></v></c>',
        '<c r="B2"><f>1+1</f></c>',
        '<c r="B2" t="str"><f>HYPERLINK("http://x","y")</f></c>',
        '<c r="B2"><x:f t="shared" si="0"/></c>',
    ],
)
def test_a_formula_the_file_holds_no_result_of_is_refused_not_read_as_empty(formula_cell):
    content = workbook(f'{HEAD}<row r="2">{cell("A2", "1")}{formula_cell}</row><row r="3">{cell("A3", "2")}</row>')
    with pytest.raises(TableError, match=r"1 个公式单元格没有计算结果（第一个在 B2）.*粘贴为数值"):
        read_table(content, "名册.xlsx")


def test_formulas_with_their_results_are_read_as_the_results():
    content = workbook(
        f'{HEAD}<row r="2">{cell("A2", "1")}<c r="B2"><f>1+1</f><v>2</v></c></row>'
        f'<row r="3">{cell("A3", "2")}<c r="B3" t="str"><f>A3&amp;"x"</f><v>2x</v></c></row>'
    )
    assert [row[:2] for row in read_table(content, "名册.xlsx").rows] == [["1", 2.0], ["2", "2x"]]


def test_the_last_cell_of_the_sheet_is_checked_too():
    content = workbook(f'{HEAD}<row r="2">{cell("A2", "1")}<c r="C2"><f>1+1</f>')
    with pytest.raises(TableError, match="第一个在 C2"):
        inspect_xlsx(content)
