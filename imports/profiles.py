"""Column profiles: which one reads an uploaded file, kept on its record (imports.mapping holds the pure part).

The candidates for a file are the format's template and the active ColumnProfile rows of its kind. A profile
matches when the file holds every header of its required columns (compared as the reader cleans them, without
case). One match: the file is read through it. Two or more: the file is refused, naming them. None: the template
is used, so that the format's check names each required column that is missing, as it always has; a profile the
file nearly matches (at least half of its required headers) is named too, with the headers the file lacks.

The flow (imports.services) chooses when a file is checked and keeps the choice on the record, name and mapping as
they were (value tables included): the write reads the file as the preview did, and a later edit of the profile
does not rewrite the history. The format's checks read the table through `profile_of(record)`.
"""

from dataclasses import dataclass, field

from lib.tabular import TableError, read_headers

from .mapping import MONEY, Entry, FileColumns, Profile, header_key, template_profile
from .models import ColumnProfile, ImportRecord
from .registry import ImportFormat


@dataclass
class Choice:
    profile: Profile | None = None
    errors: list[dict] = field(default_factory=list)  # the file is refused with these
    hints: list[dict] = field(default_factory=list)  # put before the check's errors, should the check fail


def _error(column: str, reason: str, value: str = "") -> dict:
    return {"row": 1, "column": column, "value": value, "reason": reason}


def _names(names: list[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    return quoted[0] if len(quoted) == 1 else "、".join(quoted[:-1]) + "和" + quoted[-1]


def stored_profile(row: ColumnProfile, spec: FileColumns) -> Profile:
    """A ColumnProfile row as a Profile, with the value tables it uses as they are now."""
    entries = row.entries()
    tables = {}
    for entry in entries:
        value_table = spec.table(entry.table) if entry.table else None
        if value_table is not None and entry.table not in tables:
            tables[entry.table] = [list(r) for r in value_table.load()]
    return Profile(name=row.name, entries=entries, pk=row.pk, tables=tables)


def candidates(fmt: ImportFormat) -> list[Profile]:
    spec = fmt.file_columns
    rows = ColumnProfile.objects.filter(kind=fmt.kind, active=True).order_by("name")
    return [template_profile(spec), *(stored_profile(row, spec) for row in rows)]


def choose(fmt: ImportFormat, headers: list[str]) -> Choice:
    """The profile a file with these headers is read through (see the module's docstring)."""
    spec = fmt.file_columns
    present = {header_key(h) for h in headers if h}
    profiles = candidates(fmt)
    matched, near = [], []
    for profile in profiles:
        required = profile.required_headers(spec)
        missing = [h for h in required if header_key(h) not in present]
        if required and not missing:
            matched.append(profile)
        elif not profile.template and required and 2 * (len(required) - len(missing)) >= len(required):
            near.append((profile, missing))
    if len(matched) > 1:
        reason = (
            f"文件的表头同时符合列对应方案{_names([p.name for p in matched])}，无法确定按哪个方案读取；"
            "请删去文件中多余的列后重新上传，或请系统管理员调整这些方案"
        )
        return Choice(errors=[_error("", reason)])
    if matched:
        profile = matched[0]
        return Choice(profile=profile, errors=[] if profile.template else _repeated(profile, headers))
    hints = []
    for profile, missing in near:
        for header in missing:
            columns = "、".join(e.column for e in profile.entries if header_key(header) in map(header_key, e.headers))
            hints.append(
                _error(
                    header,
                    f"文件的表头与列对应方案“{profile.name}”接近，但缺少该方案的表头“{header}”（对应本系统的“{columns}”）",
                )
            )
    return Choice(profile=profiles[0], hints=hints)


def _repeated(profile: Profile, headers: list[str]) -> list[dict]:
    """A header the profile reads that the file holds twice: which one is meant cannot be known."""
    used = {header_key(h) for e in profile.entries for h in e.headers}
    seen, errors = set(), []
    for header in headers:
        key = header_key(header)
        if key in used and key in seen:
            errors.append(_error(header, f"表头“{header}”出现了不止一次", header))
        seen.add(key)
    return errors


def choose_for(record: ImportRecord, content: bytes, *, reuse: bool = False) -> Choice:
    """Choose the profile of a record's file and keep it on the record (its fields are saved by the caller).

    `reuse` keeps a choice already made (the write after the preview); a file that cannot be read is left to the
    format's check, which says why.
    """
    fmt = record.import_format
    if fmt.file_columns is None or (reuse and record.profile_name):
        return Choice(profile=profile_of(record))
    try:
        headers = read_headers(content, record.file_name)
    except TableError:
        record.profile_name, record.profile_mapping = "", {}
        return Choice()
    choice = choose(fmt, headers)
    if choice.profile is None:
        record.profile_name, record.profile_mapping = "", {}
    else:
        record.profile_name, record.profile_mapping = choice.profile.name, choice.profile.snapshot()
    return choice


def profile_of(record: ImportRecord) -> Profile | None:
    """The profile the record's file is read through; None for the template (or before a choice is made)."""
    if not record.profile_name or not record.profile_mapping or record.profile_mapping.get("template"):
        return None
    return Profile.from_snapshot(record.profile_name, record.profile_mapping)


# --- what an administrator may save -----------------------------------------------------------------------------


def mapping_errors(spec: FileColumns, entries: list[Entry]) -> dict[str, str]:
    """Per column of the format, why its mapping cannot be saved."""
    errors = {}
    mapped = {e.column: e for e in entries}
    for column in spec.columns:
        entry = mapped.get(column.name)
        if column.required and (entry is None or not entry.headers):
            errors[column.name] = f"“{column.name}”是必填列，请填写文件中对应的表头"
        elif entry is not None and len(entry.headers) > 1 and column.kind != MONEY:
            errors[column.name] = "只有金额列可以由几列相加；请只填写一个表头"
        elif entry is not None and len({header_key(h) for h in entry.headers}) < len(entry.headers):
            errors[column.name] = "同一个表头填写了两次"
    return errors


def conflicts(fmt: ImportFormat, entries: list[Entry], *, exclude_pk: int | None) -> list[str]:
    """Profiles every file of this mapping would also match, or that would match every file of theirs: such files
    could never be read (they are refused as matching two profiles)."""
    spec = fmt.file_columns
    mine = {header_key(h) for h in Profile(name="", entries=tuple(entries)).required_headers(spec)}
    found = []
    for other in candidates(fmt):
        if other.pk is not None and other.pk == exclude_pk:
            continue
        theirs = {header_key(h) for h in other.required_headers(spec)}
        if mine and theirs and (mine <= theirs or theirs <= mine):
            found.append(other.name)
    return found
