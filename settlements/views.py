import io
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from recipients.models import Person

from .forms import SettlementFilterForm, SettlementUploadForm
from .models import SettlementImport
from .selectors import hospital_settlements, hospital_summary
from .services import (
    ImportRejected,
    settlement_import_cancel,
    settlement_import_confirm,
    settlement_import_create,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How many updated 结算单号 the import page lists; the record keeps up to 200.
UPDATED_SHOWN = 50


@permission_required("settlements.view_settlementimport", raise_exception=True)
def import_list(request):
    imports = (
        SettlementImport.objects.visible_to(request.user)
        .select_related("created_by")
        .defer("content", "errors", "updated_numbers")
    )
    page = Paginator(imports, 30).get_page(request.GET.get("page"))
    return render(request, "settlements/import_list.html", {"page": page})


@permission_required("settlements.import_settlements", raise_exception=True)
def import_upload(request):
    form = SettlementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = settlement_import_create(user=request.user, file_name=upload.name, content=upload.read())
        except ImportRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("settlements:import_detail", pk=record.pk)
    return render(request, "settlements/import_upload.html", {"form": form})


def _visible_import(request, pk) -> SettlementImport:
    return get_object_or_404(
        SettlementImport.objects.visible_to(request.user).select_related("created_by", "applied_by").defer("content"),
        pk=pk,
    )


@permission_required("settlements.view_settlementimport", raise_exception=True)
def import_detail(request, pk):
    record = _visible_import(request, pk)
    errors_page = Paginator(record.errors or [], 100).get_page(request.GET.get("page"))
    updated_shown = (record.updated_numbers or [])[:UPDATED_SHOWN]
    context = {
        "imp": record,
        "errors_page": errors_page,
        "updated_shown": updated_shown,
        "updated_more": max(record.rows_updated - len(updated_shown), 0),
    }
    if request.htmx:
        return render(request, "settlements/_import_status.html", context)
    return render(request, "settlements/import_detail.html", context)


@require_POST
@permission_required("settlements.import_settlements", raise_exception=True)
def import_confirm(request, pk):
    record = _visible_import(request, pk)
    try:
        settlement_import_confirm(record=record, user=request.user)
        messages.success(request, "已确认，正在导入")
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect("settlements:import_detail", pk=record.pk)


@require_POST
@permission_required("settlements.import_settlements", raise_exception=True)
def import_cancel(request, pk):
    record = _visible_import(request, pk)
    try:
        settlement_import_cancel(record=record, user=request.user)
        messages.info(request, "已取消本次导入，未写入任何数据")
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect("settlements:import_detail", pk=record.pk)


@permission_required("settlements.view_settlementimport", raise_exception=True)
def import_errors_download(request, pk):
    """The full validation report as an Excel workbook."""
    from openpyxl import Workbook

    record = _visible_import(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误明细")
    sheet.append(["行号", "列", "值", "原因"])
    for e in record.errors or []:
        sheet.append([e.get("row"), e.get("column"), _as_text(e.get("value")), e.get("reason")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=settlement-import-{record.pk}-errors.xlsx"
    return response


@permission_required("settlements.import_settlements", raise_exception=True)
def import_template_download(request):
    """A blank settlement workbook with the exact headers, text-formatted number and ID columns, and notes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from . import checks as C
    from .demo import HEADERS

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "结算数据"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="C00000" if cell.value in C.REQUIRED_COLUMNS else "000000")
    letter = {name: get_column_letter(i) for i, name in enumerate(HEADERS, start=1)}
    notes = {
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
    }
    for name, text in notes.items():
        sheet[f"{letter[name]}1"].comment = Comment(text, "系统")
    for name in HEADERS:
        sheet.column_dimensions[letter[name]].width = 22 if name in (C.COL_ID, C.COL_HOSPITAL, C.COL_NUMBER) else 14
    # Text format for the whole number and ID columns: Excel keeps every digit of what is typed.
    sheet.column_dimensions[letter[C.COL_NUMBER]].number_format = "@"
    sheet.column_dimensions[letter[C.COL_ID]].number_format = "@"
    help_sheet = workbook.create_sheet("填写说明")
    for line in [
        "第一行为表头，请勿修改表头文字；列的顺序可以调整，多余的列会被忽略。",
        "红色表头为必填列：" + "、".join(C.REQUIRED_COLUMNS) + "。",
        "住院记录填写入院日期和出院日期（出院日期为服务日期）；门诊记录填写就诊日期。",
        "政策范围内费用不能大于医疗总费用；基本医保、大病保险、其他保险和医疗救助支付之和不能大于医疗总费用。",
        "同一结算单号再次导入：内容相同不会产生变化；内容不同会更新，并在导入报告中列出。",
        "任何一行有错误，整份文件都不会导入；系统会列出每一处错误的行号、列名和原因。",
    ]:
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename=settlement-template.xlsx"
    return response


def _as_text(value):
    """Cell text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --- browser --------------------------------------------------------------------------------


@permission_required("settlements.view_settlement", raise_exception=True)
def hospital_list(request):
    form = SettlementFilterForm(request.GET)
    year = form.filters()["year"]
    hospitals = hospital_summary(user=request.user, year=year)
    totals = {
        "count": sum(h["count"] for h in hospitals),
        "total": sum((h["total"] for h in hospitals), start=Decimal(0)),
        "without_onestop": sum(h["without_onestop"] for h in hospitals),
    }
    return render(
        request,
        "settlements/hospital_list.html",
        {"form": form, "year": year, "hospitals": hospitals, "totals": totals},
    )


@permission_required("settlements.view_settlement", raise_exception=True)
def settlement_list(request):
    form = SettlementFilterForm(request.GET)
    filters = form.filters()
    if not filters["hospital"]:
        return redirect("settlements:hospital_list")
    settlements = hospital_settlements(user=request.user, hospital=filters["hospital"], year=filters["year"])
    page = Paginator(settlements, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _link_people(request.user, page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "settlements/settlement_list.html",
        {
            "form": form,
            "hospital": filters["hospital"],
            "year": filters["year"],
            "page": page,
            "can_open_people": request.user.has_perm("recipients.view_person"),
            "query": params.urlencode(),
        },
    )


def _link_people(user, settlements) -> None:
    """Set `person_pk` on each row whose person is in the registry and visible to the user; one query."""
    people = {}
    if user.has_perm("recipients.view_person"):
        numbers = {s.id_number for s in settlements}
        people = dict(Person.objects.visible_to(user).filter(id_number__in=numbers).values_list("id_number", "pk"))
    for s in settlements:
        s.person_pk = people.get(s.id_number)
