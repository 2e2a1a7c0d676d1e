import datetime
import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import PersonSearchForm, RosterUploadForm
from .models import Person, RosterImport
from .selectors import person_search
from .services import (
    ImportRejected,
    person_reveal_pii,
    roster_import_cancel,
    roster_import_confirm,
    roster_import_create,
)


@permission_required("recipients.view_person", raise_exception=True)
def person_list(request):
    form = PersonSearchForm(request.GET or None, user=request.user)
    query, township_id = "", None
    if form.is_valid():
        query = form.cleaned_data["q"]
        township = form.cleaned_data.get("township")
        township_id = township.id if township else None
    people = person_search(user=request.user, query=query, township_id=township_id)
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "recipients/person_list.html",
        {"form": form, "page": page, "pagination_query": params.urlencode()},
    )


def _visible_person(request, pk) -> Person:
    return get_object_or_404(Person.objects.visible_to(request.user).select_related("township", "village"), pk=pk)


# The person page lists the newest settlements only; a long history is read in the settlement browser.
SETTLEMENTS_SHOWN = 100


@permission_required("recipients.view_person", raise_exception=True)
def person_detail(request, pk):
    person = _visible_person(request, pk)
    revealed = None
    if request.method == "POST":
        # Full personal data is shown only on an explicit request, and every such view is audited.
        if not request.user.has_perm("recipients.view_full_pii"):
            messages.error(request, "没有查看完整个人信息的权限")
            return redirect("recipients:person_detail", pk=person.pk)
        revealed = person_reveal_pii(person=person, user=request.user, request=request)
    identities = list(person.identities.order_by("valid_from", "category"))
    today = timezone.localdate()
    settlements, settlements_more = None, False
    if request.user.has_perm("settlements.view_settlement"):
        from settlements.selectors import person_settlements

        # One row past the cap tells whether there are more, without counting them all.
        settlements = list(person_settlements(id_number=person.id_number)[: SETTLEMENTS_SHOWN + 1])
        settlements_more = len(settlements) > SETTLEMENTS_SHOWN
        settlements = settlements[:SETTLEMENTS_SHOWN]
    return render(
        request,
        "recipients/person_detail.html",
        {
            "person": person,
            "revealed": revealed,
            "identities": identities,
            "timeline": _timeline(identities, today),
            "valid_today": [i for i in identities if i.is_valid_on(today)],
            "today": today,
            "age": person.age_on(today),
            "settlements": settlements,
            "settlements_more": settlements_more,
            "settlements_shown": SETTLEMENTS_SHOWN,
            "payments": _payments(request.user, person),
        },
    )


def _payments(user, person):
    """The person's payout lines, for roles that see cases (money paid is part of the case's history)."""
    if not user.has_perm("applications.view_case"):
        return None
    from payouts.models import PayoutLine

    return PayoutLine.objects.filter(case__person=person).select_related("batch", "case").order_by("-batch__created_at")


def _timeline(identities, today):
    """Bars for the identity timeline, positioned as percentages between the first date and today."""
    if not identities:
        return None
    start = min(i.valid_from for i in identities)
    end = max([today] + [i.valid_to for i in identities if i.valid_to])
    span = max((end - start).days, 1)
    bars = []
    for i in identities:
        stop = i.valid_to or end
        left = (i.valid_from - start).days * 100 / span
        width = max((stop - i.valid_from).days * 100 / span, 0.8)
        bars.append(
            {
                "identity": i,
                "left": round(left, 2),
                "width": round(min(width, 100 - left), 2),
                "open": i.valid_to is None,
            }
        )
    years = list(range(start.year + 1, end.year + 1))
    ticks = []
    for y in years:
        pos = (datetime.date(y, 1, 1) - start).days * 100 / span
        if 0 < pos < 100:
            ticks.append({"year": y, "left": round(pos, 2)})
    return {"start": start, "end": end, "bars": bars, "ticks": ticks}


@permission_required("recipients.view_rosterimport", raise_exception=True)
def import_list(request):
    imports = (
        RosterImport.objects.visible_to(request.user)
        .select_related("created_by", "township")
        .defer("content", "errors")
    )
    page = Paginator(imports, 30).get_page(request.GET.get("page"))
    return render(request, "recipients/import_list.html", {"page": page})


@permission_required("recipients.import_roster", raise_exception=True)
def import_upload(request):
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            roster_import = roster_import_create(
                user=request.user,
                file_name=upload.name,
                content=upload.read(),
                source=form.cleaned_data["source"],
                snapshot_date=form.cleaned_data["snapshot_date"],
            )
        except ImportRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("recipients:import_detail", pk=roster_import.pk)
    return render(request, "recipients/import_upload.html", {"form": form})


def _visible_import(request, pk) -> RosterImport:
    return get_object_or_404(
        RosterImport.objects.visible_to(request.user)
        .select_related("created_by", "applied_by", "township")
        .defer("content"),
        pk=pk,
    )


@permission_required("recipients.view_rosterimport", raise_exception=True)
def import_detail(request, pk):
    roster_import = _visible_import(request, pk)
    errors_page = Paginator(roster_import.errors or [], 100).get_page(request.GET.get("page"))
    context = {"imp": roster_import, "errors_page": errors_page}
    if request.htmx:
        return render(request, "recipients/_import_status.html", context)
    return render(request, "recipients/import_detail.html", context)


@require_POST
@permission_required("recipients.import_roster", raise_exception=True)
def import_confirm(request, pk):
    roster_import = _visible_import(request, pk)
    try:
        roster_import_confirm(roster_import=roster_import, user=request.user)
        messages.success(request, "已确认，正在导入")
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect("recipients:import_detail", pk=roster_import.pk)


@require_POST
@permission_required("recipients.import_roster", raise_exception=True)
def import_cancel(request, pk):
    roster_import = _visible_import(request, pk)
    try:
        roster_import_cancel(roster_import=roster_import, user=request.user)
        messages.info(request, "已取消本次导入，未写入任何数据")
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect("recipients:import_detail", pk=roster_import.pk)


@permission_required("recipients.view_rosterimport", raise_exception=True)
def import_errors_download(request, pk):
    """The full validation report as an Excel workbook."""
    from openpyxl import Workbook

    roster_import = _visible_import(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误明细")
    sheet.append(["行号", "列", "值", "原因"])
    for e in roster_import.errors or []:
        sheet.append([e.get("row"), e.get("column"), _as_text(e.get("value")), e.get("reason")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename=roster-import-{roster_import.pk}-errors.xlsx"
    return response


@permission_required("recipients.import_roster", raise_exception=True)
def import_template_download(request):
    """A blank roster workbook with the exact headers, text-formatted ID and account columns, and notes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    from .categories import Category, Source
    from .demo import ROSTER_HEADERS
    from .roster import REQUIRED_COLUMNS

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名册"
    sheet.append(ROSTER_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="C00000" if cell.value in REQUIRED_COLUMNS else "000000")
    sheet["A1"].comment = Comment("18 位身份证号。本列已设为文本格式，请勿改为数字，否则后几位会丢失。", "系统")
    sheet["C1"].comment = Comment("类别名称或代码：" + "、".join(f"{c.label}({c.value})" for c in Category), "系统")
    sheet["D1"].comment = Comment("日期，如 2024-03-05", "系统")
    sheet["K1"].comment = Comment("可空；可填：" + "、".join(Source.labels), "系统")
    widths = [22, 10, 18, 12, 12, 14, 14, 14, 22, 24, 10]
    for index, width in enumerate(widths):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = width
    # Text format for the whole ID and account columns: Excel keeps all 18 digits of what is typed.
    sheet.column_dimensions["A"].number_format = "@"
    sheet.column_dimensions["J"].number_format = "@"
    notes = workbook.create_sheet("填写说明")
    for line in [
        "第一行为表头，请勿修改表头文字；列的顺序可以调整，多余的列会被忽略。",
        "红色表头为必填列：" + "、".join(REQUIRED_COLUMNS) + "。",
        "退出日期为空表示仍然有效；退出日期不能早于认定日期。",
        "乡镇（街道）、村（社区）必须与系统中的名称一致。",
        "任何一行有错误，整份文件都不会导入；系统会列出每一处错误的行号、列名和原因。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = "attachment; filename=roster-template.xlsx"
    return response


def _as_text(value):
    """Cell text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
