"""Validation of a 救助对象名册 (DATA-FORMATS §1): every bad row is reported, nothing is written.

The result of `validate_roster` is the list of clean rows ready to be applied, or the list of
errors (row, column, value, reason) that the user sees. A roster exported by 民政 or 乡村振兴 under its own headers
(身份证号码, 救助类型 …) is read through the column profile an administrator mapped once (imports.profiles): the
rules are the same, and errors name the file's header beside ours.
"""

import datetime
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models.expressions import RawSQL

from imports.mapping import DATE, FileColumn, FileColumns, Profile
from lib.tabular import (
    CellError,
    TableError,
    cell_date,
    cell_digits,
    cell_text,
    column_index,
    has_control_characters,
    iter_records,
    read_table,
)

from .categories import parse_category, parse_source
from .idnumber import IdCells, mask_bank_account, mask_id_number, mask_phone
from .models import County, Person, Township, Village

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

# The format's columns for column profiles (imports.mapping).
FILE_COLUMNS = FileColumns(
    label="救助对象名册",
    template_name="名册模板（系统表头）",
    columns=tuple(
        FileColumn(
            name,
            required=name in REQUIRED_COLUMNS,
            kind=DATE if name in (COL_FROM, COL_TO) else "text",
            help={
                COL_CATEGORY: "类别名称或代码，如 低保、特困供养、DB",
                COL_FROM: "如 保障起始日期、认定时间",
                COL_TO: "如 保障终止日期、退出时间；空表示仍有效",
                COL_TOWNSHIP: "名称须与系统中的乡镇（街道）一致",
                COL_SOURCE: "民政、乡村振兴、残联 或 医保；没有这一列时按导入时选择的来源",
            }.get(name, ""),
        )
        for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    ),
)

_MASKED_COLUMNS = {COL_ID: mask_id_number, COL_ACCOUNT: mask_bank_account, COL_PHONE: mask_phone}
_PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
_ACCOUNT_RE = re.compile(r"^[0-9]{6,32}$")
_NAME_MAX = 50


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


def validate_roster(
    content: bytes,
    file_name: str,
    *,
    default_source: str,
    township: Township | None = None,
    county: County | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: datetime.date | None = None,
    profile: Profile | None = None,
) -> RosterCheck:
    """Read and check a roster file. `township` restricts it to one township (a clerk's upload), `county` to one
    county's townships (a county role's upload); without either (a prefecture's upload) each row goes to the
    county of the township it names. `profile` is the column profile the file is read through (None: §1's own
    headers)."""
    check = RosterCheck()
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        check.error(None, "", "", str(exc))
        return check
    scope = {"default_source": default_source, "township": township, "county": county}
    if profile is None:
        return _validate(table, check, **scope, progress=progress, today=today)
    reading = profile.read(table, FILE_COLUMNS)
    _validate(reading.table, check, **scope, progress=progress, today=today)
    check.errors = reading.relabel(check.errors)
    return check


def _validate(table, check: RosterCheck, *, default_source, township, county, progress, today) -> RosterCheck:
    columns, repeated = column_index(table.headers, REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    for name in repeated:
        check.error(1, name, name, f"表头“{name}”出现了不止一次")
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            check.error(1, name, "", f"缺少必填列“{name}”")
    if check.errors:
        return check

    in_scope = Township.objects.all() if county is None else Township.objects.filter(county=county)
    known = list(in_scope)
    townships = {t.name: t for t in known}
    township_names_seen = Counter(t.name for t in known)
    elsewhere = (
        set(Township.objects.exclude(county=county).values_list("name", flat=True)) if county is not None else set()
    )
    villages = {(v.township_id, v.name): v.id for v in Village.objects.all()}
    today = today or datetime.date.today()

    records = list(iter_records(table, columns, key=COL_ID))
    check.total_rows = len(records)
    if not records:
        check.error(None, "", "", "文件中没有数据行")
        return check

    id_cells = IdCells(today=today)
    first_seen_key: dict[tuple, int] = {}
    person_seen: dict[str, RosterRow] = {}

    for done, (row_no, rec) in enumerate(records, start=1):
        if progress and done % 5000 == 0:
            progress(done, check.total_rows)
        n_errors = len(check.errors)
        # One search per row; cell by cell only to report where.
        if table.may_hold_control_characters and has_control_characters(
            "\t".join([raw for raw in rec.values() if isinstance(raw, str)])
        ):
            for column, raw in rec.items():
                if isinstance(raw, str) and has_control_characters(raw):
                    check.error(
                        row_no, column, raw.encode("unicode_escape").decode(), "含有不可见的控制字符，请删除后重新录入"
                    )
            continue

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
        elif len(name) > _NAME_MAX:
            check.error(row_no, COL_NAME, name, f"姓名超过 {_NAME_MAX} 个字")

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
            check.error(
                row_no, COL_TOWNSHIP, raw_township, "系统中没有这个乡镇（街道），请核对名称或联系系统管理员添加"
            )
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
        if phone and not _PHONE_RE.match(phone):
            check.error(row_no, COL_PHONE, phone, "联系电话格式不对")
        phone = phone.replace(" ", "")

        bank_name = cell_text(rec.get(COL_BANK))
        if len(bank_name) > 100:
            check.error(row_no, COL_BANK, bank_name, "开户银行名称过长")
        bank_account = ""
        try:
            bank_account = cell_digits(rec.get(COL_ACCOUNT), what="银行账号").replace(" ", "")
            if bank_account and not _ACCOUNT_RE.match(bank_account):
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
            continue

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
        earlier = first_seen_key.get(row.identity_key)
        if earlier is not None:
            check.error(row_no, COL_ID, row.id_number, f"与第 {earlier} 行重复（同一身份证号、救助类别和认定日期）")
            continue
        first_seen_key[row.identity_key] = row_no
        other = person_seen.get(row.id_number)
        if other is not None and not _same_person_fields(other, row, check):
            continue
        person_seen.setdefault(row.id_number, row)
        check.rows.append(row)

    if progress:
        progress(check.total_rows, check.total_rows)
    if township is not None and check.rows:
        _check_clerk_scope(check, township)
    elif county is not None and check.rows:
        check.errors.extend(county_scope_errors(check.rows, county))
    if check.errors:
        check.errors.sort(key=lambda e: e["row"] or 0)
        check.rows = []
    return check


def _same_person_fields(first: RosterRow, row: RosterRow, check: RosterCheck) -> bool:
    """Rows of one person must agree on the person's own fields."""
    ok = True
    for attr, column in (
        ("name", COL_NAME),
        ("township_id", COL_TOWNSHIP),
        ("village_id", COL_VILLAGE),
        ("phone", COL_PHONE),
        ("bank_name", COL_BANK),
        ("bank_account", COL_ACCOUNT),
    ):
        if getattr(first, attr) != getattr(row, attr):
            check.error(
                row.row_no,
                column,
                getattr(row, attr) if attr not in ("township_id", "village_id") else "",
                f"同一身份证号在第 {first.row_no} 行的“{column}”不同，请统一",
            )
            ok = False
    return ok


def _check_clerk_scope(check: RosterCheck, township: Township) -> None:
    check.errors.extend(clerk_scope_errors(check.rows, township))


def county_scope_errors(rows: list[RosterRow], county: County) -> list[dict]:
    """A county may not touch a person registered in another county (checked again before writing)."""
    return _registered_elsewhere(
        rows, {"township__county_id": county.id}, "此人已登记在其他县（区），不能改动，请联系市级管理处理"
    )


def _registered(rows: list[RosterRow], people) -> set[str]:
    """The ID numbers of the rows held by `people` (a queryset of persons). On PostgreSQL one query with the
    numbers as one array (an IN list of 100,000 placeholders took seconds to build and send); elsewhere in
    chunks that SQLite's limit on parameters takes."""
    numbers = sorted({r.id_number for r in rows})
    if connection.vendor == "postgresql":
        listed = RawSQL("SELECT unnest(%s::varchar[])", [numbers])
        return set(people.filter(id_number__in=listed).values_list("id_number", flat=True))
    found = set()
    for start in range(0, len(numbers), 900):
        found.update(people.filter(id_number__in=numbers[start : start + 900]).values_list("id_number", flat=True))
    return found


def clerk_scope_errors(rows: list[RosterRow], township: Township) -> list[dict]:
    """A clerk may not touch a person registered in another township.

    Checked when the file is validated and again, under the import lock, just before writing.
    The message does not say which township: a clerk must not learn where others are registered.
    """
    return _registered_elsewhere(
        rows, {"township_id": township.id}, "此人已登记在其他乡镇，乡镇窗口不能改动，请联系县局处理"
    )


def _registered_elsewhere(rows: list[RosterRow], own: dict, message: str) -> list[dict]:
    """An error on each row whose person is registered outside `own` (a filter on Person)."""
    elsewhere = _registered(rows, Person.objects.exclude(**own))
    report = RosterCheck()
    for row in rows:
        if row.id_number in elsewhere:
            report.error(row.row_no, COL_ID, row.id_number, message)
    return report.errors
