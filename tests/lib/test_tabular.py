"""lib.tabular: reading the tables other departments send (CSV in their encodings, .xlsx) and parsing cells.

The hostile-file limits have their own tests (test_hostile_files.py)."""

import datetime
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from lib.tabular import (
    CellError,
    TableError,
    cell_date,
    cell_digits,
    cell_money,
    cell_text,
    clean_header,
    column_index,
    has_control_characters,
    iter_records,
    read_table,
)

D = Decimal
ROWS = [["姓名", "身份证号", "金额（元）"], ["王秀英", "440981195001010011", "1234.50"], ["李四", "", "0"]]


def csv_text(rows) -> str:
    return "".join(",".join(row) + "\r\n" for row in rows)


def records(table, wanted=("姓名", "身份证号", "金额（元）"), key=None):
    columns, _ = column_index(table.headers, list(wanted))
    return list(iter_records(table, columns, key=key))


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="utf-8"),
        pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(lambda text: text.encode("gb18030"), id="gb18030 (Excel on Chinese Windows)"),
    ],
)
def test_csv_in_each_encoding_reads_the_same_table(encode):
    table = read_table(encode(csv_text(ROWS)), "名册.CSV")
    assert table.headers == ["姓名", "身份证号", "金额（元）"]
    assert records(table) == [
        (2, {"姓名": "王秀英", "身份证号": "440981195001010011", "金额（元）": "1234.50"}),
        (3, {"姓名": "李四", "身份证号": "", "金额（元）": "0"}),
    ]


def test_a_bom_declaring_utf8_over_other_bytes_is_refused_with_a_message():
    with pytest.raises(TableError, match="标明为 UTF-8"):
        read_table(b"\xef\xbb\xbf" + "姓名".encode("gb18030") + b"\xff", "x.csv")


def test_bytes_in_no_known_encoding_are_refused():
    with pytest.raises(TableError, match="无法识别 CSV 文件编码"):
        read_table(b"\x81\x30\xff\xff,\xff", "x.csv")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名册.xls", b"anything", "不支持旧版 .xls"),
        ("名册.xlsx", b"\xd0\xcf\x11\xe0legacy", "不支持旧版 .xls"),  # an .xls renamed .xlsx
        ("名册.xlsx", b"name,id\r\n", "内容不是有效的 Excel 文件"),
        ("名册.txt", b"name,id\r\n", "只接受 .xlsx 或 .csv"),
        ("空.csv", b"", "文件是空的"),
        ("空.csv", b",,\r\n \r\n", "文件是空的"),
    ],
)
def test_files_that_are_not_a_table_are_refused_with_a_message(name, content, message):
    with pytest.raises(TableError, match=message):
        read_table(content, name)


def test_blank_lines_above_the_header_are_skipped_and_row_numbers_stay_the_sheets():
    table = read_table(("\r\n,,\r\n" + csv_text(ROWS)).encode(), "x.csv")
    assert table.first_row_number == 4
    assert [number for number, _ in records(table)] == [4, 5]


def test_headers_are_cleaned_of_spaces_and_half_width_brackets():
    assert clean_header(" 金额 (元) ") == "金额（元）"
    assert clean_header(None) == ""
    assert clean_header(2025) == "2025"


def test_blank_rows_are_skipped_short_rows_padded_and_a_filled_row_without_key_kept():
    content = csv_text([*ROWS, ["", "", ""], ["", "440981195001030033"]]).encode()
    found = records(read_table(content, "x.csv"), key="姓名")
    assert [n for n, _ in found] == [2, 3, 5]
    assert found[-1][1] == {"姓名": "", "身份证号": "440981195001030033", "金额（元）": None}


def test_one_wanted_column_is_still_a_mapping():
    assert records(read_table(csv_text(ROWS).encode(), "x.csv"), wanted=["姓名"]) == [
        (2, {"姓名": "王秀英"}),
        (3, {"姓名": "李四"}),
    ]


def test_column_index_maps_the_first_of_each_name_and_reports_repeats():
    found, repeated = column_index(["姓名", "备注", "姓名", "金额"], ["姓名", "金额", "电话"])
    assert found == {"姓名": 0, "金额": 3} and repeated == ["姓名"]


def test_control_characters_are_noticed_for_csv_and_assumed_possible_otherwise():
    clean = read_table(csv_text(ROWS).encode(), "x.csv")
    dirty = read_table(csv_text([*ROWS, ["王\x00五", "", ""]]).encode(), "x.csv")
    assert (clean.may_hold_control_characters, dirty.may_hold_control_characters) == (False, True)
    assert has_control_characters("a\x07b") and not has_control_characters("a\tb\r\n")


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_come_back_as_stored_and_parse_like_csv_text():
    content = xlsx(
        [
            ["姓名", "身份证号", "金额（元）", "出院日期"],
            ["王秀英", "440981195001010011", 1234.5, datetime.date(2025, 6, 10)],
            [None, None, None, None],
            ["李四", 440981195001020022, 12, "2025/7/1"],
        ]
    )
    table = read_table(content, "结算.xlsx")
    columns, _ = column_index(table.headers, ["姓名", "身份证号", "金额（元）", "出院日期"])
    rows = list(iter_records(table, columns))
    assert [n for n, _ in rows] == [2, 4]
    first, second = rows[0][1], rows[1][1]
    assert (
        cell_text(first["姓名"]) == "王秀英" and cell_digits(first["身份证号"], what="身份证号") == "440981195001010011"
    )
    assert cell_money(first["金额（元）"]) == D("1234.50") and cell_money(second["金额（元）"]) == D("12")
    assert cell_date(first["出院日期"]) == datetime.date(2025, 6, 10) == cell_date(datetime.date(2025, 6, 10))
    assert cell_date(second["出院日期"]) == datetime.date(2025, 7, 1)
    with pytest.raises(CellError, match="超过 15 位"):
        cell_digits(second["身份证号"], what="身份证号")  # an ID typed into a number cell lost its last digits


# --- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (" 王秀英 ", "王秀英"), (12.0, "12"), (12.5, "12.5"), (7, "7"), (True, "是"), (False, "否")],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_cell_text_of_dates_and_times():
    assert cell_text(datetime.date(2025, 3, 5)) == "2025-03-05"
    assert cell_text(datetime.datetime(2025, 3, 5, 8, 30)) == "2025-03-05 08:30:00"


def test_full_width_digits_typed_with_a_chinese_input_method_become_ascii():
    assert cell_digits("４４０９８１", what="身份证号") == "440981"
    assert cell_digits(" 6228480000123456789 ", what="银行账号") == "6228480000123456789"


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-05",
        "2024-3-5",
        "2024-03-05 00:00:00",
        "2024/3/5",
        "2024/03/05 0:00",
        "2024.3.5",
        "20240305",
        "2024年3月5日",
        "２０２４－０３－０５",
    ],
)
def test_every_accepted_date_form(text):
    assert cell_date(text) == datetime.date(2024, 3, 5)


@pytest.mark.parametrize(("text", "message"), [("2024-02-30", "不是有效日期"), ("5/3/2024", "日期格式不对")])
def test_bad_dates_are_refused_with_a_message(text, message):
    with pytest.raises(CellError, match=message):
        cell_date(text)


def test_an_empty_date_cell_is_none():
    assert cell_date(None) is None and cell_date("  ") is None


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2099, 12, 31)))
def test_a_date_written_any_accepted_way_reads_back(day):
    for text in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
    ):
        assert cell_date(text) == day


@pytest.mark.parametrize(
    ("value", "amount"),
    [("1,234.50", D("1234.50")), ("¥12", D("12")), ("￥1，000", D("1000")), ("-5.5", D("-5.5")), (0.0, D("0"))],
)
def test_money_cells_in_the_forms_departments_write(value, amount):
    assert cell_money(value) == amount


@pytest.mark.parametrize(
    "value", ["12.345", "十二元", "1e3", 1e16, True, "1,0,0,0", "1,2,3", "12,34.00", ",100", "1,000,0"]
)
def test_money_with_more_than_cents_or_not_a_number_is_refused(value):
    with pytest.raises(CellError):
        cell_money(value)


def test_an_empty_money_cell_is_none():
    assert cell_money(None) is None and cell_money(" ") is None


# Up to 15 significant digits (13 of yuan, 2 of cents): what a float cell holds exactly as Excel shows it.
AMOUNTS = st.decimals(min_value=D("-9999999999999.99"), max_value=D("9999999999999.99"), places=2)


@given(amount=AMOUNTS)
def test_an_amount_in_a_number_cell_reads_back_exactly(amount):
    assert cell_money(float(amount)) == amount


@given(amount=AMOUNTS)
def test_an_amount_in_a_text_cell_reads_back_exactly(amount):
    assert cell_money(f"{amount:,}") == amount


@pytest.mark.parametrize("value", ["1800-01-01", "18991231", "2101/1/1", "0001-01-01", datetime.date(1899, 12, 31)])
def test_a_date_outside_1900_to_2100_is_a_typing_error(value):
    with pytest.raises(CellError, match="日期超出合理范围"):
        cell_date(value)


def test_the_ends_of_the_range_are_dates():
    assert cell_date("1900-01-01") == datetime.date(1900, 1, 1) and cell_date("2100-12-31").year == 2100


def test_a_gb18030_file_with_its_byte_order_mark_reads_its_header():
    content = b"\x84\x31\x95\x33" + "身份证号,姓名\r\n1,张三\r\n".encode("gb18030")
    table = read_table(content, "名册.csv")
    assert table.headers == ["身份证号", "姓名"] and list(table.rows) == [["1", "张三"]]
