"""Pages of the 零星报销 workflow: thin views over case_services."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from recipients.models import Person
from recipients.selectors import identities_valid_on

from ..models import Case
from ..policy.selectors import time_limit_on
from . import attachments, services
from .calculation import review_preview
from .checks import case_duplicates
from .forms import BillForm, CaseEditForm, DecisionForm, NewApplicantForm
from .levels import level_note
from .materials import OTHER, case_checklist
from .materials_views import checklist_context
from .workflow import ACTION_LABELS, ACTION_PERMISSIONS, TransitionRefused


def _visible_case(request, pk) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user).select_related("person", "township"), pk=pk)


@permission_required("applications.view_case", raise_exception=True)
def case_detail(request, pk):
    case = _visible_case(request, pk)
    bills = list(case.bills.order_by("discharged_on", "visit_on", "pk"))
    for bill in bills:
        day = bill.service_date
        bill.identities = list(identities_valid_on(person=case.person_id, day=day)) if day else []
        bill.insurance = bill.basic + bill.critical + bill.other
    at_window = case.status in (Case.Status.DRAFT, Case.Status.RETURNED)
    problems = (
        case_duplicates(case, with_drafts=at_window)
        if at_window or case.status in (Case.Status.REVIEW, Case.Status.APPROVAL)
        else []
    )
    linked = {p.other_case.pk for p in problems if p.other_case is not None}
    visible = set(Case.objects.visible_to(request.user).filter(pk__in=linked).values_list("pk", flat=True))
    preview = preview_reason = review = None
    level = ""
    if case.status == Case.Status.APPROVAL and request.user.has_perm("applications.approve_case"):
        preview, preview_reason = services.approval_preview(case)
        level = level_note(case, preview)
    if case.status == Case.Status.REVIEW and request.user.has_perm("applications.review_case"):
        review, preview_reason = review_preview(case)
    totals = {
        name: sum((getattr(b, name) for b in bills), Decimal("0")) for name in ("total", "in_policy", "insurance")
    }
    return render(
        request,
        "applications/case_detail.html",
        {
            "case": case,
            "bills": bills,
            "totals": totals,
            "problems": problems,
            "problems_blocking": not at_window,
            "visible_cases": visible,
            "review": review,
            "transitions": case.transitions.select_related("actor"),
            "bill_form": BillForm() if case.status in (Case.Status.DRAFT, Case.Status.RETURNED) else None,
            "decision_form": DecisionForm(),
            "today": timezone.localdate(),
            "payments": case.payout_lines.select_related("batch").order_by("batch__created_at", "pk"),
            "preview": preview,
            "preview_reason": preview_reason,
            "level": level,
            **checklist_context(case),
        },
    )


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def case_new(request, person_pk):
    person = get_object_or_404(Person.objects.visible_to(request.user), pk=person_pk)
    try:
        case = services.case_create(
            person=person, user=request.user, another_draft=request.POST.get("another_draft") == "1"
        )
    except services.OpenDraftExists as exc:
        return render(request, "applications/case_new_confirm.html", {"person": person, "drafts": exc.drafts})
    except TransitionRefused as exc:
        messages.error(request, str(exc))
        return redirect("recipients:person_detail", pk=person.pk)
    messages.success(request, f"已新建案件 {case.number}，请录入就诊记录")
    return redirect("applications:case_detail", pk=case.pk)


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def case_add_bill(request, pk):
    case = _visible_case(request, pk)
    form = BillForm(request.POST)
    if form.is_valid():
        try:
            services.case_add_bill(case=case, user=request.user, **form.cleaned_data)
            messages.success(request, "已录入就诊记录")
        except TransitionRefused as exc:
            messages.error(request, str(exc))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
    return redirect("applications:case_detail", pk=case.pk)


ACTIONS = {
    "submit": lambda case, user, form: services.case_submit(case=case, user=user, comment=form["comment"]),
    "review": lambda case, user, form: services.case_review(
        case=case, user=user, comment=form["comment"], expected_amount=form["expected_amount"]
    ),
    "return": lambda case, user, form: services.case_return(case=case, user=user, reason=form["comment"]),
    "approve": lambda case, user, form: services.case_approve(
        case=case, user=user, comment=form["comment"], accept_zero=form["accept_zero"]
    ),
    "reject": lambda case, user, form: services.case_reject(case=case, user=user, reason=form["comment"]),
    "withdraw": lambda case, user, form: services.case_withdraw(case=case, user=user, reason=form["comment"]),
}


@require_POST
@permission_required("applications.view_case", raise_exception=True)
def case_action(request, pk, action):
    case = _visible_case(request, pk)
    if action not in ACTIONS:
        messages.error(request, "未知的操作")
        return redirect("applications:case_detail", pk=case.pk)
    permission = ACTION_PERMISSIONS.get(action)
    if permission and not request.user.has_perm(permission):
        raise PermissionDenied(f"没有“{ACTION_LABELS[action]}”的权限")
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        data = {
            "comment": form.cleaned_data.get("comment", ""),
            "accept_zero": form.cleaned_data.get("accept_zero"),
            "expected_amount": form.cleaned_data.get("expected_amount"),
        }
        case = ACTIONS[action](case, request.user, data)
        if action == "approve" and case.status == Case.Status.APPROVAL:
            messages.warning(request, "已作一级审批：金额达到二级审批标准，须另一名审批人二级审批后才能发放")
        else:
            messages.success(request, f"已{ACTION_LABELS[action]}，案件状态：{case.get_status_display()}")
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:case_detail", pk=case.pk)


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def case_upload(request, pk):
    case = _visible_case(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件")
    elif upload.size > attachments.MAX_ATTACHMENT_BYTES:
        messages.error(request, f"文件过大：上限 {attachments.MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
    else:
        try:
            attachments.case_attach(
                case=case,
                user=request.user,
                name=upload.name,
                content=upload.read(),
                material=request.POST.get("material", ""),
            )
            messages.success(request, f"已上传 {upload.name}")
        except TransitionRefused as exc:
            messages.error(request, str(exc))
    return redirect("applications:case_detail", pk=case.pk)


@permission_required("applications.view_case", raise_exception=True)
def case_attachment(request, pk, attachment_pk):
    """Serve a scan only to users who may see its case."""
    case = _visible_case(request, pk)
    attachment = get_object_or_404(case.attachments, pk=attachment_pk)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f"inline; filename=attachment-{attachment.pk}{attachment.extension}"
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required("applications.view_case", raise_exception=True)
def case_print(request, pk):
    """审批表: the case, its bills, the calculation explained, and the signature block."""
    case = _visible_case(request, pk)
    bills = list(case.bills.order_by("discharged_on", "visit_on", "pk"))
    return render(
        request,
        "applications/case_print.html",
        {
            "case": case,
            "bills": bills,
            "transitions": case.transitions.select_related("actor"),
            "today": timezone.localdate(),
        },
    )


@permission_required("applications.view_case", raise_exception=True)
def case_receipt(request, pk):
    """受理回执: what the applicant takes home — the case number, what was received and the promised date."""
    case = _visible_case(request, pk)
    if case.accepted_on is None:
        messages.error(request, "案件尚未受理，没有受理回执")
        return redirect("applications:case_detail", pk=case.pk)
    items = case_checklist(case)
    return render(
        request,
        "applications/case_receipt.html",
        {
            "case": case,
            "received": [m for m in items if m.supplied and m.name != OTHER],
            "missing": [m.name for m in items if not m.supplied],
            "bills": case.bills.count(),
            "time_limit": time_limit_on(county_id=case.township.county_id, day=case.accepted_on),
            "today": timezone.localdate(),
        },
    )


@permission_required("applications.receive_case", raise_exception=True)
def case_edit(request, pk):
    """Agent, payee and 承诺制; a save over someone else's newer save is refused, not lost."""
    case = _visible_case(request, pk)
    form = CaseEditForm(request.POST or None, instance=case, initial={"revision": case.revision})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(case=case, user=request.user, revision=form.cleaned_data["revision"], **form.changes())
            messages.success(request, "已保存")
            return redirect("applications:case_detail", pk=case.pk)
        except TransitionRefused as exc:
            form.add_error(None, str(exc))
    return render(request, "applications/case_edit.html", {"case": case, "form": form})


@permission_required("applications.receive_case", raise_exception=True)
def case_new_applicant(request):
    """An applicant not yet in the registry: register them here; the county verifies the identity."""
    form = NewApplicantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create_for_new_person(user=request.user, **form.applicant())
        except TransitionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已登记新申请人并新建案件 {case.number}（身份待核实），请录入就诊记录")
            return redirect("applications:case_detail", pk=case.pk)
    return render(request, "applications/case_new_applicant.html", {"form": form})
