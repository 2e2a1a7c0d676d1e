"""The rules of a 医保结算数据 file (DATA-FORMATS §2), in Python.

This is the reference implementation, used on SQLite (`make run`) and for the rows of .xlsx files
read in Python. PostgreSQL checks CSV rows in SQL (`sql.py`) with the same rules and the same
messages; a test runs both on the same files and compares the reports.

Rules, per data row (blank rows are skipped):
- 结算单号: required, at most 50 characters, unique within the file.
- 身份证号: GB 11643 as for rosters (the same messages); 姓名 required (≤ 50); 医疗机构 required (≤ 100).
- 就诊类型: 门诊 / 门诊慢特病 / 住院.
- dates in the accepted forms; a stay needs 入院日期 ≤ 出院日期, a visit needs 就诊日期; 结算日期 is
  required, not before the admission (stay) or the visit, and no date lies after today.
- money: yuan, at most two decimals, not negative; 医疗总费用, 政策范围内费用 and 基本医保统筹支付 required,
  the others 0 when empty; P ≤ T and B + C + O + A0 ≤ T.
- 是否异地 / 是否重特大疾病: 是 / 否 (or empty); 主要诊断 at most 200 characters.
- no cell holds control characters.

A file read through a column profile (imports.profiles: the platform's own settlement list, DATA-FORMATS §8) is
first mapped to these columns, and may fill the columns the platform adds (KEPT_COLUMNS, kept on the settlement):
就诊ID and 人员编号 (≤ 50 characters), 全自费金额 and 个人负担总金额 (money, not negative); the latter must equal
T − B − C − O − A0 within 0.01. Errors then name the file's header beside ours. Such files are always checked here.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from imports.mapping import DATE, MONEY, FileColumn, FileColumns, Profile, ValueTable
from imports.mapping import Reading as ProfileReading
from lib.tabular import (
    CellError,
    TableError,
    cell_date,
    cell_money,
    cell_text,
    column_index,
    has_control_characters,
    iter_records,
    read_table,
)
from recipients.idnumber import IdCells, mask_bank_account, mask_id_number

from .selectors import medical_category_rows

COL_NUMBER = "结算单号"
COL_ID = "身份证号"
COL_NAME = "姓名"
COL_HOSPITAL = "医疗机构"
COL_VISIT_TYPE = "就诊类型"
COL_ADMITTED = "入院日期"
COL_DISCHARGED = "出院日期"
COL_VISIT = "就诊日期"
COL_SETTLED = "结算日期"
COL_TOTAL = "医疗总费用"
COL_IN_POLICY = "政策范围内费用"
COL_BASIC = "基本医保统筹支付"
COL_CRITICAL = "大病保险支付"
COL_OTHER = "其他保险支付"
COL_ONESTOP = "医疗救助支付"
COL_REMOTE = "是否异地"
COL_DIAGNOSIS = "主要诊断"
COL_MAJOR = "是否重特大疾病"

REQUIRED_COLUMNS = [
    COL_NUMBER,
    COL_ID,
    COL_NAME,
    COL_HOSPITAL,
    COL_VISIT_TYPE,
    COL_SETTLED,
    COL_TOTAL,
    COL_IN_POLICY,
    COL_BASIC,
]
OPTIONAL_COLUMNS = [
    COL_ADMITTED,
    COL_DISCHARGED,
    COL_VISIT,
    COL_CRITICAL,
    COL_OTHER,
    COL_ONESTOP,
    COL_REMOTE,
    COL_DIAGNOSIS,
    COL_MAJOR,
]
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns of the platform's list (DATA-FORMATS §8) that only a profile fills, and the Settlement fields keeping them.
COL_VISIT_ID = "就诊ID"
COL_PERSON_NO = "人员编号"
COL_OWN_EXPENSE = "全自费金额"
COL_BURDEN = "个人负担总金额"
KEPT_COLUMNS = {
    COL_VISIT_ID: "mdtrt_id",
    COL_PERSON_NO: "psn_no",
    COL_OWN_EXPENSE: "fulamt_ownpay_amt",
    COL_BURDEN: "psn_part_amt",
}
BURDEN_TOLERANCE = Decimal("0.01")

VISIT_TYPES = ("门诊", "门诊慢特病", "住院")
INPATIENT = "住院"
YES_NO = {"是": True, "否": False}
ZERO = Decimal("0")
MAX_LEN = {COL_NUMBER: 50, COL_NAME: 50, COL_HOSPITAL: 100, COL_DIAGNOSIS: 200, COL_VISIT_ID: 50, COL_PERSON_NO: 50}
MONEY_LIMIT = Decimal("999999999999.99")

_KINDS = {
    **dict.fromkeys((COL_ADMITTED, COL_DISCHARGED, COL_VISIT, COL_SETTLED), DATE),
    **dict.fromkeys((COL_TOTAL, COL_IN_POLICY, COL_BASIC, COL_CRITICAL, COL_OTHER, COL_ONESTOP), MONEY),
    **dict.fromkeys((COL_OWN_EXPENSE, COL_BURDEN), MONEY),
}
_HELP = {
    COL_VISIT_TYPE: "门诊、门诊慢特病 或 住院；文件中是医疗类别代码时，勾选“按医疗类别对照表转换”",
    COL_ADMITTED: "住院记录填写",
    COL_DISCHARGED: "住院记录填写（服务日期）",
    COL_VISIT: "门诊记录填写（服务日期）；可与入院日期对应同一个表头",
    COL_CRITICAL: "可由几列相加，如 居民大病保险资金支出 + 职工大额医疗费用补助基金支出",
    COL_OTHER: "可由几列相加，如 企业补充医疗保险基金支出 + 公务员医疗补助资金支出 + 其他支出",
    COL_BURDEN: "填写后逐行核对：医疗总费用 − 基本医保 − 大病保险 − 其他保险 − 医疗救助支付 应等于它（误差 0.01 以内）",
}
# The format's columns for column profiles (imports.mapping): the template's, then the platform's kept ones.
FILE_COLUMNS = FileColumns(
    label="医保结算数据",
    template_name="结算数据模板（系统表头）",
    columns=(
        *(
            FileColumn(name, required=name in REQUIRED_COLUMNS, kind=_KINDS.get(name, "text"), help=_HELP.get(name, ""))
            for name in ALL_COLUMNS
        ),
        *(
            FileColumn(name, kind=_KINDS.get(name, "text"), kept=True, help=_HELP.get(name, ""))
            for name in KEPT_COLUMNS
        ),
    ),
    tables=(
        ValueTable(
            name="med_type",
            label="医疗类别对照表",
            column=COL_VISIT_TYPE,
            accepts=VISIT_TYPES,
            load=medical_category_rows,
            where="系统管理 → 医保结算数据 → 医疗类别对照",
        ),
    ),
)

# Messages shared with the SQL checks: one wording per rule.
MSG = {
    "required": "{column}不能为空",
    "too_long": "{column}超过 {limit} 个字",
    "duplicate": "与第 {row} 行的结算单号重复",
    "visit_type": "就诊类型应为 门诊、门诊慢特病 或 住院",
    "yes_no": "应为“是”或“否”",
    "negative": "金额不能为负数",
    "too_large": "金额过大",
    "stay_dates": "住院记录须填写入院日期和出院日期",
    "admitted_after_discharge": "入院日期晚于出院日期",
    "visit_date": "门诊记录须填写就诊日期",
    "settled_early": "结算日期早于{what}",
    "future": "日期晚于今天",
    "in_policy_gt_total": "政策范围内费用不能大于医疗总费用",
    "paid_gt_total": "基本医保、大病保险、其他保险和医疗救助支付之和不能大于医疗总费用",
    "control": "含有不可见的控制字符，请删除后重新录入",
    "burden": "个人负担总金额应等于医疗总费用减去基本医保、大病保险、其他保险和医疗救助支付，即 {expected}，相差 {diff}",
}


@dataclass(slots=True)
class SettlementRow:
    row_no: int
    number: str
    id_number: str
    name: str
    hospital: str
    visit_type: str
    admitted_on: datetime.date | None
    discharged_on: datetime.date | None
    visit_on: datetime.date | None
    settled_on: datetime.date
    total: Decimal
    in_policy: Decimal
    basic: Decimal
    critical: Decimal
    other: Decimal
    onestop: Decimal
    out_of_area: bool | None
    diagnosis: str
    major_disease: bool
    # The platform's own columns, when a profile fills them (None otherwise).
    mdtrt_id: str | None = None
    psn_no: str | None = None
    fulamt_ownpay_amt: Decimal | None = None
    psn_part_amt: Decimal | None = None

    @property
    def service_date(self) -> datetime.date:
        return self.discharged_on if self.visit_type == INPATIENT else self.visit_on


@dataclass
class SettlementCheck:
    rows: list[SettlementRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0
    kept: list[str] = field(default_factory=list)  # the Settlement fields of KEPT_COLUMNS the file fills

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, column: str, value, reason: str) -> None:
        self.errors.append(make_error(row, column, value, reason))


def make_error(row: int | None, column: str, value, reason: str) -> dict:
    """One line of the report. The report is shown to everyone who may see the import: IDs are masked."""
    if value is None:
        shown = ""
    elif isinstance(value, float) and value.is_integer():
        shown = f"{value:.15g}"
    else:
        shown = str(value)[:100]
    if column == COL_ID and shown:
        shown = mask_id_number(shown)
    elif column == COL_PERSON_NO and shown:
        shown = mask_bank_account(shown)
    return {"row": row, "column": column, "value": shown, "reason": reason}


def sort_errors(errors: list[dict]) -> list[dict]:
    order = {name: i for i, name in enumerate([*ALL_COLUMNS, *KEPT_COLUMNS])}
    return sorted(errors, key=lambda e: (e["row"] or 0, order.get(e["column"], -1), e["reason"]))


def check_header(headers: list[str], check: SettlementCheck, *, kept: bool = False) -> dict[str, int] | None:
    """The columns' positions; `kept`: the platform's columns too (a file read through a profile)."""
    columns, repeated = column_index(headers, ALL_COLUMNS + list(KEPT_COLUMNS) if kept else ALL_COLUMNS)
    for name in repeated:
        check.error(1, name, name, f"表头“{name}”出现了不止一次")
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            check.error(1, name, "", f"缺少必填列“{name}”")
    return None if check.errors else columns


def validate_settlements(
    content: bytes,
    file_name: str,
    *,
    today: datetime.date,
    progress: Callable[[int, int], None] | None = None,
    profile: Profile | None = None,
) -> SettlementCheck:
    """Read and check a settlement file; on any error `rows` is empty and `errors` lists every one.

    `profile`: the column profile the file is read through (None: §2's own headers)."""
    check = SettlementCheck()
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        check.error(None, "", "", str(exc))
        return check
    if profile is None:
        return _validate(table, check, today=today, progress=progress, reading=None)
    reading = profile.read(table, FILE_COLUMNS)
    _validate(reading.table, check, today=today, progress=progress, reading=reading)
    check.errors = reading.relabel(check.errors)
    return check


def _validate(table, check: SettlementCheck, *, today, progress, reading: ProfileReading | None) -> SettlementCheck:
    columns = check_header(table.headers, check, kept=reading is not None)
    if columns is None:
        return check
    check.kept = [name for column, name in KEPT_COLUMNS.items() if column in columns]
    records = list(iter_records(table, columns, key=COL_NUMBER))
    check.total_rows = len(records)
    if not records:
        check.error(None, "", "", "文件中没有数据行")
        return check

    id_cells = IdCells(today=today)
    first_row: dict[str, int] = {}
    for done, (row_no, rec) in enumerate(records, start=1):
        if progress and done % 20000 == 0:
            progress(done, check.total_rows)
        row = check_record(row_no, rec, check, today=today, id_cells=id_cells)
        if row is None:
            continue
        earlier = first_row.get(row.number)
        if earlier is not None:
            check.error(row_no, COL_NUMBER, row.number, MSG["duplicate"].format(row=earlier))
            continue
        first_row[row.number] = row_no
        check.rows.append(row)
    if check.errors:
        check.errors = sort_errors(check.errors)
        check.rows = []
    return check


def check_record(row_no: int, rec: dict, check: SettlementCheck, *, today, id_cells) -> SettlementRow | None:
    """Check one row; report every bad cell; return the clean row or None."""
    n_errors = len(check.errors)
    bad_cells = [c for c, raw in rec.items() if isinstance(raw, str) and has_control_characters(raw)]
    if bad_cells:
        for column in bad_cells:
            check.error(row_no, column, rec[column].encode("unicode_escape").decode(), MSG["control"])
        return None

    def text(column: str, *, required: bool) -> str:
        value = cell_text(rec.get(column))
        if required and not value:
            check.error(row_no, column, "", MSG["required"].format(column=column))
        limit = MAX_LEN.get(column)
        if limit and len(value) > limit:
            check.error(row_no, column, value, MSG["too_long"].format(column=column, limit=limit))
        return value

    number = text(COL_NUMBER, required=True)
    name = text(COL_NAME, required=True)
    hospital = text(COL_HOSPITAL, required=True)
    diagnosis = text(COL_DIAGNOSIS, required=False)

    id_number = None
    raw_id = rec[COL_ID]
    try:
        id_number = id_cells.parse(raw_id).number
    except CellError as exc:
        check.error(row_no, COL_ID, raw_id, str(exc))

    visit_type = cell_text(rec[COL_VISIT_TYPE])
    if not visit_type:
        check.error(row_no, COL_VISIT_TYPE, "", MSG["required"].format(column=COL_VISIT_TYPE))
    elif visit_type not in VISIT_TYPES:
        check.error(row_no, COL_VISIT_TYPE, visit_type, MSG["visit_type"])
        visit_type = None

    dates = {}
    for column in (COL_ADMITTED, COL_DISCHARGED, COL_VISIT, COL_SETTLED):
        try:
            dates[column] = cell_date(rec.get(column))
        except CellError as exc:
            check.error(row_no, column, rec.get(column), str(exc))
            dates[column] = False  # present but bad: no further date rules on it
            continue
        if dates[column] and dates[column] > today:
            check.error(row_no, column, dates[column].isoformat(), MSG["future"])
    admitted, discharged, visit, settled = (dates[c] for c in (COL_ADMITTED, COL_DISCHARGED, COL_VISIT, COL_SETTLED))
    if settled is None:
        check.error(row_no, COL_SETTLED, "", MSG["required"].format(column=COL_SETTLED))
    if visit_type == INPATIENT:
        if admitted is None or discharged is None:
            missing = COL_ADMITTED if admitted is None else COL_DISCHARGED
            check.error(row_no, missing, "", MSG["stay_dates"])
        elif admitted and discharged and admitted > discharged:
            check.error(row_no, COL_ADMITTED, admitted.isoformat(), MSG["admitted_after_discharge"])
        if admitted and settled and settled < admitted:
            check.error(row_no, COL_SETTLED, settled.isoformat(), MSG["settled_early"].format(what="入院日期"))
    elif visit_type:
        if visit is None:
            check.error(row_no, COL_VISIT, "", MSG["visit_date"])
        elif visit and settled and settled < visit:
            check.error(row_no, COL_SETTLED, settled.isoformat(), MSG["settled_early"].format(what="就诊日期"))

    amounts = {}
    for column in (COL_TOTAL, COL_IN_POLICY, COL_BASIC, COL_CRITICAL, COL_OTHER, COL_ONESTOP):
        raw = rec.get(column)
        try:
            value = cell_money(raw)
        except CellError as exc:
            check.error(row_no, column, raw, str(exc))
            amounts[column] = None
            continue
        if value is None:
            if column in (COL_TOTAL, COL_IN_POLICY, COL_BASIC):
                check.error(row_no, column, "", MSG["required"].format(column=column))
            else:
                value = ZERO
        elif value < 0:
            check.error(row_no, column, raw, MSG["negative"])
            value = None
        elif value > MONEY_LIMIT:
            check.error(row_no, column, raw, MSG["too_large"])
            value = None
        amounts[column] = value
    t, p, b, c, o, a0 = (
        amounts[k] for k in (COL_TOTAL, COL_IN_POLICY, COL_BASIC, COL_CRITICAL, COL_OTHER, COL_ONESTOP)
    )
    if t is not None and p is not None and p > t:
        check.error(row_no, COL_IN_POLICY, p, MSG["in_policy_gt_total"])
    if None not in (t, b, c, o, a0) and b + c + o + a0 > t:
        check.error(row_no, COL_TOTAL, t, MSG["paid_gt_total"])

    kept = _kept_cells(row_no, rec, check, t=t, paid=(b, c, o, a0)) if any(c in rec for c in KEPT_COLUMNS) else {}

    flags = {}
    for column in (COL_REMOTE, COL_MAJOR):
        value = cell_text(rec.get(column))
        if value and value not in YES_NO:
            check.error(row_no, column, value, MSG["yes_no"])
        flags[column] = YES_NO.get(value)

    if len(check.errors) > n_errors:
        return None
    return SettlementRow(
        row_no=row_no,
        number=number,
        id_number=id_number,
        name=name,
        hospital=hospital,
        visit_type=visit_type,
        admitted_on=admitted if visit_type == INPATIENT else None,
        discharged_on=discharged if visit_type == INPATIENT else None,
        visit_on=visit if visit_type != INPATIENT else None,
        settled_on=settled,
        total=t,
        in_policy=p,
        basic=b,
        critical=c,
        other=o,
        onestop=a0,
        out_of_area=flags[COL_REMOTE],
        diagnosis=diagnosis,
        major_disease=bool(flags[COL_MAJOR]),
        **kept,
    )


def _kept_cells(row_no: int, rec: dict, check: SettlementCheck, *, t, paid) -> dict:
    """The platform's own columns a profile filled (DATA-FORMATS §8), checked; 个人负担总金额 must equal
    T − B − C − O − A0 within 0.01 (the platform computes it so: a file where it does not is wrong somewhere)."""
    values = {}
    for column in (COL_VISIT_ID, COL_PERSON_NO):
        if column in rec:
            text = cell_text(rec[column])
            limit = MAX_LEN[column]
            if len(text) > limit:
                check.error(row_no, column, text, MSG["too_long"].format(column=column, limit=limit))
            values[KEPT_COLUMNS[column]] = text or None
    for column in (COL_OWN_EXPENSE, COL_BURDEN):
        if column not in rec:
            continue
        raw = rec[column]
        try:
            value = cell_money(raw)
        except CellError as exc:
            check.error(row_no, column, raw, str(exc))
            continue
        if value is not None and value < 0:
            check.error(row_no, column, raw, MSG["negative"])
        elif value is not None and value > MONEY_LIMIT:
            check.error(row_no, column, raw, MSG["too_large"])
        else:
            values[KEPT_COLUMNS[column]] = value
    burden = values.get(KEPT_COLUMNS[COL_BURDEN])
    if burden is not None and t is not None and None not in paid:
        expected = t - sum(paid)
        if abs(expected - burden) > BURDEN_TOLERANCE:
            check.error(
                row_no,
                COL_BURDEN,
                burden,
                MSG["burden"].format(expected=f"{expected:,.2f}", diff=f"{burden - expected:,.2f}"),
            )
    return values
