"""Column profiles, the pure part: how a file's headers map to a format's own columns, and reading a table through
such a map. No database here (imports.profiles finds, chooses and stores profiles).

A format declares its columns once (`FileColumns`, on its registry.ImportFormat): the template's, each required or
not, each text, date or money; the columns only a profile fills (the platform's 就诊ID, kept on the record); and
the value tables a profile may translate a cell through (医疗类别 code → 就诊类型). A `Profile` maps each of those
columns to one header of the file, or, for money, to several headers that are added up (大病保险支付 C =
居民大病保险资金支出 + 职工大额医疗费用补助基金支出). The format's template is the profile every format has:
its headers are its columns.

Reading a table through a profile gives a table whose headers are the format's columns, so that the format's
checks run unchanged; what the profile itself could not read (a code missing from the value table, one amount of a
sum that is not an amount) is remembered by row and column and put on the check's error for that cell. Errors are
then labelled with the file's header beside the format's column — 符合政策范围金额（政策范围内费用）— so that the
user finds the cell in their own file.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from lib.tabular import CellError, Table, cell_money, cell_text, clean_header

TEXT, DATE, MONEY = "text", "date", "money"
KIND_LABELS = {TEXT: "文字", DATE: "日期", MONEY: "金额"}
PLUS = "+"


@dataclass(frozen=True)
class FileColumn:
    name: str
    required: bool = False
    kind: str = TEXT
    kept: bool = False  # not in the template: only a profile fills it (kept on the record when it does)
    help: str = ""  # shown beside the column where an administrator maps it


@dataclass(frozen=True)
class ValueTable:
    """A table an administrator edits that turns a file's code into one of the column's values."""

    name: str  # the key in a profile: "med_type"
    label: str  # 医疗类别对照表
    column: str  # the format's column it fills: 就诊类型
    accepts: tuple[str, ...]  # the column's own values, taken as they are
    load: Callable[[], list[tuple[str, str, str]]]  # (code, name, value) rows, read when a file is checked
    where: str  # where it is edited, in the message of a code it lacks


@dataclass(frozen=True)
class FileColumns:
    """What a format's files hold, declared by the format."""

    label: str  # 救助对象名册
    template_name: str  # the name of the default profile, its template: 名册模板（系统表头）
    columns: tuple[FileColumn, ...]
    tables: tuple[ValueTable, ...] = ()

    def column(self, name: str) -> FileColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def table(self, name: str) -> ValueTable | None:
        return next((t for t in self.tables if t.name == name), None)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def header_key(text: str) -> str:
    """Headers are compared as the reader cleans them and without case (setl_id, SETL_ID)."""
    return clean_header(text).casefold()


def parse_headers(text: str) -> list[str]:
    """What an administrator types for one column: a header, or several joined by + (added up)."""
    return [clean_header(part) for part in (text or "").replace("＋", PLUS).split(PLUS) if clean_header(part)]


@dataclass(frozen=True)
class Entry:
    """One of the format's columns and where the file holds it."""

    column: str
    headers: tuple[str, ...]  # one; several (money) are added up
    table: str = ""  # a ValueTable's name: the cell is translated through it

    def as_json(self) -> dict:
        return {"column": self.column, "headers": list(self.headers), **({"table": self.table} if self.table else {})}

    @classmethod
    def from_json(cls, data: dict) -> "Entry":
        return cls(column=data["column"], headers=tuple(data["headers"]), table=data.get("table", ""))

    @property
    def shown(self) -> str:
        return f" {PLUS} ".join(self.headers)


@dataclass(frozen=True)
class Profile:
    """A map from a file's headers to a format's columns. `template` is the format's own (headers = columns)."""

    name: str
    entries: tuple[Entry, ...]
    template: bool = False
    pk: int | None = None
    # The value tables the entries use, as they were when the file was checked: {name: [[code, name, value]]}.
    tables: dict[str, list] = field(default_factory=dict)

    def required_headers(self, spec: FileColumns) -> list[str]:
        """The headers a file must hold to be read through this profile: those of the required columns."""
        required = set(spec.required)
        seen: dict[str, str] = {}
        for entry in self.entries:
            if entry.column in required:
                for header in entry.headers:
                    seen.setdefault(header_key(header), header)
        return list(seen.values())

    def entry(self, column: str) -> Entry | None:
        return next((e for e in self.entries if e.column == column), None)

    def snapshot(self) -> dict:
        """What an import keeps of the profile: a later edit of the profile does not change it."""
        return {
            "template": self.template,
            "pk": self.pk,
            "columns": [e.as_json() for e in self.entries],
            "tables": self.tables,
        }

    @classmethod
    def from_snapshot(cls, name: str, data: dict) -> "Profile":
        return cls(
            name=name,
            entries=tuple(Entry.from_json(e) for e in data.get("columns", [])),
            template=bool(data.get("template")),
            pk=data.get("pk"),
            tables=data.get("tables") or {},
        )

    def read(self, table: Table, spec: FileColumns) -> "Reading":
        """The table as the format's columns (the template's reading is the table itself)."""
        if self.template:
            return Reading(table=table, labels={})
        return _MappedReader(self, spec, table).reading()


def template_profile(spec: FileColumns) -> Profile:
    entries = tuple(Entry(column=c.name, headers=(c.name,)) for c in spec.columns if not c.kept)
    return Profile(name=spec.template_name, entries=entries, template=True)


@dataclass
class Note:
    header: str  # the file's header the problem is in
    reason: str = ""  # replaces the check's reason for that cell


@dataclass
class Reading:
    """A table read through a profile, and how to put the file's headers on the errors found in it."""

    table: Table
    labels: dict[str, str]  # the format's column → how errors name it
    notes: dict[tuple[int, str], Note] = field(default_factory=dict)

    def relabel(self, errors: list[dict]) -> list[dict]:
        if not self.labels and not self.notes:
            return errors
        out = []
        for error in errors:
            column = error.get("column") or ""
            note = self.notes.get((error.get("row"), column))
            if note is not None:
                label = note.header if note.header == column else f"{note.header}（{column}）"
                error = {**error, "column": label, "reason": note.reason or error["reason"]}
            elif column in self.labels:
                error = {**error, "column": self.labels[column]}
            out.append(error)
        return out


_DATE_TIME = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{8})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?|\d{6})\s*$"
)


def date_part(value):
    """A date-and-time written as text (2025-03-05 10:23:11, 20250305102311) as its date; other cells as they are.

    Platform exports carry times in date columns (结算时间); a spreadsheet's date cells are read as dates already.
    """
    if isinstance(value, str):
        match = _DATE_TIME.match(value)
        if match:
            return match.group(1)
    return value


def _filled(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


class Lookup:
    """A value table as read for one file: the column's own values, then a code or name, then the longest code
    prefix (an entry 2 stands for every code beginning with 2 that has no entry of its own)."""

    def __init__(self, accepts: tuple[str, ...], rows: list):
        self.accepts = set(accepts)
        self.exact = {}
        for _, name, value in rows:
            if name:
                self.exact.setdefault(str(name), value)
        self.codes = {str(code): value for code, _, value in rows}
        self.exact.update(self.codes)
        self.longest = max((len(c) for c in self.codes), default=0)

    def get(self, text: str) -> str | None:
        if text in self.accepts:
            return text
        found = self.exact.get(text)
        if found is not None:
            return found
        for length in range(min(len(text) - 1, self.longest), 0, -1):
            found = self.codes.get(text[:length])
            if found is not None:
                return found
        return None


class _MappedReader:
    def __init__(self, profile: Profile, spec: FileColumns, table: Table):
        self.profile, self.spec, self.source = profile, spec, table
        positions: dict[str, int] = {}
        for i, header in enumerate(table.headers):
            positions.setdefault(header_key(header), i)
        self.plan = []  # (column, kind, [(header, position)], lookup, value table)
        labels = {}
        for entry in profile.entries:
            column = spec.column(entry.column)
            if column is None:
                continue
            present = [(h, positions[header_key(h)]) for h in entry.headers if header_key(h) in positions]
            if not present:
                continue  # an optional column the file does not hold
            value_table = spec.table(entry.table) if entry.table else None
            lookup = Lookup(value_table.accepts, profile.tables.get(entry.table, [])) if value_table else None
            self.plan.append((column.name, column.kind, present, lookup, value_table))
            shown = f" {PLUS} ".join(h for h, _ in present)
            labels[column.name] = column.name if shown == column.name else f"{shown}（{column.name}）"
        self.labels = labels
        self.notes: dict[tuple[int, str], Note] = {}

    def reading(self) -> Reading:
        table = Table(
            headers=[column for column, *_ in self.plan],
            rows=self._rows(),
            first_row_number=self.source.first_row_number,
            may_hold_control_characters=self.source.may_hold_control_characters,
        )
        return Reading(table=table, labels=self.labels, notes=self.notes)

    def _rows(self) -> Iterator[list]:
        width = len(self.source.headers)
        first = self.source.first_row_number
        for offset, row in enumerate(self.source.rows):
            if len(row) < width:
                row = list(row) + [None] * (width - len(row))
            yield [self._cell(first + offset, row, item) for item in self.plan]

    def _cell(self, row_no: int, row: list, item):
        column, kind, present, lookup, value_table = item
        if len(present) > 1:
            return self._sum(row_no, row, column, present)
        header, position = present[0]
        value = row[position]
        if lookup is not None:
            text = cell_text(value)
            if not text:
                return value
            found = lookup.get(text)
            if found is None:
                reason = (
                    f"{header}“{text[:20]}”在{value_table.label}中没有对应的{column}；"
                    f"请系统管理员在“{value_table.where}”中补充，或核对文件"
                )
                self.notes[(row_no, column)] = Note(header=header, reason=reason)
                return value
            return found
        if kind == DATE:
            return date_part(value)
        return value

    def _sum(self, row_no: int, row: list, column: str, present) -> object:
        """Amounts added up exactly; an empty cell counts 0, all empty is an empty cell. One that is not an amount
        is passed on as it is, for the check to report, with its own header on the error."""
        total = Decimal("0")
        filled = False
        for header, position in present:
            value = row[position]
            if not _filled(value):
                continue
            filled = True
            try:
                amount = cell_money(value)
            except CellError:
                self.notes[(row_no, column)] = Note(header=header)
                return value
            if amount < 0:  # reported as a negative amount, on the cell that is
                self.notes[(row_no, column)] = Note(header=header)
                return value
            total += amount
        return str(total) if filled else None


def shown_rows(spec: FileColumns | None, data: dict) -> list[dict]:
    """A kept profile as the pages show it: file header(s) → the format's column, and how."""
    rows = []
    for raw in data.get("columns", []):
        entry = Entry.from_json(raw)
        column = spec.column(entry.column) if spec else None
        how = []
        if len(entry.headers) > 1:
            how.append("相加")
        if entry.table:
            table = spec.table(entry.table) if spec else None
            label = table.label if table else entry.table
            codes = data.get("tables", {}).get(entry.table) or []
            how.append(f"按{label}转换" + (f"：{_codes_shown(codes)}" if codes else ""))
        rows.append(
            {
                "headers": entry.shown,
                "column": entry.column,
                "required": bool(column and column.required),
                "kept": bool(column and column.kept),
                "how": "，".join(how),
                "same": entry.shown == entry.column,
            }
        )
    return rows


def _codes_shown(rows: list) -> str:
    """A value table in one line, by value: 门诊 ← 1、11、12、13；门诊慢特病 ← 14 …"""
    by_value: dict[str, list[str]] = {}
    for code, _, value in rows:
        by_value.setdefault(value, []).append(str(code))
    return "；".join(
        f"{value} ← {'、'.join(codes[:10])}{'…' if len(codes) > 10 else ''}" for value, codes in by_value.items()
    )
