"""The workbooks of the flow: a format's blank template, and the report of a file's errors."""

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lib.spreadsheet import as_text, list_workbook

RULES_FIRST = "第一行为表头，请勿修改表头文字；列的顺序可以调整，多余的列会被忽略。"
RULES_LAST = "任何一行有错误，整份文件都不会导入；系统会列出每一处错误的行号、列名和原因。"


def blank_template(
    *,
    sheet: str,
    headers: list[str],
    required: Iterable[str],
    comments: dict[str, str],
    widths: dict[str, int],
    text_columns: Iterable[str],
    rules: list[str],
    default_width: int = 14,
) -> bytes:
    """A workbook with the exact headers (required ones in red), a note on the headers that need one, the ID
    and number columns formatted as text, and a sheet of filling-in rules around the format's own `rules`."""
    required = list(required)
    workbook = Workbook()
    table = workbook.active
    table.title = sheet
    table.append(headers)
    for cell in table[1]:
        cell.font = Font(bold=True, color="C00000" if cell.value in required else "000000")
    letter = {name: get_column_letter(i) for i, name in enumerate(headers, start=1)}
    for name, text in comments.items():
        table[f"{letter[name]}1"].comment = Comment(text, "系统")
    for name in headers:
        table.column_dimensions[letter[name]].width = widths.get(name, default_width)
    # Text format for the whole column: Excel keeps every digit of what is typed (an 18-digit ID, an account).
    for name in text_columns:
        table.column_dimensions[letter[name]].number_format = "@"
    notes = workbook.create_sheet("填写说明")
    required_line = "红色表头为必填列：" + "、".join(required) + "。"
    for line in [RULES_FIRST, required_line, *rules, RULES_LAST]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def error_report(errors: list[dict], kinds: list[dict] | None = None, total: int | None = None) -> bytes:
    """The errors of a file, one row each: row number, column, value (as text a spreadsheet will not run) and
    reason. When there were more than the report keeps, a last row says so and `kinds` counts them all."""
    rows = [[e.get("row"), e.get("column"), as_text(e.get("value")), e.get("reason")] for e in errors]
    if total is not None and total > len(errors):
        rows.append(["", "", "", f"共 {total:,} 处错误，以上为前 {len(errors):,} 处；各类错误的数量见下"])
        rows += [["", k["column"], f"{k['count']:,} 处", k["reason"]] for k in kinds or []]
    return list_workbook("错误明细", ["行号", "列", "值", "原因"], rows, widths={1: 16, 2: 24, 3: 60})
