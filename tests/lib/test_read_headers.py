"""lib.tabular.read_headers: the header row without reading the rows, always what read_table finds."""

import io
import mmap
import zipfile

import pytest
import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

import lib.tabular as tabular
from lib.tabular import TableError, read_headers, read_table

HEADERS = ["结算ID", " 证件号码 ", "医疗费总额(元)", "psn_no", "A&B <c>"]


def openpyxl_file(rows, *, at="A1") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    column, row = at[0], int(at[1:])
    offset = ord(column) - ord("A")
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is not None:
                sheet.cell(row=row + r, column=offset + c + 1, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsxwriter_file(rows, **options) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, **options})
    sheet = workbook.add_worksheet("结算")
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


DATA = [HEADERS, ["S1", "440981195001010011", 12.5, "P1", "x"], ["S2", "", 3, "P2", ""]]


@pytest.mark.parametrize(
    "content",
    [
        openpyxl_file(DATA),
        openpyxl_file([[None], *DATA], at="C3"),  # a blank row, then the table from column C
        xlsxwriter_file(DATA),
        xlsxwriter_file(DATA, constant_memory=True),  # inline strings
        openpyxl_file([[1, 2, "金额"], ["a", "b", "c"]]),  # numbers in the header: the full reader decides
    ],
    ids=["openpyxl", "offset", "xlsxwriter", "inline-strings", "numeric-header"],
)
def test_an_xlsx_header_is_what_the_reader_finds(content):
    assert [h for h in read_headers(content, "f.xlsx") if h] == [h for h in read_table(content, "f.xlsx").headers if h]


def test_rich_text_headers_are_read_as_their_text():
    workbook = Workbook()
    workbook.active["A1"] = CellRichText([TextBlock(InlineFont(b=True), "医疗"), "类别"])
    workbook.active["B1"] = "结算ID"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_headers(buffer.getvalue(), "f.xlsx")[:2] == ["医疗类别", "结算ID"]


def test_the_rows_are_not_read_when_the_header_is_plain(monkeypatch):
    content = xlsxwriter_file(DATA)
    monkeypatch.setattr(tabular, "read_table", lambda *a, **k: pytest.fail("the whole file was read"))
    assert read_headers(content, "f.xlsx")[:2] == ["结算ID", "证件号码"]


def test_a_csv_and_a_damaged_xlsx_go_through_read_table():
    assert read_headers("结算ID,证件号码\r\nS1,4409\r\n".encode("gb18030"), "f.csv") == ["结算ID", "证件号码"]
    damaged = xlsxwriter_file(DATA)[:400]
    with pytest.raises(TableError):
        read_headers(damaged, "f.xlsx")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(TableError):
        read_headers(empty.getvalue(), "f.xlsx")


@pytest.mark.parametrize("name", ["f.csv", "f.xlsx"])
def test_a_memory_mapped_file_is_read_from_its_beginning(tmp_path, name):
    rows = [HEADERS] + [[f"S{k}", "4409", "1.00", "P", "x"] for k in range(60_000)]  # over a megabyte as CSV
    if name.endswith(".csv"):
        content = "".join(",".join(r) + "\r\n" for r in rows).encode("gb18030")
        assert len(content) > 1 << 20
    else:
        content = xlsxwriter_file(rows)
    path = tmp_path / name
    path.write_bytes(content)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert read_headers(mapped, name)[:5] == ["结算ID", "证件号码", "医疗费总额（元）", "psn_no", "A&B<c>"]
