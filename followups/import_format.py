"""The filled 回访清单 (DATA-FORMATS §11) as a format of the import flow (imports/): checked in full against the
calls it names (followups.callfile), then written in one transaction — the calls recorded and the complaint tickets
they open — or not at all."""

from imports.forms import UploadForm
from imports.registry import Column, Fragments, ImportFormat, Pages, Report, register
from imports.samples import SampleColumn, sample_rows, shown_date, shown_money
from imports.workbooks import blank_template
from lib.locks import xact_lock
from lib.tabular import cell_text
from recipients.idnumber import mask_phone

from . import callsheet as S
from .callfile import REQUIRED, Checked, check_call_file
from .calls import CallRefused, calls_record_many
from .models import TICKET_ON, FollowupImport, FollowupPlan, Ticket

LOCK = "followups.call_import"


class CallListUploadForm(UploadForm):
    file_label = "已填写的回访清单"


def _prepare(user, options: dict) -> dict:
    # A township window's list may hold its own township's calls only (the flow gives the record the uploader's
    # county, which bounds a county's list).
    return {"township": user.township if user is not None and user.township_scoped else None}


def _read(record: FollowupImport, content: bytes, progress=None) -> Checked:
    return check_call_file(
        content, record.file_name, county_id=record.county_id, township_id=record.township_id, progress=progress
    )


def _counts(checked: Checked) -> tuple[int, int, int]:
    """(calls whose result changes, calls already so, tickets that would open)."""
    changed = [pk for pk, result in checked.results.items() if not result.same_as(checked.calls[pk])]
    with_ticket = set(Ticket.objects.filter(call_id__in=changed).values_list("call_id", flat=True))
    tickets = sum(1 for pk in changed if checked.results[pk].receipt in TICKET_ON and pk not in with_ticket)
    return len(changed), len(checked.results) - len(changed), tickets


def _report(checked: Checked, *, recorded: int, unchanged: int, tickets: int, numbers=()) -> Report:
    plan = FollowupPlan.objects.filter(pk=checked.plan_id).first() if checked.plan_id else None
    return Report(
        total_rows=checked.total_rows,
        values={
            "plan": plan,
            "rows_recorded": recorded,
            "rows_unchanged": unchanged,
            "rows_blank": checked.blank,
            "tickets_opened": tickets,
        },
        summary={"plan": plan.number if plan else "", **({"tickets": list(numbers)[:50]} if numbers else {})},
    )


def _check(record: FollowupImport, content: bytes, *, progress) -> Report:
    checked = _read(record, content, progress)
    if not checked.ok:
        return Report(total_rows=checked.total_rows, errors=checked.errors)
    recorded, unchanged, tickets = _counts(checked)
    return _report(checked, recorded=recorded, unchanged=unchanged, tickets=tickets)


def _write(record: FollowupImport, content: bytes) -> Report:
    xact_lock(LOCK)
    checked = _read(record, content)
    if not checked.ok:
        return Report(total_rows=checked.total_rows, errors=checked.errors)
    try:
        recorded, tickets = calls_record_many(results=checked.results, user=record.applied_by)
    except CallRefused as exc:  # the plan was cancelled after the file was checked
        return Report(
            total_rows=checked.total_rows, errors=[{"row": None, "column": "", "value": "", "reason": str(exc)}]
        )
    return _report(
        checked,
        recorded=recorded,
        unchanged=len(checked.results) - recorded,
        tickets=len(tickets),
        numbers=[t.number for t in tickets],
    )


SAMPLE = [
    SampleColumn(S.COL_NUMBER, cell_text),
    SampleColumn(S.COL_TOWNSHIP, cell_text),
    SampleColumn(S.COL_NAME, cell_text),
    SampleColumn(S.COL_PHONE, lambda v: mask_phone(cell_text(v))),
    SampleColumn(S.COL_AMOUNT, shown_money),
    SampleColumn(S.COL_PAID, shown_date),
    SampleColumn(S.COL_RECEIPT, cell_text),
    SampleColumn(S.COL_SATISFACTION, cell_text),
    SampleColumn(S.COL_AWARE, cell_text),
    SampleColumn(S.COL_NOTE, cell_text),
    SampleColumn(S.COL_ATTEMPTS, cell_text),
]


def _sample(record: FollowupImport, content: bytes) -> dict:
    return sample_rows(content, record.file_name, SAMPLE)


def _blank_template() -> bytes:
    return blank_template(
        sheet="回访清单",
        headers=S.HEADERS,
        required=REQUIRED,
        comments={
            S.COL_NUMBER: "系统导出的回访编号，请勿修改",
            S.COL_RECEIPT: "、".join(S.Receipt.labels),
            S.COL_SATISFACTION: "、".join(S.Satisfaction.labels) + "；联系不上时留空",
            S.COL_AWARE: "是 / 否；联系不上时留空",
        },
        widths={name: width for name, width in S.COLUMNS},
        text_columns=[S.COL_NUMBER, S.COL_PHONE],
        rules=[
            "请在“回访计划”中下载本乡镇的回访清单填写，不要自行编制：回访编号、姓名和发放金额须与系统导出的一致。",
            *S.RULES[1:5],
        ],
    )


def _confirm_prompt(record: FollowupImport) -> str:
    text = f"确认导入？将记录 {record.rows_recorded} 户的回访结果"
    if record.tickets_opened:
        text += f"，并自动生成 {record.tickets_opened} 张投诉工单（未到账或金额不符）"
    return text + "，不能撤销。"


FOLLOWUP = register(
    ImportFormat(
        kind="followup",
        model=FollowupImport,
        label="回访清单导入",
        audit_prefix="followup_import",
        audit_noun="回访清单",
        namespace="followups",
        import_permission="followups.record_followupcall",
        view_permission="followups.view_followupplan",
        max_upload_setting="ROSTER_MAX_UPLOAD_BYTES",
        prepare=_prepare,
        check=_check,
        write=_write,
        sample=_sample,
        upload_form=CallListUploadForm,
        blank_template=_blank_template,
        file_slug="followup",
        related=("plan", "township"),
        columns=(
            Column("rows_recorded", "记录回访"),
            Column("rows_unchanged", "无变化"),
            Column("rows_blank", "未填写", "尚未回访、留空的行"),
            Column("tickets_opened", "生成工单"),
        ),
        confirm_prompt=_confirm_prompt,
        pages=Pages(
            history_title="回访清单导入记录",
            history_heading="回访清单导入记录",
            upload_title="导入回访清单",
            upload_heading="导入已填写的回访清单",
            template_link="下载空白回访清单模板（Excel）",
            nav_label="回访清单导入",
        ),
        fragments=Fragments(
            preview="followups/_import_preview.html",
            result="followups/_import_result.html",
            upload_help="followups/_import_help.html",
            fields="followups/_import_fields.html",
        ),
    )
)
