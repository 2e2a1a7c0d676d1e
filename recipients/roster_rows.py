"""A roster's rows one by one (DATA-FORMATS §1): the reference reading of each row, with the report's messages.

`check_row` reads one row's cells and reports every bad one; a roster read a column at a time (roster_columns)
sends here every row it does not find plain, so that the report is always this module's.
"""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field

from lib.tabular import CellError, cell_date, cell_digits, cell_text, has_control_characters

from .categories import parse_category, parse_source
from .idnumber import IdCells, mask_bank_account, mask_id_number, mask_phone
from .models import County, Township

COL_ID = "身份证号"
COL_NAME = "姓名"
COL_CATEGORY = "救助类别"
COL_FROM = "认定日期"
COL_TO = "退出日期"
COL_TOWNSHIP = "乡镇（街道）"
COL_VILLAGE = "村（社区）"
COL_PHONE = "联系电话"
COL_BANK = "开户银行"
COL_ACCOUNT = "银行账号"
COL_SOURCE = "数据来源"

REQUIRED_COLUMNS = [COL_ID, COL_NAME, COL_CATEGORY, COL_FROM, COL_TOWNSHIP]
OPTIONAL_COLUMNS = [COL_TO, COL_VILLAGE, COL_PHONE, COL_BANK, COL_ACCOUNT, COL_SOURCE]

_MASKED_COLUMNS = {COL_ID: mask_id_number, COL_ACCOUNT: mask_bank_account, COL_PHONE: mask_phone}
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
ACCOUNT_RE = re.compile(r"^[0-9]{6,32}$")
NAME_MAX = 50


@dataclass(slots=True)
class RosterRow:
    row_no: int
    id_number: str
    name: str
    sex: str
    birth_date: datetime.date
    category: str
    source: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    township_id: int
    village_id: int | None
    phone: str
    bank_name: str
    bank_account: str

    @property
    def identity_key(self):
        return (self.id_number, self.category, self.valid_from)


@dataclass
class RosterCheck:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, column: str, value, reason: str):
        shown = _show(value)
        masker = _MASKED_COLUMNS.get(column)
        if masker and shown:
            # The report is kept and shown to anyone who may see the import: personal data in it is
            # masked; the row number finds the line in the uploader's own file.
            shown = masker(shown)
        self.errors.append({"row": row, "column": column, "value": shown, "reason": reason})


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.15g}"
    return str(value)[:100]


@dataclass
class RowContext:
    """What each row of a file is checked against: the file's columns and the registry's townships and villages."""

    columns: dict[str, int]
    townships: dict[str, Township]
    township_names_seen: Counter
    elsewhere: set[str]  # township names of other counties (a county's upload)
    villages: dict[tuple[int, str], int]
    county: County | None
    township: Township | None  # a clerk's upload
    default_source: str
    today: datetime.date
    id_cells: IdCells
    controls: bool  # whether the file may hold control characters


def check_row(row_no: int, rec: dict, check: RosterCheck, ctx: RowContext) -> RosterRow | None:
    """The row read and checked cell by cell: its RosterRow, or None with its errors added to `check`."""
    columns, today, id_cells = ctx.columns, ctx.today, ctx.id_cells
    townships, township_names_seen, elsewhere = ctx.townships, ctx.township_names_seen, ctx.elsewhere
    villages, county, township, default_source = ctx.villages, ctx.county, ctx.township, ctx.default_source
    n_errors = len(check.errors)
    # One search per row; cell by cell only to report where.
    if ctx.controls and has_control_characters("\t".join([raw for raw in rec.values() if isinstance(raw, str)])):
        for column, raw in rec.items():
            if isinstance(raw, str) and has_control_characters(raw):
                check.error(
                    row_no, column, raw.encode("unicode_escape").decode(), "含有不可见的控制字符，请删除后重新录入"
                )
        return None

    # 身份证号
    raw_id = rec[COL_ID]
    id_info = None
    try:
        id_info = id_cells.parse(raw_id)
    except CellError as exc:
        check.error(row_no, COL_ID, raw_id, str(exc))

    name = cell_text(rec[COL_NAME])
    if not name:
        check.error(row_no, COL_NAME, rec[COL_NAME], "姓名不能为空")
    elif len(name) > NAME_MAX:
        check.error(row_no, COL_NAME, name, f"姓名超过 {NAME_MAX} 个字")

    category = None
    raw_category = cell_text(rec[COL_CATEGORY])
    if not raw_category:
        check.error(row_no, COL_CATEGORY, "", "救助类别不能为空")
    else:
        category = parse_category(raw_category)
        if category is None:
            check.error(row_no, COL_CATEGORY, raw_category, "未知的救助类别（应为类别名称或代码，如“低保”或 DB）")

    valid_from = valid_to = None
    try:
        valid_from = cell_date(rec[COL_FROM])
        if valid_from is None:
            check.error(row_no, COL_FROM, "", "认定日期不能为空")
    except CellError as exc:
        check.error(row_no, COL_FROM, rec[COL_FROM], str(exc))
    if COL_TO in columns:
        try:
            valid_to = cell_date(rec[COL_TO])
        except CellError as exc:
            check.error(row_no, COL_TO, rec[COL_TO], str(exc))
    if valid_from and valid_to and valid_to < valid_from:
        check.error(row_no, COL_TO, rec[COL_TO], "退出日期早于认定日期")
    if valid_from and valid_from > today:
        check.error(row_no, COL_FROM, rec[COL_FROM], "认定日期不能晚于今天")

    township_obj = None
    raw_township = cell_text(rec[COL_TOWNSHIP])
    if not raw_township:
        check.error(row_no, COL_TOWNSHIP, "", "乡镇（街道）不能为空")
    elif raw_township not in townships and raw_township in elsewhere:
        check.error(row_no, COL_TOWNSHIP, raw_township, f"不属于{county.name}：只能导入本县（区）的人员")
    elif raw_township not in townships:
        check.error(row_no, COL_TOWNSHIP, raw_township, "系统中没有这个乡镇（街道），请核对名称或联系系统管理员添加")
    elif township_names_seen[raw_township] > 1:
        check.error(row_no, COL_TOWNSHIP, raw_township, "有多个同名乡镇（街道），无法确定是哪一个")
    else:
        township_obj = townships[raw_township]
        if township is not None and township_obj.id != township.id:
            check.error(row_no, COL_TOWNSHIP, raw_township, f"只能导入本乡镇（{township.name}）的人员")
            township_obj = None

    village_id = None
    raw_village = cell_text(rec.get(COL_VILLAGE))
    if raw_village and township_obj is not None:
        village_id = villages.get((township_obj.id, raw_village))
        if village_id is None:
            check.error(row_no, COL_VILLAGE, raw_village, f"{township_obj.name}下没有这个村（社区）")

    phone = cell_digits(rec.get(COL_PHONE), what="联系电话")
    if phone and not PHONE_RE.match(phone):
        check.error(row_no, COL_PHONE, phone, "联系电话格式不对")
    phone = phone.replace(" ", "")

    bank_name = cell_text(rec.get(COL_BANK))
    if len(bank_name) > 100:
        check.error(row_no, COL_BANK, bank_name, "开户银行名称过长")
    bank_account = ""
    try:
        bank_account = cell_digits(rec.get(COL_ACCOUNT), what="银行账号").replace(" ", "")
        if bank_account and not ACCOUNT_RE.match(bank_account):
            check.error(row_no, COL_ACCOUNT, bank_account, "银行账号只能是 6 至 32 位数字")
    except CellError as exc:
        check.error(row_no, COL_ACCOUNT, rec.get(COL_ACCOUNT), str(exc))

    source = default_source
    raw_source = cell_text(rec.get(COL_SOURCE))
    if raw_source:
        source = parse_source(raw_source)
        if source is None:
            check.error(row_no, COL_SOURCE, raw_source, "未知的数据来源（应为 民政、乡村振兴、残联 或 医保）")

    if len(check.errors) > n_errors:
        return None

    row = RosterRow(
        row_no=row_no,
        id_number=id_info.number,
        name=name,
        sex=id_info.sex,
        birth_date=id_info.birth_date,
        category=category,
        source=source,
        valid_from=valid_from,
        valid_to=valid_to,
        township_id=township_obj.id,
        village_id=village_id,
        phone=phone,
        bank_name=bank_name,
        bank_account=bank_account,
    )
    return row
