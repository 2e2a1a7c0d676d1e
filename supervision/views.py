"""Pages of the recoveries (追回): thin views over supervision.recoveries and supervision.offsets."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from applications.cases.recovered import recoverable
from applications.models import Case
from lib.pages import paginate
from lib.searches import filter_by, post_search, search_data, valid_filters

from . import offsets, recoveries
from .forms import OffsetForm, ReasonForm, RecoveryFilterForm, RecoveryForm, RepaymentForm
from .models import Recovery, Repayment
from .selectors import ZERO

RecoveryRefused = recoveries.RecoveryRefused


def _visible(request, pk) -> Recovery:
    return get_object_or_404(
        Recovery.objects.visible_to(request.user).select_related("case", "person", "township", "created_by"), pk=pk
    )


@permission_required("supervision.view_recovery", raise_exception=True)
def recovery_list(request):
    if request.method == "POST":
        return post_search(request)  # a name typed in stays out of the URL
    data = search_data(request)
    form = RecoveryFilterForm(data or None, user=request.user)
    rows = Recovery.objects.visible_to(request.user).select_related("case", "person", "township")
    f = valid_filters(form)
    rows = filter_by(rows, f, "status", "reason", "township")
    if f.get("writeoff"):
        rows = rows.filter(writeoff_requested_by__isnull=False).exclude(status=Recovery.Status.WRITTEN_OFF)
    q = (f.get("q") or "").strip()
    if q:
        rows = rows.filter(Q(number=q.upper()) | Q(case__number=q.upper()) | Q(person__name__contains=q))
    totals = rows.aggregate(
        n=Count("pk"),
        amount=Coalesce(Sum("amount"), ZERO),
        recovered=Coalesce(Sum("recovered"), ZERO),
        written_off=Coalesce(Sum("written_off"), ZERO),
        pending=Coalesce(Sum("offset_pending"), ZERO),
    )
    totals["due"] = totals["amount"] - totals["recovered"] - totals["written_off"] - totals["pending"]
    page, query = paginate(request, rows.order_by("-created_at", "-pk"), 30)
    return render(
        request, "supervision/recovery_list.html", {"form": form, "page": page, "totals": totals, "query": query}
    )


@permission_required("supervision.manage_recovery", raise_exception=True)
def recovery_new(request, case_pk):
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("person", "township"), pk=case_pk)
    form = RecoveryForm(request.POST or None, request.FILES or None, initial={"amount": recoverable(case) or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recovery = recoveries.recovery_create(
                case=case,
                user=request.user,
                reason=data["reason"],
                amount=data["amount"],
                note=data["note"],
                offset_next=data["offset_next"],
            )
        except RecoveryRefused as exc:
            messages.error(request, str(exc))
        else:
            upload = data.get("evidence")
            if upload is not None:
                try:
                    recoveries.evidence_attach(
                        recovery=recovery, user=request.user, name=upload.name, content=upload.read()
                    )
                except RecoveryRefused as exc:
                    messages.error(request, f"证据未上传：{exc}")
            messages.success(request, f"已登记追回 {recovery.number}：应追回 {recovery.amount:,.2f} 元")
            return redirect("supervision:recovery_detail", pk=recovery.pk)
    return render(
        request, "supervision/recovery_new.html", {"case": case, "form": form, "recoverable": recoverable(case)}
    )


@permission_required("supervision.view_recovery", raise_exception=True)
def recovery_detail(request, pk):
    recovery = _visible(request, pk)
    candidates = (
        list(offsets.offset_candidates(recovery)) if request.user.has_perm("supervision.record_repayment") else []
    )
    return render(
        request,
        "supervision/recovery_detail.html",
        {
            "recovery": recovery,
            "repayments": recovery.repayments.select_related("line__batch", "recorded_by"),
            "evidence": recovery.evidence.select_related("uploaded_by"),
            "repay_form": RepaymentForm(),
            "offset_form": OffsetForm(lines=candidates, initial={"amount": recovery.due}) if candidates else None,
            "reason_form": ReasonForm(),
            "other_recoveries": Recovery.objects.visible_to(request.user)
            .filter(case=recovery.case)
            .exclude(pk=recovery.pk),
            "can_decide": request.user.has_perm("supervision.approve_writeoff")
            and request.user.pk not in (recovery.writeoff_requested_by_id, recovery.created_by_id),
        },
    )


def _offset(request, recovery):
    candidates = list(offsets.offset_candidates(recovery))
    form = OffsetForm(request.POST, lines=candidates)
    if not form.is_valid():
        raise RecoveryRefused("请选择要抵扣的发放并填写金额（只能选草稿批次中的明细）")
    offsets.offset_apply(
        recovery=recovery, line_id=form.cleaned_data["line"], amount=form.cleaned_data["amount"], user=request.user
    )
    return "已抵扣：该笔发放的实发金额已减去抵扣额，银行回盘确认发放后计入已追回"


def _repay(request, recovery):
    form = RepaymentForm(request.POST)
    if not form.is_valid():
        raise RecoveryRefused("；".join(f"{form.fields[k].label}：{'、'.join(v)}" for k, v in form.errors.items()))
    recoveries.repayment_record(recovery=recovery, user=request.user, **form.cleaned_data)
    return "已登记追回款退回基金账户"


def _cancel_offset(request, recovery):
    repayment = get_object_or_404(Repayment, pk=int(request.POST.get("repayment") or 0), recovery=recovery)
    offsets.offset_cancel(repayment=repayment, user=request.user, reason=request.POST.get("reason", ""))
    return "已撤销抵扣，该笔发放恢复原金额"


def _offset_next(request, recovery):
    on = request.POST.get("on") == "1"
    recoveries.recovery_set_offset_next(recovery=recovery, user=request.user, offset_next=on)
    return "已设置：下次发放时抵扣" if on else "已取消下次发放抵扣"


def _writeoff_request(request, recovery):
    recoveries.writeoff_request(recovery=recovery, user=request.user, reason=request.POST.get("reason", ""))
    return "已申请核销，待另一人审批"


def _writeoff(approve: bool):
    def decide(request, recovery):
        comment = request.POST.get("reason", "")
        recoveries.writeoff_decide(recovery=recovery, user=request.user, approve=approve, comment=comment)
        return "已核销" if approve else "已不同意核销，继续追回"

    return decide


ACTIONS = {
    "repay": (_repay, "supervision.record_repayment"),
    "offset": (_offset, "supervision.record_repayment"),
    "cancel_offset": (_cancel_offset, "supervision.record_repayment"),
    "offset_next": (_offset_next, "supervision.record_repayment"),
    "writeoff_request": (_writeoff_request, "supervision.request_writeoff"),
    "writeoff_approve": (_writeoff(True), "supervision.approve_writeoff"),
    "writeoff_reject": (_writeoff(False), "supervision.approve_writeoff"),
}


@require_POST
@permission_required("supervision.view_recovery", raise_exception=True)
def recovery_action(request, pk, action):
    if action not in ACTIONS:
        raise PermissionDenied
    handler, permission = ACTIONS[action]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    recovery = _visible(request, pk)
    try:
        messages.success(request, handler(request, recovery))
    except RecoveryRefused as exc:
        messages.error(request, str(exc))
    return redirect("supervision:recovery_detail", pk=recovery.pk)


@require_POST
@permission_required("supervision.manage_recovery", raise_exception=True)
def evidence_upload(request, pk):
    recovery = _visible(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件")
    else:
        try:
            recoveries.evidence_attach(recovery=recovery, user=request.user, name=upload.name, content=upload.read())
        except RecoveryRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"已上传 {upload.name}")
    return redirect("supervision:recovery_detail", pk=recovery.pk)


@permission_required("supervision.view_recovery", raise_exception=True)
def evidence_file(request, pk, evidence_pk):
    recovery = _visible(request, pk)
    evidence = get_object_or_404(recovery.evidence, pk=evidence_pk)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = f"inline; filename=evidence-{evidence.pk}{evidence.extension}"
    return response
