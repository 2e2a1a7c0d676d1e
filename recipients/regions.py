"""Counties, townships and villages from an administrative-division list (`load_regions FILE`).

The file has a column 代码 (or 行政区划代码 / 区划代码 / 统计用区划代码) and a column 名称; a row's level follows from
its code, GB/T 2260 style: 6 digits a county, 9 a township (the county's six, then three), 12 a village (the
township's nine, then three). The 12-digit 统计用区划代码 of the statistics office is read too: trailing zeros tell
its level (440981000000 the county, 440981100000 a township). Province and prefecture rows (a six-digit code
ending in 00, or two or four digits) are skipped: the instance is one prefecture.

All-or-nothing: every row is checked (codes, names, parents present in the file or already stored, a name once
per parent, a code once) before anything is written, and the whole file is written in one transaction. Loading the
same file again changes nothing; a renamed division is renamed; a township or village stored without a code (typed
in 系统管理) is matched by its name under the same parent and given its code. Nothing is deleted.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction

from audit.services import audit_record
from lib.tabular import (
    CONTROL_MESSAGE,
    CellError,
    TableError,
    cell_text,
    clean_header,
    column_index,
    control_columns,
    iter_records,
    read_table,
)

from .models import County, Township, Village

CODE_HEADERS = ["代码", "行政区划代码", "区划代码", "统计用区划代码"]
NAME_HEADERS = ["名称", "区划名称", "单位名称"]
MAX_BYTES = 20 * 1024 * 1024  # a whole province's villages are under 5 MB as CSV
MAX_NAME = 50
LEVELS = {6: "县（区）", 9: "乡镇（街道）", 12: "村（社区）"}


class RegionsRejected(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} 处错误")
        self.errors = errors


@dataclass
class Counts:
    added: int = 0
    renamed: int = 0
    coded: int = 0  # stored without a code, matched by name and given it
    unchanged: int = 0

    def line(self, label: str) -> str:
        return f"{label}：新增 {self.added:,}，改名 {self.renamed:,}，补充代码 {self.coded:,}，不变 {self.unchanged:,}"


@dataclass
class Outcome:
    counties: Counts = field(default_factory=Counts)
    townships: Counts = field(default_factory=Counts)
    villages: Counts = field(default_factory=Counts)
    skipped: int = 0

    def lines(self) -> list[str]:
        lines = [
            self.counties.line("县（区）"),
            self.townships.line("乡镇（街道）"),
            self.villages.line("村（社区）"),
        ]
        if self.skipped:
            lines.append(f"跳过省、市级行 {self.skipped:,} 行")
        return lines


def normalise_code(raw: str) -> str | None:
    """The code at its own length (6, 9 or 12 digits), None for a province or prefecture row; ValueError if not a
    division code."""
    if not re.fullmatch(r"\d+", raw):
        raise ValueError("代码只能由数字组成")
    if len(raw) == 12:
        if raw.endswith("000000"):
            raw = raw[:6]
        elif raw.endswith("000"):
            raw = raw[:9]
    if len(raw) in (2, 4) or (len(raw) == 6 and raw.endswith("00")):
        return None
    if len(raw) not in LEVELS:
        raise ValueError("代码应为 6 位（县）、9 位（乡镇）或 12 位（村）")
    return raw


def read_regions(content: bytes, file_name: str) -> tuple[dict[str, str], int]:
    """{code: name} of every county, township and village row, and the number of rows skipped; RegionsRejected
    with every error."""
    if len(content) > MAX_BYTES:
        raise RegionsRejected([f"文件过大（{len(content) / 2**20:,.1f} MB），上限 {MAX_BYTES // 2**20} MB"])
    try:
        table = read_table(content, file_name)
    except TableError as exc:
        raise RegionsRejected([str(exc)]) from exc
    headers = [clean_header(h) for h in table.headers]
    code_found, code_twice = column_index(headers, CODE_HEADERS)
    name_found, name_twice = column_index(headers, NAME_HEADERS)
    if len(code_found) != 1 or len(name_found) != 1 or code_twice or name_twice:
        raise RegionsRejected(
            ["表头应有且只有一列代码（代码 / 行政区划代码 / 区划代码 / 统计用区划代码）和一列名称（名称 / 区划名称）"]
        )
    columns = {"code": next(iter(code_found.values())), "name": next(iter(name_found.values()))}
    errors: list[str] = []
    found: dict[str, str] = {}
    first_row: dict[str, int] = {}
    skipped = 0
    for number, cells in iter_records(table, columns, key="code"):
        if control_columns(cells):
            errors.append(f"第 {number} 行：{CONTROL_MESSAGE}")
            continue
        try:
            raw = cell_text(cells["code"]).replace(" ", "")
            name = cell_text(cells["name"])
        except CellError as exc:
            errors.append(f"第 {number} 行：{exc}")
            continue
        try:
            code = normalise_code(raw)
        except ValueError as exc:
            errors.append(f"第 {number} 行：代码 {raw or '（空）'} 不正确：{exc}")
            continue
        if code is None:
            skipped += 1
            continue
        if not name:
            errors.append(f"第 {number} 行：代码 {code} 没有名称")
        elif len(name) > MAX_NAME:
            errors.append(f"第 {number} 行：名称超过 {MAX_NAME} 个字")
        elif code in found:
            errors.append(f"第 {number} 行：代码 {code} 与第 {first_row[code]} 行重复")
        else:
            found[code] = name
            first_row[code] = number
        if len(errors) >= 200:
            errors.append("错误过多，其余未列出")
            break
    if not found and not errors:
        errors.append("文件中没有县、乡镇或村的行")
    errors += _check_tree(found, first_row)
    if errors:
        raise RegionsRejected(errors)
    return found, skipped


def _check_tree(found: dict[str, str], first_row: dict[str, int]) -> list[str]:
    """Every township's county and every village's township in the file or stored; a name once per parent."""
    errors = []
    stored_counties = set(County.objects.values_list("code", flat=True))
    stored_townships = {code for code in Township.objects.values_list("code", flat=True) if len(code) == 9}
    names_under: dict[tuple[str, str], str] = {}
    for code in sorted(found, key=len):
        name = found[code]
        if len(code) == 6:
            parent = ""
        else:
            parent = code[: len(code) - 3]
            known = parent in found or parent in (stored_counties if len(parent) == 6 else stored_townships)
            if not known:
                errors.append(f"第 {first_row[code]} 行：{name}（{code}）的上级代码 {parent} 不在文件中，系统中也没有")
                continue
        other = names_under.setdefault((parent, name), code)
        if other != code:
            errors.append(f"第 {first_row[code]} 行：{name} 与第 {first_row[other]} 行同名，且属于同一上级")
    return errors


@transaction.atomic
def load_regions(found: dict[str, str], *, actor=None, file_name: str = "") -> Outcome:
    """Write the checked divisions (read_regions) in one transaction and audit the load."""
    outcome = Outcome()
    counties = {c.code: c for c in County.objects.select_for_update()}
    for code, name in sorted((c, n) for c, n in found.items() if len(c) == 6):
        county = counties.get(code)
        if county is None:
            counties[code] = County.objects.create(code=code, name=name)
            outcome.counties.added += 1
        elif county.name != name:
            County.objects.filter(pk=county.pk).update(name=name)
            outcome.counties.renamed += 1
        else:
            outcome.counties.unchanged += 1
    townships = _upsert_children(
        Township,
        "county",
        {code: (counties[code[:6]], name) for code, name in found.items() if len(code) == 9},
        outcome.townships,
    )
    stored = {t.code: t for t in Township.objects.filter(county__in=counties.values()).exclude(code="")}
    stored.update(townships)
    _upsert_children(
        Village,
        "township",
        {code: (stored[code[:9]], name) for code, name in found.items() if len(code) == 12},
        outcome.villages,
    )
    audit_record(
        actor=actor,
        action="regions.load",
        object_type="行政区划",
        object_repr=file_name or "行政区划",
        after={
            "file": file_name,
            "counties": vars(outcome.counties),
            "townships": vars(outcome.townships),
            "villages": vars(outcome.villages),
        },
    )
    return outcome


def _upsert_children(model, parent_field: str, wanted: dict[str, tuple], counts: Counts) -> dict:
    """Create, rename or give codes to the children named in `wanted` ({code: (parent, name)}); their rows by code."""
    parents = {parent.pk for parent, _ in wanted.values()}
    rows = list(model.objects.filter(**{f"{parent_field}_id__in": parents}).select_for_update())
    length = 9 if model is Township else 12
    by_code = {row.code: row for row in rows if len(row.code) == length}
    by_name = {(getattr(row, f"{parent_field}_id"), row.name): row for row in rows}
    result = {}
    for code, (parent, name) in sorted(wanted.items()):
        row = by_code.get(code)
        if row is None:
            row = by_name.get((parent.pk, name))
            if row is not None and len(row.code) != len(code):  # none, or a local number typed in 系统管理
                row.code = code
                row.save(update_fields=["code"])
                counts.coded += 1
            else:
                row = model.objects.create(**{parent_field: parent}, code=code, name=name)
                counts.added += 1
        elif row.name != name or getattr(row, f"{parent_field}_id") != parent.pk:
            clash = by_name.get((parent.pk, name))
            if clash is not None and clash.pk != row.pk:
                clash_code = clash.code or "无代码"
                raise RegionsRejected([f"{name}（{code}）：同一上级下已有同名的 {clash.name}（{clash_code}）"])
            row.name = name
            setattr(row, parent_field, parent)
            row.save(update_fields=["name", parent_field])
            counts.renamed += 1
        else:
            counts.unchanged += 1
        by_name[(parent.pk, row.name)] = row
        result[code] = row
    return result
