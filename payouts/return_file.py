"""The bank's return file (回盘, DATA-FORMATS §6) read into rows: every cell checked, every bad one named; matching
the rows to the batch is payouts.services.bank_return_import."""

from dataclasses import dataclass
from decimal import Decimal

from lib.tabular import (
    CONTROL_MESSAGE,
    CellError,
    TableError,
    cell_digits,
    cell_money,
    cell_text,
    column_index,
    control_columns,
    iter_records,
    read_table,
)

from .models import PayoutLine

L = PayoutLine.Status
REASON_MAX = PayoutLine._meta.get_field("failure_reason").max_length  # the bank's 失败原因, kept whole

RETURN_COLUMNS = ["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"]
RESULTS = {"成功": L.PAID, "失败": L.FAILED}


@dataclass
class ReturnRow:
    row_no: int
    reference: str
    account: str
    amount: Decimal
    result: str
    reason: str


def row_error(row, column, value, reason) -> dict:
    return {"row": row, "column": column, "value": str(value or "")[:100], "reason": reason}


def read_return(content: bytes, file_name: str) -> tuple[list[ReturnRow], list[dict]]:
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        return [], [row_error(None, "", "", str(exc))]
    columns, repeated = column_index(table.headers, RETURN_COLUMNS)
    errors = [row_error(1, name, name, f"表头“{name}”出现了不止一次") for name in repeated]
    errors += [row_error(1, n, "", f"缺少必填列“{n}”") for n in RETURN_COLUMNS[:4] if n not in columns]
    if errors:
        return [], errors
    rows = []
    for row_no, rec in iter_records(table, columns, key="业务编号"):
        bad = control_columns(rec)
        if bad:
            errors += [row_error(row_no, column, "", CONTROL_MESSAGE) for column in bad]
            continue
        reference = cell_text(rec["业务编号"])
        try:
            account = cell_digits(rec["银行账号"], what="银行账号").replace(" ", "")
        except CellError as exc:
            errors.append(row_error(row_no, "银行账号", rec["银行账号"], str(exc)))
            continue
        try:
            amount = cell_money(rec["金额（元）"])
        except CellError as exc:
            errors.append(row_error(row_no, "金额（元）", rec["金额（元）"], str(exc)))
            continue
        result = cell_text(rec["处理结果"])
        if result not in RESULTS:
            errors.append(row_error(row_no, "处理结果", result, "处理结果应为“成功”或“失败”"))
            continue
        if amount is None:
            errors.append(row_error(row_no, "金额（元）", "", "金额不能为空"))
            continue
        reason = cell_text(rec.get("失败原因"))
        if len(reason) > REASON_MAX:
            errors.append(row_error(row_no, "失败原因", reason, f"失败原因超过 {REASON_MAX} 个字"))
            continue
        rows.append(ReturnRow(row_no, reference, account, amount, result, reason))
    if not rows and not errors:
        errors.append(row_error(None, "", "", "文件中没有数据行"))
    return rows, errors
