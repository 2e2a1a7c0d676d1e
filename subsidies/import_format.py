"""The enrolment result (参保结果, DATA-FORMATS §9, back from the collecting department) as a format of the import
flow (imports/): checked and written by subsidies.enrolment over the staged file."""

from django.utils import timezone

from imports.registry import Column, Fragments, ImportFormat, Pages, Report, register
from imports.samples import SampleColumn, sample_rows, shown_date, shown_money
from imports.services import ImportRejected, dry_run
from imports.workbooks import blank_template
from lib.locks import xact_lock
from lib.tabular import cell_digits, cell_text
from recipients.idnumber import mask_id_number

from .enrolment import Outcome, enrolment_file
from .forms import EnrolmentUploadForm
from .models import EnrolmentImport
from .staging import COL_AMOUNT, COL_DATE, COL_ID, COL_STATUS, COL_YEAR, HEADERS, REQUIRED

# Two results of one year must not interleave (held by the write).
LOCK = "subsidies.enrolment"


def _prepare(user, options: dict) -> dict:
    year = options.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ImportRejected("请填写参保年度")
    return {"year": year}


def _report(outcome: Outcome) -> Report:
    return Report(
        total_rows=outcome.total_rows,
        errors=outcome.errors,
        values={
            "rows_added": outcome.added,
            "rows_changed": outcome.changed,
            "rows_unchanged": outcome.unchanged,
            "rows_enrolled": outcome.enrolled,
            "rows_not_enrolled": outcome.not_enrolled,
            "rows_unknown": outcome.unknown,
            "rows_not_listed": outcome.not_listed,
            "unmatched": outcome.unmatched,
        },
        summary={"year": None, "path": outcome.path, "seconds": outcome.seconds},
        data=outcome,
    )


def _run(record: EnrolmentImport, content: bytes, *, write: bool) -> Report:
    outcome = enrolment_file(
        content,
        record.file_name,
        year=record.year,
        county_id=record.county_id,
        import_id=record.pk,
        write=write,
        today=timezone.localdate(),
    )
    report = _report(outcome)
    report.summary["year"] = record.year
    return report


def _check(record: EnrolmentImport, content: bytes, *, progress) -> Report:
    with dry_run():  # temporary tables only; rolled back all the same
        return _run(record, content, write=False)


def _write(record: EnrolmentImport, content: bytes) -> Report:
    xact_lock(LOCK, record.year)
    return _run(record, content, write=True)


SAMPLE = [
    SampleColumn(COL_ID, lambda v: mask_id_number(cell_digits(v, what="身份证号").upper())),
    SampleColumn(COL_YEAR, cell_text),
    SampleColumn(COL_STATUS, cell_text),
    SampleColumn(COL_AMOUNT, shown_money),
    SampleColumn(COL_DATE, shown_date),
]


def _sample(record: EnrolmentImport, content: bytes) -> dict:
    return sample_rows(content, record.file_name, SAMPLE)


def _blank_template() -> bytes:
    return blank_template(
        sheet="参保结果",
        headers=HEADERS,
        required=REQUIRED,
        comments={
            COL_ID: "18 位身份证号。本列已设为文本格式，请勿改为数字，否则后几位会丢失。",
            COL_YEAR: "参保年度，如 2026；须与导入时选择的年度一致",
            COL_STATUS: "已参保 或 未参保",
            COL_AMOUNT: "个人实际缴费金额（元）；已参保的须与资助参保名单上的“个人应缴”一致，未参保的留空",
            COL_DATE: "缴费日期，如 2025-12-20；未参保的留空",
        },
        widths={COL_ID: 22, COL_YEAR: 10, COL_STATUS: 10, COL_AMOUNT: 12, COL_DATE: 12},
        text_columns=[COL_ID],
        rules=[
            "按身份证号和参保年度与当年资助参保名单匹配；同一身份证号在文件中只能出现一次。",
            "不在救助对象名册或不在当年资助参保名单中的身份证号会列出，但不导入。",
        ],
    )


def _confirm_prompt(record: EnrolmentImport) -> str:
    return (
        f"确认导入 {record.year} 年参保结果？已参保 {record.rows_enrolled:,} 人、未参保 {record.rows_not_enrolled:,} 人"
        f"将记入资助参保名单（新增 {record.rows_added:,}、变更 {record.rows_changed:,}）。"
    )


ENROLMENT = register(
    ImportFormat(
        kind="enrolment",
        model=EnrolmentImport,
        label="参保结果导入",
        audit_prefix="enrolment_import",
        audit_noun="参保结果",
        namespace="subsidies",
        import_permission="subsidies.import_enrolment",
        max_upload_setting="ROSTER_MAX_UPLOAD_BYTES",
        prepare=_prepare,
        check=_check,
        write=_write,
        sample=_sample,
        upload_form=EnrolmentUploadForm,
        blank_template=_blank_template,
        file_slug="enrolment",
        columns=(
            Column("rows_enrolled", "已参保"),
            Column("rows_not_enrolled", "未参保"),
            Column("rows_added", "新增"),
            Column("rows_changed", "变更"),
            Column("rows_unknown", "不在名册"),
            Column("rows_not_listed", "不在名单"),
        ),
        confirm_prompt=_confirm_prompt,
        pages=Pages(
            history_title="参保结果导入记录",
            history_heading="参保结果导入记录",
            upload_title="导入参保结果",
            upload_heading="导入参保结果（税务 / 医保征缴回传）",
            template_link="下载空白参保结果模板（Excel）",
            nav_label="参保结果导入",
        ),
        fragments=Fragments(
            preview="subsidies/_import_preview.html",
            result="subsidies/_import_result.html",
            upload_help="subsidies/_import_help.html",
            fields="subsidies/_import_fields.html",
            notes="subsidies/_import_notes.html",
        ),
    )
)
