"""The roster (救助对象名册, DATA-FORMATS §1) as a format of the import flow (imports/): how a file is checked
and written, and what the registry announces once it is. Its columns (roster.FILE_COLUMNS) let rosters of other
departments' layouts be read through the column profiles an administrator maps."""

from django.utils import timezone

from imports.profiles import profile_of
from imports.registry import Column, Fragments, ImportFormat, Pages, Report, register
from imports.samples import SampleColumn, sample_rows, shown_date
from imports.services import ImportRejected, dry_run
from imports.workbooks import blank_template
from lib.locks import xact_lock
from lib.tabular import cell_digits, cell_text

from .categories import Category, Source, parse_category, parse_source
from .demo import ROSTER_HEADERS
from .forms import RosterUploadForm
from .idnumber import mask_bank_account, mask_id_number, mask_phone
from .models import RosterImport
from .roster import (
    COL_ACCOUNT,
    COL_BANK,
    COL_CATEGORY,
    COL_FROM,
    COL_ID,
    COL_NAME,
    COL_PHONE,
    COL_SOURCE,
    COL_TO,
    COL_TOWNSHIP,
    COL_VILLAGE,
    FILE_COLUMNS,
    REQUIRED_COLUMNS,
    clerk_scope_errors,
    county_scope_errors,
    validate_roster,
)
from .roster_apply import apply_roster
from .roster_direct import DirectWriter
from .signals import roster_applied

# Two rosters touching the same people must not interleave (held by the write and by the preview).
LOCK = "recipients.roster_import"


def _prepare(user, options: dict) -> dict:
    source, snapshot_date = options.get("source"), options.get("snapshot_date")
    if source not in Source.values:
        raise ImportRejected(f"未知的数据来源，应为：{'、'.join(Source.labels)}")
    if snapshot_date is not None and snapshot_date > timezone.localdate():
        raise ImportRejected("快照日期不能晚于今天")
    return {
        "source": source,
        "snapshot_date": snapshot_date,
        # A township window's roster may hold its own township's people only (a county's, its county's: the
        # flow gives the record the uploader's county).
        "township": user.township if user is not None and user.township_scoped else None,
    }


def _read(record: RosterImport, content: bytes, progress=None, writer=None):
    return validate_roster(
        content,
        record.file_name,
        default_source=record.source,
        township=record.township,
        county=record.county,
        progress=progress,
        today=timezone.localdate(),
        profile=profile_of(record),
        writer=writer,
    )


def _write_rows(record: RosterImport, checked) -> Report:
    """Apply checked rows under the import lock, inside the caller's transaction."""
    xact_lock(LOCK)
    if record.township_id is not None:
        # Checked again under the lock: a county import may have moved someone since the file was read.
        errors = clerk_scope_errors(checked.rows, record.township)
        if errors:
            return Report(total_rows=checked.total_rows, errors=errors)
    elif record.county_id is not None:
        errors = county_scope_errors(checked.rows, record.county)
        if errors:
            return Report(total_rows=checked.total_rows, errors=errors)
    counts = apply_roster(
        checked.rows,
        import_id=record.pk,
        snapshot_date=record.snapshot_date,
        snapshot_source=record.source,
        township_id=record.township_id,
    )
    return _report(checked, counts, record)


def _report(checked, counts, record: RosterImport) -> Report:
    return Report(
        total_rows=checked.total_rows,
        values={
            "rows_added": counts.added,
            "rows_changed": counts.changed,
            "rows_ended": counts.ended,
            "rows_unchanged": counts.unchanged,
            "persons_added": counts.persons_added,
        },
        summary={"snapshot_date": record.snapshot_date.isoformat() if record.snapshot_date else None},
        data=counts,
    )


def _check(record: RosterImport, content: bytes, *, progress) -> Report:
    checked = _read(record, content, progress)
    if not checked.ok:
        return Report(total_rows=checked.total_rows, errors=checked.errors)
    # What confirming would change, by applying and rolling back: the user confirms knowing how many
    # identities will be added, changed and ended.
    with dry_run():
        return _write_rows(record, checked)


def _write(record: RosterImport, content: bytes) -> Report:
    # Held from the check on: a file none of whose people is stored is written while it is checked (roster_direct).
    xact_lock(LOCK)
    writer = DirectWriter(
        import_id=record.pk,
        snapshot_date=record.snapshot_date,
        snapshot_source=record.source,
        township_id=record.township_id,
    )
    try:
        checked = _read(record, content, writer=writer)
    except BaseException:
        writer.abandon()  # its thread ends; the transaction the write is in rolls back what it wrote
        raise
    if not checked.ok:
        writer.stop()
        return Report(total_rows=checked.total_rows, errors=checked.errors)
    counts = writer.finish()
    if counts is None:  # not written directly, or rolled back: the general path
        return _write_rows(record, checked)
    return _report(checked, counts, record)


def _announce(record: RosterImport, report: Report) -> None:
    counts = report.data
    roster_applied.send(
        sender=RosterImport,
        record=record,
        changed=bool(counts.added or counts.changed or counts.ended),
        user=record.applied_by,
    )


def _labelled(parse, labels):
    def read(value) -> str:
        text = cell_text(value)
        code = parse(text) if text else None
        return f"{labels[code]}（{code}）" if code else (f"（不认识：{text}）" if text else "")

    return read


SAMPLE = [
    SampleColumn(COL_ID, lambda v: mask_id_number(cell_digits(v, what="身份证号"))),
    SampleColumn(COL_NAME, cell_text),
    SampleColumn(COL_CATEGORY, _labelled(parse_category, dict(Category.choices))),
    SampleColumn(COL_FROM, shown_date),
    SampleColumn(COL_TO, shown_date),
    SampleColumn(COL_TOWNSHIP, cell_text),
    SampleColumn(COL_VILLAGE, cell_text),
    SampleColumn(COL_PHONE, lambda v: mask_phone(cell_text(v))),
    SampleColumn(COL_BANK, cell_text),
    SampleColumn(COL_ACCOUNT, lambda v: mask_bank_account(cell_digits(v, what="银行账号"))),
    SampleColumn(COL_SOURCE, _labelled(parse_source, dict(Source.choices))),
]


def _sample(record: RosterImport, content: bytes) -> dict:
    return sample_rows(content, record.file_name, SAMPLE, profile=profile_of(record), spec=FILE_COLUMNS)


def _blank_template() -> bytes:
    return blank_template(
        sheet="名册",
        headers=ROSTER_HEADERS,
        required=REQUIRED_COLUMNS,
        comments={
            COL_ID: "18 位身份证号。本列已设为文本格式，请勿改为数字，否则后几位会丢失。",
            COL_CATEGORY: "类别名称或代码：" + "、".join(f"{c.label}({c.value})" for c in Category),
            COL_FROM: "日期，如 2024-03-05",
            COL_SOURCE: "可空；可填：" + "、".join(Source.labels),
        },
        widths={
            COL_ID: 22,
            COL_NAME: 10,
            COL_CATEGORY: 18,
            COL_FROM: 12,
            COL_TO: 12,
            COL_BANK: 22,
            COL_ACCOUNT: 24,
            COL_SOURCE: 10,
        },
        text_columns=[COL_ID, COL_ACCOUNT],
        rules=[
            "退出日期为空表示仍然有效；退出日期不能早于认定日期。",
            "乡镇（街道）、村（社区）必须与系统中的名称一致。",
        ],
    )


ROSTER = register(
    ImportFormat(
        kind="roster",
        model=RosterImport,
        label="名册导入",
        audit_prefix="roster_import",
        audit_noun="名册",
        namespace="recipients",
        import_permission="recipients.import_roster",
        max_upload_setting="ROSTER_MAX_UPLOAD_BYTES",
        prepare=_prepare,
        check=_check,
        write=_write,
        announce=_announce,
        sample=_sample,
        file_columns=FILE_COLUMNS,
        upload_form=RosterUploadForm,
        blank_template=_blank_template,
        file_slug="roster",
        related=("township",),
        columns=(
            Column("rows_added", "新增"),
            Column("rows_changed", "变更"),
            Column("rows_ended", "终止"),
            Column("rows_unchanged", "无变化"),
        ),
        confirm_prompt=lambda record: "确认导入？导入后数据将写入救助对象库。",
        pages=Pages(
            history_title="名册导入记录",
            history_heading="名册导入记录",
            upload_title="导入名册",
            upload_heading="导入救助对象名册",
            template_link="下载空白名册模板（Excel）",
            nav_label="名册导入",
        ),
        fragments=Fragments(
            preview="recipients/_import_preview.html",
            result="recipients/_import_result.html",
            upload_help="recipients/_import_help.html",
            fields="recipients/_import_fields.html",
            table="recipients/_import_table.html",
        ),
    )
)
