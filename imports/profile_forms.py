"""The administrator's form for a column profile: one field per column of the format, holding the file's header
(or, for an amount, several joined by +), checked before it is saved."""

from django import forms
from django.core.exceptions import ValidationError

from lib.tabular import TableError, read_headers

from .mapping import DATE, MONEY, PLUS, Entry, header_key, parse_headers
from .models import ColumnProfile
from .profiles import conflicts, mapping_errors
from .registry import ImportFormat

SAMPLE_MAX_BYTES = 20 * 1024 * 1024


def column_field(index: int) -> str:
    return f"col_{index}"


def table_field(index: int) -> str:
    return f"table_{index}"


def _column_help(column) -> str:
    parts = [column.help] if column.help else []
    if column.kind == MONEY:
        parts.append(f"可填写几个表头，用 {PLUS} 相加")
    elif column.kind == DATE:
        parts.append("单元格可以是日期，也可以是带时间的日期")
    return "；".join(parts)


class ProfileFormBase(forms.ModelForm):
    """Built for one format by `profile_form`; `fmt` and the column fields are set there."""

    fmt: ImportFormat
    sample_file = forms.FileField(
        label="示例文件（可选）",
        required=False,
        help_text="上传一份该部门导出的文件（.xlsx 或 .csv），保存前核对上面填写的表头在文件中都有；文件不会保存",
    )

    class Meta:
        model = ColumnProfile
        fields = ["name", "note", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mapped = {e.column: e for e in self.instance.entries()} if self.instance.pk else {}
        for i, column in enumerate(self.fmt.file_columns.columns):
            entry = mapped.get(column.name)
            if entry is not None:
                self.fields[column_field(i)].initial = entry.shown
                if table_field(i) in self.fields:
                    self.fields[table_field(i)].initial = bool(entry.table)
        self.entries: list[Entry] = []

    def clean(self):
        cleaned = super().clean()
        spec = self.fmt.file_columns
        entries = []
        for i, column in enumerate(spec.columns):
            headers = parse_headers(cleaned.get(column_field(i), ""))
            if not headers:
                continue
            table = next((t.name for t in spec.tables if t.column == column.name), "")
            translate = bool(cleaned.get(table_field(i))) if table else False
            entries.append(Entry(column=column.name, headers=tuple(headers), table=table if translate else ""))
        names = {c.name: i for i, c in enumerate(spec.columns)}
        for column, message in mapping_errors(spec, entries).items():
            self.add_error(column_field(names[column]), message)
        self.entries = entries
        if not self.errors and cleaned.get("active"):
            clash = conflicts(self.fmt, entries, exclude_pk=self.instance.pk)
            if clash:
                self.add_error(
                    None,
                    "与列对应方案"
                    + "、".join(f"“{n}”" for n in clash)
                    + "冲突：符合其中一个方案的文件也都符合另一个，这样的文件将无法导入。"
                    "请让必填列对应的表头与之有所区别，或停用其中一个方案。",
                )
        sample = cleaned.get("sample_file")
        if sample and not self.errors:
            self._check_sample(sample, entries)
        return cleaned

    def _check_sample(self, upload, entries: list[Entry]) -> None:
        if upload.size > SAMPLE_MAX_BYTES:
            self.add_error("sample_file", "示例文件过大（上限 20 MB）；只需要包含表头和几行数据")
            return
        try:
            headers = read_headers(upload.read(), upload.name)
        except TableError as exc:
            self.add_error("sample_file", str(exc))
            return
        present = {header_key(h) for h in headers if h}
        names = {c.name: i for i, c in enumerate(self.fmt.file_columns.columns)}
        shown = "、".join(h for h in headers if h)[:300]
        for entry in entries:
            missing = [h for h in entry.headers if header_key(h) not in present]
            if missing:
                self.add_error(
                    column_field(names[entry.column]),
                    ValidationError(f"示例文件中没有表头“{'、'.join(missing)}”。文件的表头有：{shown}"),
                )

    def save(self, commit=True):
        self.instance.kind = self.fmt.kind
        self.instance.mapping = [e.as_json() for e in self.entries]
        return super().save(commit=commit)


def profile_form(fmt: ImportFormat) -> type[ProfileFormBase]:
    """The form for profiles of this format: one text field per column, a check box per value table."""
    attrs = {"fmt": fmt, "__module__": __name__}
    for i, column in enumerate(fmt.file_columns.columns):
        attrs[column_field(i)] = forms.CharField(
            label=column.name + ("（必填）" if column.required else ""),
            required=False,
            max_length=300,
            help_text=_column_help(column),
            widget=forms.TextInput(attrs={"size": 60, "placeholder": "文件中的表头"}),
        )
        for table in fmt.file_columns.tables:
            if table.column == column.name:
                attrs[table_field(i)] = forms.BooleanField(
                    label=f"{column.name}：按{table.label}转换",
                    required=False,
                    help_text=f"文件中是代码（如 11、21）时勾选；对照表在“{table.where}”中维护",
                )
    return type(f"{fmt.kind.title()}ProfileForm", (ProfileFormBase,), attrs)


def fieldsets(fmt: ImportFormat) -> list[tuple[str, dict]]:
    """The form's fields in groups: the profile, then required, optional and kept columns."""
    spec = fmt.file_columns
    groups = {"required": [], "optional": [], "kept": []}
    for i, column in enumerate(spec.columns):
        names = [column_field(i)]
        if any(t.column == column.name for t in spec.tables):
            names.append(table_field(i))
        group = "kept" if column.kept else "required" if column.required else "optional"
        groups[group].extend(names)
    sets = [
        (None, {"fields": ["kind_label", "name", "note", "active"]}),
        (
            "必填列",
            {
                "fields": groups["required"],
                "description": "左边是本系统的列，右边填写文件中对应的表头（与文件第一行一致，不区分大小写）。"
                "文件包含下面全部必填列的表头时，即按本方案读取。",
            },
        ),
        ("可选列", {"fields": groups["optional"], "description": "文件中没有的列留空。"}),
    ]
    if groups["kept"]:
        sets.append(("保留的列", {"fields": groups["kept"], "description": "模板中没有、随结算记录保存的列。"}))
    sets.append(("核对", {"fields": ["sample_file"]}))
    return sets
