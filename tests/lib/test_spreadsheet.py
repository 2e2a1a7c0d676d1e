"""lib.spreadsheet: text a spreadsheet will not run as a formula, and the list workbook every export writes."""

import datetime
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from lib.spreadsheet import FORMULA_STARTS, XLSX, as_text, list_workbook, safe_text, xlsx_response


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_starting_like_a_formula_gets_a_leading_quote(start):
    assert safe_text(start + "HYPERLINK(1)") == "'" + start + "HYPERLINK(1)"


@pytest.mark.parametrize("value", ["王秀英", "6228480000123456789", "", "a=1", 12, Decimal("-5.50"), None])
def test_other_values_are_unchanged(value):
    assert safe_text(value) == value


def test_as_text_makes_any_value_safe_text():
    assert as_text(None) == ""
    assert as_text(Decimal("12.50")) == "12.50"
    assert as_text(-3) == "'-3"  # a negative number written as text would start like a formula
    assert as_text("=1+1") == "'=1+1"


@given(st.text())
def test_safe_text_never_starts_like_a_formula_and_only_ever_adds_one_quote(text):
    safe = safe_text(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe in (text, "'" + text)


def open_back(content: bytes):
    return load_workbook(io.BytesIO(content))


def test_the_list_workbook_opens_with_a_bold_frozen_header_and_the_rows_as_given():
    rows = [
        ["张三", "440981195001010011", Decimal("1234.5"), datetime.date(2025, 6, 10), None],
        ["李四", "440981195001020022", Decimal("0"), datetime.date(2025, 7, 1), 3],
    ]
    content = list_workbook(
        "线索", ["姓名", "身份证号", "金额", "日期", "次数"], iter(rows), text_columns=[1], money_columns=[2]
    )
    book = open_back(content)
    assert book.sheetnames == ["线索"]
    sheet = book["线索"]
    assert [c.value for c in sheet[1]] == ["姓名", "身份证号", "金额", "日期", "次数"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == "440981195001010011" and sheet["B2"].number_format == "@"
    assert sheet["C2"].value == 1234.5 and sheet["C2"].number_format == "#,##0.00"
    assert sheet["D3"].value.date() == datetime.date(2025, 7, 1)
    assert sheet["E2"].value is None and sheet["E3"].value == 3
    assert sheet.max_row == 3


def test_a_formula_in_the_data_stays_text_in_the_workbook():
    content = list_workbook("x", ["备注"], [['=HYPERLINK("http://x","点我")'], ["+1"], ["@SUM(A1)"]])
    sheet = open_back(content)["x"]
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert [c.value for c in cells] == ['\'=HYPERLINK("http://x","点我")', "'+1", "'@SUM(A1)"]


def test_column_widths_are_set_by_position():
    sheet = open_back(list_workbook("x", ["a", "b"], [], widths={0: 12, 1: 30}))["x"]
    assert sheet.column_dimensions["A"].width == 12 and sheet.column_dimensions["B"].width == 30


def test_an_empty_list_still_has_its_header():
    sheet = open_back(list_workbook("空", ["姓名"], []))["空"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["姓名"]]


def test_the_download_response_is_an_xlsx_attachment():
    response = xlsx_response(b"PK\x03\x04data", "leads-2025.xlsx")
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == "attachment; filename=leads-2025.xlsx"
    assert response.content == b"PK\x03\x04data"
