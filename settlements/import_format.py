"""The settlement extract (医保结算数据, DATA-FORMATS §2) as a format of the import flow (imports/): how a file
is checked and written, and what the settlement data announces once it is. Its columns (checks.FILE_COLUMNS) let
files of other layouts be read through column profiles: the national platform's own list (§8) is built in."""

from django.utils import timezone

from imports.profiles import profile_of
from imports.registry import Column, Fragments, ImportFormat, Link, Pages, Report, register
from imports.samples import SampleColumn, sample_rows, shown_date, shown_money
from imports.services import dry_run
from imports.workbooks import blank_template
from lib.locks import xact_lock
from lib.tabular import cell_digits, cell_text
from recipients.idnumber import mask_bank_account, mask_id_number

from . import checks as C
from .demo import HEADERS
from .forms import SettlementUploadForm
from .importer import Outcome, import_settlements_file
from .models import SettlementImport
from .signals import settlements_applied

# One settlement import writes at a time: two files holding the same 结算单号 must not interleave.
LOCK = "settlements.import"
# How many updated 结算单号 the import page lists; the record keeps up to 200.
UPDATED_SHOWN = 50


def _report(outcome: Outcome) -> Report:
    return Report(
        total_rows=outcome.total_rows,
        errors=outcome.errors,
        values={
            "rows_added": outcome.added,
            "rows_updated": outcome.updated,
            "rows_unchanged": outcome.unchanged,
            "rows_unregistered": outcome.unregistered,
            "updated_numbers": outcome.updated_numbers,
        },
        data=outcome,
    )


def _check(record: SettlementImport, content: bytes, *, progress) -> Report:
    # The preview stages the file and counts in SQL: inside a transaction that is rolled back.
    with dry_run():
        outcome = import_settlements_file(
            content,
            record.file_name,
            import_id=None,
            today=timezone.localdate(),
            write=False,
            profile=profile_of(record),
        )
    return _report(outcome)


def _write(record: SettlementImport, content: bytes) -> Report:
    xact_lock(LOCK)
    outcome = import_settlements_file(
        content,
        record.file_name,
        import_id=record.pk,
        today=timezone.localdate(),
        write=True,
        profile=profile_of(record),
    )
    return _report(outcome)


def _announce(record: SettlementImport, report: Report) -> None:
    outcome = report.data
    settlements_applied.send(
        sender=SettlementImport,
        record=record,
        changed=bool(outcome.added or outcome.updated),
        person_ids=outcome.person_ids,
        user=record.applied_by,
    )


def _detail_context(record: SettlementImport) -> dict:
    shown = (record.updated_numbers or [])[:UPDATED_SHOWN]
    return {"updated_shown": shown, "updated_more": max(record.rows_updated - len(shown), 0)}


def _confirm_prompt(record: SettlementImport) -> str:
    return f"确认导入？导入后 {record.rows_added} 条新增、{record.rows_updated} 条更新将写入结算数据，不能撤销。"


# The diagnosis is left out: the import pages are seen by more roles than may read diagnoses.
SAMPLE = [
    SampleColumn(C.COL_NUMBER, cell_text),
    SampleColumn(C.COL_ID, lambda v: mask_id_number(cell_digits(v, what="身份证号"))),
    SampleColumn(C.COL_NAME, cell_text),
    SampleColumn(C.COL_HOSPITAL, cell_text),
    SampleColumn(C.COL_VISIT_TYPE, cell_text),
    SampleColumn(C.COL_ADMITTED, shown_date),
    SampleColumn(C.COL_DISCHARGED, shown_date),
    SampleColumn(C.COL_VISIT, shown_date),
    SampleColumn(C.COL_SETTLED, shown_date),
    SampleColumn(C.COL_TOTAL, shown_money),
    SampleColumn(C.COL_IN_POLICY, shown_money),
    SampleColumn(C.COL_BASIC, shown_money),
    SampleColumn(C.COL_CRITICAL, shown_money),
    SampleColumn(C.COL_OTHER, shown_money),
    SampleColumn(C.COL_ONESTOP, shown_money),
    SampleColumn(C.COL_REMOTE, cell_text),
    SampleColumn(C.COL_MAJOR, cell_text),
    # The platform's own columns, when a profile reads them (人员编号 identifies the insured person: masked).
    SampleColumn(C.COL_VISIT_ID, cell_text),
    SampleColumn(C.COL_PERSON_NO, lambda v: mask_bank_account(cell_digits(v, what="人员编号"))),
    SampleColumn(C.COL_OWN_EXPENSE, shown_money),
    SampleColumn(C.COL_BURDEN, shown_money),
]


def _sample(record: SettlementImport, content: bytes) -> dict:
    return sample_rows(content, record.file_name, SAMPLE, profile=profile_of(record), spec=C.FILE_COLUMNS)


def _blank_template() -> bytes:
    return blank_template(
        sheet="结算数据",
        headers=HEADERS,
        required=C.REQUIRED_COLUMNS,
        comments={
            C.COL_NUMBER: "结算单号，文件内不得重复。本列已设为文本格式。",
            C.COL_ID: "18 位身份证号。本列已设为文本格式，请勿改为数字，否则后几位会丢失。",
            C.COL_VISIT_TYPE: "门诊、门诊慢特病 或 住院",
            C.COL_ADMITTED: "住院必填，如 2025-03-05",
            C.COL_DISCHARGED: "住院必填，如 2025-03-12",
            C.COL_VISIT: "门诊、门诊慢特病必填，如 2025-03-05",
            C.COL_SETTLED: "日期，不得早于入院日期或就诊日期",
            C.COL_TOTAL: "金额（元），最多两位小数",
            C.COL_CRITICAL: "可空，按 0 计",
            C.COL_OTHER: "可空，按 0 计",
            C.COL_ONESTOP: "一站式结算时已支付的医疗救助金额；可空，按 0 计",
            C.COL_REMOTE: "是 / 否，可空",
            C.COL_MAJOR: "是 / 否，可空",
        },
        widths={C.COL_ID: 22, C.COL_HOSPITAL: 22, C.COL_NUMBER: 22},
        text_columns=[C.COL_NUMBER, C.COL_ID],
        rules=[
            "住院记录填写入院日期和出院日期（出院日期为服务日期）；门诊记录填写就诊日期。",
            "政策范围内费用不能大于医疗总费用；基本医保、大病保险、其他保险和医疗救助支付之和不能大于医疗总费用。",
            "同一结算单号再次导入：内容相同不会产生变化；内容不同会更新，并在导入报告中列出。",
        ],
    )


SETTLEMENT = register(
    ImportFormat(
        kind="settlement",
        model=SettlementImport,
        label="结算数据导入",
        audit_prefix="settlement_import",
        audit_noun="结算数据",
        namespace="settlements",
        import_permission="settlements.import_settlements",
        max_upload_setting="SETTLEMENT_MAX_UPLOAD_BYTES",
        check=_check,
        write=_write,
        announce=_announce,
        sample=_sample,
        file_columns=C.FILE_COLUMNS,
        upload_form=SettlementUploadForm,
        blank_template=_blank_template,
        file_slug="settlement",
        columns=(
            Column("rows_added", "新增"),
            Column("rows_updated", "更新"),
            Column("rows_unchanged", "无变化"),
            Column("rows_unregistered", "不在名册", "身份证号不在救助对象名册中的结算"),
        ),
        confirm_prompt=_confirm_prompt,
        detail_context=_detail_context,
        pages=Pages(
            history_title="结算数据导入记录",
            history_heading="医保结算数据导入记录",
            upload_title="导入结算数据",
            upload_heading="导入医保结算数据",
            template_link="下载空白结算数据模板（Excel）",
            nav_label="结算数据",
            links=(Link("settlements.view_settlement", "settlements:hospital_list", "按医疗机构浏览结算数据"),),
        ),
        fragments=Fragments(
            preview="settlements/_import_preview.html",
            result="settlements/_import_result.html",
            upload_help="settlements/_import_help.html",
            notes="settlements/_import_notes.html",
        ),
    )
)
