"""Reading a filled 回访清单 (DATA-FORMATS §11) back: every row checked against the calls it names before anything
is written.

A row names its call by 回访编号, which must be a call of the uploader's county (of their township for a window)
and of the same plan as every other row; the columns the portal wrote — 姓名, 发放金额, and when present 乡镇（街道）
and 发放日期 — must be as written (a changed amount or name means the list was edited by hand or is another
list); the filled columns must hold values of their lists. A row with nothing filled in is a call not made yet.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from lib.tabular import (
    CONTROL_MESSAGE,
    CellError,
    TableError,
    cell_date,
    cell_money,
    cell_text,
    column_index,
    control_columns,
    iter_records,
    read_table,
)

from .calls import MAX_ATTEMPTS, Result
from .callsheet import (
    AWARE,
    COL_AMOUNT,
    COL_ATTEMPTS,
    COL_AWARE,
    COL_NAME,
    COL_NOTE,
    COL_NUMBER,
    COL_PAID,
    COL_RECEIPT,
    COL_SATISFACTION,
    COL_TOWNSHIP,
)
from .models import FollowupCall, Receipt, Satisfaction

REQUIRED = [COL_NUMBER, COL_NAME, COL_AMOUNT, COL_RECEIPT]
OPTIONAL = [COL_TOWNSHIP, COL_PAID, COL_SATISFACTION, COL_AWARE, COL_NOTE, COL_ATTEMPTS]
RECEIPTS = {label: value for value, label in Receipt.choices}
SATISFACTIONS = {label: value for value, label in Satisfaction.choices}
AWARENESS = {label: value for value, label in AWARE.items()}
FILLED = [COL_RECEIPT, COL_SATISFACTION, COL_AWARE, COL_NOTE, COL_ATTEMPTS]


@dataclass
class Checked:
    total_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    results: dict[int, Result] = field(default_factory=dict)  # call id → what the row says
    calls: dict[int, FollowupCall] = field(default_factory=dict)
    blank: int = 0
    plan_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row, column: str, value, reason: str) -> None:
        self.errors.append(
            {"row": row, "column": column, "value": str(value if value is not None else "")[:100], "reason": reason}
        )


def _choice(checked: Checked, row: int, column: str, raw, labels: dict):
    text = cell_text(raw)
    if not text:
        return None
    if text not in labels:
        checked.error(row, column, text, "应为：" + "、".join(labels))
        return None
    return labels[text]


def check_call_file(
    content: bytes, file_name: str, *, county_id: int | None, township_id: int | None, progress=None
) -> Checked:
    """Every row of the file checked against the stored calls; the results of the rows filled in, by call."""
    checked = Checked()
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        checked.error(None, "", "", str(exc))
        return checked
    columns, repeated = column_index(table.headers, REQUIRED + OPTIONAL)
    for name in repeated:
        checked.error(1, name, name, f"表头“{name}”出现了不止一次")
    for name in REQUIRED:
        if name not in columns:
            checked.error(1, name, "", f"缺少必填列“{name}”")
    if checked.errors:
        return checked
    rows = list(iter_records(table, columns, key=COL_NUMBER))
    checked.total_rows = len(rows)
    if not rows:
        checked.error(None, "", "", "文件中没有数据行")
        return checked
    numbers = {cell_text(record[COL_NUMBER]).upper() for _, record in rows}
    calls = FollowupCall.objects.filter(number__in=numbers).select_related("township", "plan")
    if county_id is not None:
        calls = calls.filter(township__county_id=county_id)
    by_number = {call.number: call for call in calls}
    seen: dict[str, int] = {}
    plans: dict[str, int] = {}
    for done, (row, record) in enumerate(rows, start=1):
        _check_row(checked, row, record, by_number, seen, plans, township_id)
        if progress and done % 500 == 0:
            progress(done, len(rows))
    if len(plans) > 1:
        names = "、".join(sorted(plans))
        checked.error(None, COL_NUMBER, "", f"一份清单只能包含一个回访计划的回访，文件中有：{names}")
    checked.plan_id = next(iter(plans.values())) if len(plans) == 1 else None
    checked.errors.sort(key=lambda e: e["row"] or 0)
    return checked


def _check_row(checked: Checked, row: int, record: dict, by_number, seen, plans, township_id) -> None:
    bad = control_columns(record)
    if bad:
        for column in bad:
            checked.error(row, column, "", CONTROL_MESSAGE)
        return
    number = cell_text(record[COL_NUMBER]).upper()
    if not number:
        checked.error(row, COL_NUMBER, "", "回访编号不能为空")
        return
    if number in seen:
        checked.error(row, COL_NUMBER, number, f"回访编号与第 {seen[number]} 行重复")
        return
    seen[number] = row
    call = by_number.get(number)
    if call is None:
        checked.error(row, COL_NUMBER, number, "回访编号不存在（或不属于本县），请使用系统导出的回访清单")
        return
    if township_id is not None and call.township_id != township_id:
        checked.error(row, COL_NUMBER, number, f"不属于本乡镇（属于{call.township.name}），只能导入本乡镇的回访")
        return
    if call.plan.cancelled:
        checked.error(row, COL_NUMBER, number, f"回访计划 {call.plan.number} 已作废，不能再记录回访结果")
        return
    plans[call.plan.number] = call.plan_id
    errors_before = len(checked.errors)
    if cell_text(record[COL_NAME]) != call.name:
        checked.error(
            row, COL_NAME, cell_text(record[COL_NAME]), "姓名与回访清单不一致（清单导出后被修改过，或不是本计划的清单）"
        )
    try:
        amount = cell_money(record[COL_AMOUNT])
    except CellError as exc:
        checked.error(row, COL_AMOUNT, record[COL_AMOUNT], str(exc))
    else:
        if amount is None or Decimal(amount) != call.amount:
            checked.error(row, COL_AMOUNT, record[COL_AMOUNT], f"发放金额与回访清单不一致（应为 {call.amount:,.2f}）")
    if COL_TOWNSHIP in record and cell_text(record[COL_TOWNSHIP]) not in ("", call.township.name):
        checked.error(
            row,
            COL_TOWNSHIP,
            cell_text(record[COL_TOWNSHIP]),
            f"乡镇（街道）与回访清单不一致（应为 {call.township.name}）",
        )
    if COL_PAID in record:
        try:
            paid = cell_date(record[COL_PAID])
        except CellError as exc:
            checked.error(row, COL_PAID, record[COL_PAID], str(exc))
        else:
            if paid is not None and paid != call.paid_on:
                checked.error(
                    row,
                    COL_PAID,
                    cell_text(record[COL_PAID]),
                    f"发放日期与回访清单不一致（应为 {call.paid_on:%Y-%m-%d}）",
                )
    if not any(cell_text(record.get(name)) for name in FILLED if name in record):
        checked.blank += 1
        return
    receipt = _choice(checked, row, COL_RECEIPT, record[COL_RECEIPT], RECEIPTS)
    satisfaction = _choice(checked, row, COL_SATISFACTION, record.get(COL_SATISFACTION), SATISFACTIONS)
    aware = _choice(checked, row, COL_AWARE, record.get(COL_AWARE), AWARENESS)
    attempts = None
    if cell_text(record.get(COL_ATTEMPTS)):
        text = cell_text(record[COL_ATTEMPTS])
        if not text.isdigit() or not 1 <= int(text) <= MAX_ATTEMPTS:
            checked.error(row, COL_ATTEMPTS, text, f"拨打次数应为 1～{MAX_ATTEMPTS} 的整数")
        else:
            attempts = int(text)
    if len(checked.errors) > errors_before:
        return
    if receipt is None:
        checked.error(row, COL_RECEIPT, "", "填写了回访结果，但没有填写到账情况")
        return
    result = Result(
        receipt=receipt,
        satisfaction=satisfaction or "",
        aware=aware,
        note=cell_text(record.get(COL_NOTE)),
        attempts=attempts,
    )
    for problem in result.problems():
        column = COL_NOTE if "备注" in problem else (COL_ATTEMPTS if "拨打" in problem else COL_SATISFACTION)
        checked.error(row, column, "", problem)
    if len(checked.errors) == errors_before:
        checked.results[call.pk] = result
        checked.calls[call.pk] = call
