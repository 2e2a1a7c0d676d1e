"""The formats the import flow knows, by kind.

A format is declared once, in its app's `import_format.py` (found at start-up, see apps.py): its record model,
how a file is checked and written, what the app announces afterwards, and the texts and template fragments
of its pages. The flow (services, tasks, views) is the same for every format.

A new format (the bank return of a payout batch, a premium-subsidy enrolment result, a filled follow-up call
list) brings: a model inheriting imports.models.ImportRecord with its options (the batch, the insurance year)
and its counts; an upload form inheriting imports.forms.UploadForm with those options, which `prepare` checks
and turns into the record's fields; `check` and `write` over its own reading and matching code; the signal it
sends in `announce`; `import_urls(kind)` in its app's urlpatterns; labels for its audit actions; and, for the
operator, a command inheriting imports.commands.ImportCommand. A format that declares its columns
(`file_columns`) also reads files of other departments' layouts, through column profiles (imports.profiles): its
checks read the table through `imports.profiles.profile_of(record)`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured

from audit.actions import label_import_steps

from .mapping import FileColumns


class Column(NamedTuple):
    """A count shown in the history table: a field of the record, its header and an optional tooltip."""

    field: str
    label: str
    title: str = ""


class Link(NamedTuple):
    """A button on the history page, shown to users holding the permission."""

    permission: str
    url_name: str
    label: str


@dataclass
class Report:
    """What checking or writing a file found.

    `values` are stored on the record (the format's counts: rows_added, rows_changed ...); `summary` is added to
    the audit row of the write beside the counts; `data` is the format's own, for its announcement (for example
    the people the file is about).
    """

    total_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    data: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def audit_summary(self) -> dict[str, Any]:
        """The counts under short names (rows_added → added), then the format's summary."""
        counts = {name.removeprefix("rows_"): value for name, value in self.values.items() if isinstance(value, int)}
        return counts | self.summary


@dataclass(frozen=True, kw_only=True)
class Pages:
    """The texts that name the format on its pages."""

    history_title: str  # the history page's title, e.g. 名册导入记录
    history_heading: str
    upload_title: str  # the upload button and the upload page's title, e.g. 导入名册
    upload_heading: str
    template_link: str  # the blank template's download button
    nav_label: str  # where the user finds the result again, e.g. 名册导入
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Fragments:
    """Template fragments of the format, included by the shared pages (templates/imports/)."""

    preview: str  # what confirming would change (a VALID record)
    result: str  # what was written (a DONE record)
    upload_help: str  # the file's columns and rules, beside the upload form
    fields: str = ""  # extra <dt>/<dd> pairs of the detail page (the format's options)
    notes: str = ""  # shown below the preview and the result
    table: str = "imports/_table.html"  # the history table; a format may extend it with columns of its own


@dataclass(frozen=True, kw_only=True)
class ImportFormat:
    """One kind of file the flow imports.

    The hooks take the record (an instance of `model`) and the file's bytes:

    - `check(record, content, progress=...)` reads and checks every row and counts what writing would change.
      It runs outside a transaction (so that `progress(done, total)` is seen by the page) and must leave the
      database as it found it: a count made by writing is made inside `imports.services.dry_run()`.
    - `write(record, content)` checks again and writes, inside the transaction of the write. A report with
      errors rolls it back and the record becomes INVALID.
    - `announce(record, report)` tells the apps built on this one what was written, inside the same
      transaction (a signal whose receivers act on commit).
    - `prepare(user, options)` turns the upload form's other fields (or a command's options) into field values
      of the new record, or raises ImportRejected.
    """

    kind: str  # the name in task arguments: "roster"
    model: type
    label: str  # the detail page's title, e.g. 名册导入
    audit_prefix: str  # actions <prefix>.upload, .validate, .confirm, .apply, .cancel, .fail, .retry
    audit_noun: str  # what the file is, in the audit log's labels: 上传名册, 名册导入失败 … (audit.actions)
    namespace: str  # the URL namespace holding import_list, import_upload, import_detail ...
    import_permission: str  # upload, confirm, cancel, blank template
    view_permission: str = ""  # history, detail, error report; by default the model's view permission
    max_upload_setting: str  # the setting holding the largest file accepted, in bytes
    check: Callable[..., Report]
    write: Callable[..., Report]
    announce: Callable[[Any, Report], None] | None = None
    prepare: Callable[[Any, dict], dict] | None = None
    upload_form: type
    blank_template: Callable[[], bytes]
    file_slug: str  # download names: <slug>-template.xlsx, <slug>-import-<pk>-errors.xlsx
    columns: tuple[Column, ...] = ()
    related: tuple[str, ...] = ()  # select_related of the pages beside created_by and applied_by
    confirm_prompt: Callable[[Any], str] = lambda record: "确认导入？导入后数据将写入系统，不能撤销。"
    detail_context: Callable[[Any], dict] | None = None
    # The first rows as read (imports.samples.sample_rows over the format's columns), shown before confirming.
    sample: Callable[[Any, bytes], dict] | None = None
    # The format's columns, for column profiles (imports.profiles): a file whose headers differ from the template
    # is read through the profile its headers match. None: files are read by the template's headers only.
    file_columns: FileColumns | None = None
    pages: Pages
    fragments: Fragments

    def __post_init__(self):
        if not self.view_permission:
            opts = self.model._meta
            object.__setattr__(self, "view_permission", f"{opts.app_label}.view_{opts.model_name}")


_formats: dict[str, ImportFormat] = {}
_kinds_by_model: dict[type, str] = {}


def register(fmt: ImportFormat, *, replace: bool = False) -> ImportFormat:
    """Make a format known to the flow. `replace` swaps a registered one (tests stub its hooks this way)."""
    known = _formats.get(fmt.kind)
    if known is not None and known is not fmt and not replace:
        raise ImproperlyConfigured(f"import format {fmt.kind!r} is registered twice")
    other = _kinds_by_model.get(fmt.model)
    if other is not None and other != fmt.kind:
        raise ImproperlyConfigured(f"{fmt.model.__name__} already records the import format {other!r}")
    _formats[fmt.kind] = fmt
    _kinds_by_model[fmt.model] = fmt.kind
    label_import_steps(fmt.audit_prefix, fmt.audit_noun)
    return fmt


def get_format(kind: str) -> ImportFormat:
    try:
        return _formats[kind]
    except KeyError:
        raise LookupError(f"unknown import format {kind!r}") from None


def format_for_model(model: type) -> ImportFormat:
    try:
        return _formats[_kinds_by_model[model]]
    except KeyError:
        raise LookupError(f"{model.__name__} is not the record of an import format") from None


def all_formats() -> list[ImportFormat]:
    return list(_formats.values())
