"""Pages of the payout batches: thin views over payouts.services."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from applications.models import Case
from applications.policy.engine import yuan
from audit.services import audit_record
from lib.pages import paginate
from lib.searches import post_search, search_data
from lib.spreadsheet import xlsx_response

from . import services
from .batch_panels import batch_panels
from .forms import BatchFilterForm, NoticeForm, PayeeForm, ReturnUploadForm
from .models import PayoutBatch, PayoutLine
from .notice import public_notice


def _filters(form) -> dict:
    data = form.cleaned_data
    return {
        "township": data.get("township"),
        "source": data.get("source") or "",
        "benefit": data.get("benefit") or "",
        "approved_from": data.get("approved_from"),
        "approved_to": data.get("approved_to"),
    }


def _payable(user, **filters):
    """The pool of the user's county (a prefecture role sees every county's)."""
    # One set of conditions on the cases (not the pool among the ids of every visible case).
    return services.payable_cases(county_id=user.scope_county_id, **filters) & Case.objects.visible_to(user)


@permission_required("payouts.view_payoutbatch", raise_exception=True)
def batch_list(request):
    batches = PayoutBatch.objects.visible_to(request.user).select_related("created_by", "reviewed_by", "county")
    page, _ = paginate(request, batches, 30)
    pool = _payable(request.user).aggregate(n=Count("pk"), total=Sum("approved_amount"))
    correction = services.awaiting_correction() & Case.objects.visible_to(request.user)
    return render(
        request,
        "payouts/batch_list.html",
        {
            "page": page,
            "pool": pool,
            "correction": correction.count(),
            "correction_cases": correction.select_related("person")[:20],
        },
    )


@permission_required("payouts.manage_payoutbatch", raise_exception=True)
def batch_new(request):
    form = BatchFilterForm(request.POST or request.GET or None, user=request.user)
    preview = None
    if form.is_bound and form.is_valid():
        preview = _payable(request.user, **_filters(form)).aggregate(n=Count("pk"), total=Sum("approved_amount"))
        if request.method == "POST":
            try:
                batch = services.batch_create(
                    user=request.user, purpose=form.cleaned_data.get("purpose") or "医疗救助金", **_filters(form)
                )
            except services.PayoutRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, f"已生成批次 {batch.number}：{batch.line_count:,} 笔，合计 {yuan(batch.total)}"
                )
                return redirect("payouts:batch_detail", pk=batch.pk)
    return render(request, "payouts/batch_new.html", {"form": form, "preview": preview})


@permission_required("payouts.view_payoutbatch", raise_exception=True)
def batch_detail(request, pk, return_errors=None):
    batch = get_object_or_404(
        PayoutBatch.objects.visible_to(request.user).select_related("created_by", "locked_by", "reviewed_by"), pk=pk
    )
    if request.method == "POST" and request.POST.get("search") == "1":
        return post_search(request)  # a name or ID number typed in stays out of the URL
    lines = batch.lines.select_related("township", "case").order_by("reference")
    filters = search_data(request) if request.method == "GET" else request.GET
    q = filters.get("q", "").strip()[:50]
    if q:
        lines = lines.filter(
            Q(reference=q.upper()) | Q(payee_name__contains=q) | Q(id_number=q.upper()) | Q(case__number=q.upper())
        )
    status = filters.get("status", "")
    if status in PayoutLine.Status.values:
        lines = lines.filter(status=status)
    page, query = paginate(request, lines, 50)
    return render(
        request,
        "payouts/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "summary": services.batch_summary(batch),
            "returns": batch.returns.select_related("imported_by"),
            "return_form": ReturnUploadForm(),
            "return_errors": return_errors,
            "q": q,
            "status": status,
            "pagination_query": query,
            "panels": batch_panels(request=request, batch=batch),
            "can_review": request.user.has_perm("payouts.review_payoutbatch")
            and request.user.pk not in (batch.created_by_id, batch.locked_by_id),
        },
    )


ACTIONS = {
    "lock": lambda batch, user, post: services.batch_lock(batch=batch, user=user),
    "review": lambda batch, user, post: services.batch_review(batch=batch, user=user),
    "cancel": lambda batch, user, post: services.batch_cancel(batch=batch, user=user, reason=post.get("reason", "")),
    "close": lambda batch, user, post: services.batch_close(batch=batch, user=user),
    "remove": lambda batch, user, post: services.batch_remove_line(
        batch=batch, line_id=int(post.get("line") or 0), user=user, reason=post.get("reason", "")
    ),
}
DONE = {
    "lock": "批次已锁定，请另一名财务人员复核",
    "review": "复核通过，可以导出代发文件",
    "cancel": "批次已作废，案件回到待发放",
    "close": "批次已完成",
    "remove": "已移出该笔，案件回到待发放",
}


@require_POST
def batch_action(request, pk, action):
    if action not in ACTIONS:
        raise PermissionDenied
    if not request.user.has_perm("payouts.view_payoutbatch"):
        raise PermissionDenied
    batch = get_object_or_404(PayoutBatch.objects.visible_to(request.user), pk=pk)
    try:
        done = ACTIONS[action](batch, request.user, request.POST)
    except (services.PayoutRefused, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, DONE[action])
        for warning in getattr(done, "lock_warnings", []):
            messages.warning(request, warning)
    return redirect("payouts:batch_detail", pk=batch.pk)


@require_POST
@permission_required("payouts.manage_payoutbatch", raise_exception=True)
def batch_export_view(request, pk):
    batch = get_object_or_404(PayoutBatch.objects.visible_to(request.user), pk=pk)
    try:
        content = services.batch_export(batch=batch, user=request.user)
    except services.PayoutRefused as exc:
        messages.error(request, str(exc))
        return redirect("payouts:batch_detail", pk=batch.pk)
    return xlsx_response(content, f"daifa-{batch.number}.xlsx")


@permission_required("payouts.view_payoutbatch", raise_exception=True)
def public_notice_view(request, pk):
    batch = get_object_or_404(PayoutBatch.objects.visible_to(request.user), pk=pk)
    if batch.status == PayoutBatch.Status.CANCELLED:
        messages.error(request, "已作废的批次没有公示名单")
        return redirect("payouts:batch_detail", pk=batch.pk)
    form = NoticeForm(request.GET)
    if not form.is_valid():
        messages.error(request, "公示日期格式不正确")
        return redirect("payouts:batch_detail", pk=batch.pk)
    day, by_township = form.cleaned_data["date"] or timezone.localdate(), form.cleaned_data["by_township"]
    audit_record(
        actor=request.user,
        action="payout.notice",
        obj=batch,
        after={"date": day.isoformat(), "by_township": by_township},
        request=request,
    )
    return xlsx_response(
        public_notice(batch, notice_date=day, by_township=by_township), f"gongshi-{batch.number}-{day:%Y%m%d}.xlsx"
    )


@require_POST
@permission_required("payouts.manage_payoutbatch", raise_exception=True)
def return_upload(request, pk):
    batch = get_object_or_404(PayoutBatch.objects.visible_to(request.user), pk=pk)
    form = ReturnUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择银行回盘文件")
        return redirect("payouts:batch_detail", pk=batch.pk)
    upload = form.cleaned_data["file"]
    try:
        outcome = services.bank_return_import(
            batch=batch, user=request.user, file_name=upload.name, content=upload.read()
        )
    except services.ReturnRejected as exc:
        messages.error(request, str(exc))
        return batch_detail(request, pk, return_errors=exc.errors)
    except services.PayoutRefused as exc:
        messages.error(request, str(exc))
        return redirect("payouts:batch_detail", pk=batch.pk)
    record = outcome.record
    if outcome.repeated:
        messages.info(request, f"该回盘文件已于 {record.imported_at:%Y-%m-%d %H:%M} 导入过，未做任何更改")
    else:
        messages.success(
            request, f"回盘已导入：成功 {record.paid} 笔，失败 {record.failed} 笔，此前已处理 {record.unchanged} 笔"
        )
    return redirect("payouts:batch_detail", pk=batch.pk)


@permission_required("payouts.view_payoutline", raise_exception=True)
def line_search(request):
    if request.method == "POST":
        return post_search(request)  # a name or ID number typed in stays out of the URL
    q = search_data(request).get("q", "").strip()[:50]
    lines = PayoutLine.objects.none()
    if q:
        lines = (
            PayoutLine.objects.visible_to(request.user)
            .filter(
                Q(reference=q.upper()) | Q(payee_name__contains=q) | Q(id_number=q.upper()) | Q(case__number=q.upper())
            )
            .select_related("batch", "case", "township")
            .order_by("-batch__created_at", "reference")
        )
    page, query = paginate(request, lines, 50)
    return render(request, "payouts/line_search.html", {"page": page, "q": q, "pagination_query": query})


@permission_required("payouts.manage_payoutbatch", raise_exception=True)
def payee_correct_view(request, case_pk):
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("person"), pk=case_pk)
    # The account is typed anew (the current one is shown masked): the form never echoes it in full.
    form = PayeeForm(request.POST or None, initial={"payee_name": case.payee_name, "payee_bank": case.payee_bank})
    form.set_current_account(case.payee_account)
    failed = case.payout_lines.filter(status=PayoutLine.Status.FAILED).select_related("batch").order_by("-resolved_at")
    if request.method == "POST" and form.is_valid():
        try:
            services.payee_correct(case=case, user=request.user, **form.payee())
        except services.PayoutRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "收款账户已更正，案件回到待发放，可放入下一个批次")
            return redirect("applications:case_detail", pk=case.pk)
    return render(request, "payouts/payee_correct.html", {"case": case, "form": form, "failed": failed})
