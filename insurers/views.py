"""Pages of the insurer mode: statements (list, request, detail, review, payments, download), the insurer terms of
the policy versions, and who pays a batch. Views parse, call one service and render."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from applications.models import PolicyVersion
from audit.services import audit_record
from lib.pages import paginate
from lib.spreadsheet import xlsx_response
from payouts.models import PayoutBatch
from payouts.services import PayoutRefused, batch_set_payer
from recipients.models import County
from reports.labels import category_label, category_rank

from . import services
from .calc import direction_label
from .excel import statement_workbook
from .forms import PaymentForm, StatementRequestForm, TermsForm
from .models import InsurerStatement, InsurerTerms
from .selectors import reserve_position, terms_in_force


def _county(user):
    return County.objects.filter(pk=user.scope_county_id).first() if user.scope_county_id else None


@permission_required("insurers.view_insurerstatement", raise_exception=True)
def statement_list(request):
    user = request.user
    if request.method == "POST":
        if not user.has_perm("insurers.manage_insurerstatement"):
            raise PermissionDenied
        form = StatementRequestForm(request.POST)
        county = _county(user)
        if county is None:
            messages.error(request, "账户尚未指定所属县（区），请联系系统管理")
        elif form.is_valid():
            try:
                statement = services.statement_request(user=user, county=county, **form.request())
            except services.InsurerRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已申请生成结算单 {statement.number}，生成后请由另一名财务人员复核")
                return redirect("insurers:statement_detail", pk=statement.pk)
    else:
        form = StatementRequestForm()
    statements = InsurerStatement.objects.visible_to(user).select_related("county", "created_by", "reviewed_by")
    page, query = paginate(request, statements, 30)
    county = _county(user)
    year = timezone.localdate().year
    position = reserve_position(county_id=county.pk, year=year) if county else None
    return render(
        request,
        "insurers/statement_list.html",
        {
            "page": page,
            "pagination_query": query,
            "form": form,
            "county": county,
            "terms": terms_in_force(county_id=county.pk, day=timezone.localdate()) if county else None,
            "positions": [{"county": county, **position}] if position else [],
            "can_open": True,
            "year": year,
        },
    )


@permission_required("insurers.view_insurerstatement", raise_exception=True)
def statement_detail(request, pk):
    statement = get_object_or_404(
        InsurerStatement.objects.visible_to(request.user).select_related(
            "county", "created_by", "reviewed_by", "previous"
        ),
        pk=pk,
    )
    user = request.user
    left = services.outstanding(statement)
    return render(
        request,
        "insurers/statement_detail.html",
        {
            "s": statement,
            "rows": [
                {**row, "label": category_label(row["category"])}
                for row in sorted(
                    statement.figures.get("rows", []),
                    key=lambda r: (r["kind"] != "inpatient", category_rank(r["category"]), r["channel"]),
                )
            ],
            "payments": statement.payments.select_related("recorded_by"),
            "outstanding": left,
            "outstanding_abs": abs(left),
            "direction": direction_label(statement.amount_due),
            "payment_form": PaymentForm(initial={"amount": abs(left)}),
            "can_review": user.has_perm("insurers.review_insurerstatement") and user.pk != statement.created_by_id,
            "can_manage": user.has_perm("insurers.manage_insurerstatement"),
        },
    )


ACTIONS = {
    "review": lambda s, user, post: services.statement_review(statement=s, user=user),
    "reject": lambda s, user, post: services.statement_reject(statement=s, user=user, reason=post.get("reason", "")),
}
DONE = {"review": "复核通过，可以登记拨付", "reject": "结算单已退回，可重新生成"}


@require_POST
@permission_required("insurers.review_insurerstatement", raise_exception=True)
def statement_action(request, pk, action):
    if action not in ACTIONS:
        raise PermissionDenied
    statement = get_object_or_404(InsurerStatement.objects.visible_to(request.user), pk=pk)
    try:
        ACTIONS[action](statement, request.user, request.POST)
    except services.InsurerRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, DONE[action])
    return redirect("insurers:statement_detail", pk=statement.pk)


@require_POST
@permission_required("insurers.manage_insurerstatement", raise_exception=True)
def statement_rebuild(request, pk):
    statement = get_object_or_404(InsurerStatement.objects.visible_to(request.user), pk=pk)
    try:
        new = services.statement_request(
            user=request.user, county=statement.county, kind=statement.kind, year=statement.year, half=statement.half
        )
    except services.InsurerRefused as exc:
        messages.error(request, str(exc))
        return redirect("insurers:statement_detail", pk=statement.pk)
    messages.success(request, f"已申请重新生成，新版本 {new.number}")
    return redirect("insurers:statement_detail", pk=new.pk)


@require_POST
@permission_required("insurers.manage_insurerstatement", raise_exception=True)
def payment_new(request, pk):
    statement = get_object_or_404(InsurerStatement.objects.visible_to(request.user), pk=pk)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("insurers:statement_detail", pk=statement.pk)
    try:
        services.payment_record(statement=statement, user=request.user, **form.cleaned_data)
    except services.InsurerRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "拨付已登记，并记入救助资金台账")
    return redirect("insurers:statement_detail", pk=statement.pk)


@permission_required("insurers.view_insurerstatement", raise_exception=True)
def statement_download(request, pk):
    statement = get_object_or_404(InsurerStatement.objects.visible_to(request.user).select_related("county"), pk=pk)
    if statement.status in (
        InsurerStatement.Status.QUEUED,
        InsurerStatement.Status.RUNNING,
        InsurerStatement.Status.FAILED,
    ):
        messages.error(request, "结算单尚未生成")
        return redirect("insurers:statement_detail", pk=statement.pk)
    content = statement_workbook(statement)
    audit_record(actor=request.user, action="insurer.statement_download", obj=statement, request=request)
    return xlsx_response(content, f"insurer-{statement.number}.xlsx")


# --- terms ------------------------------------------------------------------------------------------------------


@permission_required("insurers.view_insurerterms", raise_exception=True)
def terms_list(request):
    versions = (
        PolicyVersion.objects.visible_to(request.user)
        .select_related("county", "insurer_terms")
        .order_by("county__name", "-effective_from")
    )
    return render(request, "insurers/terms_list.html", {"versions": versions})


@permission_required("insurers.change_insurerterms", raise_exception=True)
def terms_edit(request, version_pk):
    version = get_object_or_404(PolicyVersion.objects.visible_to(request.user), pk=version_pk)
    terms = InsurerTerms.objects.filter(version=version).first()
    if version.status != PolicyVersion.Status.DRAFT:
        messages.error(request, "只有草稿状态的政策版本可以修改承办保险机构设置，请先在救助政策中复制为草稿")
        return redirect("insurers:terms_list")
    if request.method == "POST":
        if request.POST.get("remove") == "1":
            services.terms_remove(version=version, user=request.user)
            messages.success(request, "已取消该版本的承办保险机构设置")
            return redirect("insurers:terms_list")
        form = TermsForm(request.POST, instance=terms or InsurerTerms(version=version), version=version)
        if form.is_valid():
            try:
                services.terms_save(version=version, user=request.user, data=form.cleaned_data)
            except services.InsurerRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "承办保险机构设置已保存，随该政策版本生效")
                return redirect("insurers:terms_list")
    else:
        form = TermsForm(instance=terms, version=version)
    return render(request, "insurers/terms_edit.html", {"form": form, "version": version, "terms": terms})


@require_POST
@permission_required("payouts.manage_payoutbatch", raise_exception=True)
def batch_payer(request, batch_pk):
    batch = get_object_or_404(PayoutBatch.objects.visible_to(request.user), pk=batch_pk)
    name = ""
    if request.POST.get("insurer") == "1":
        terms = terms_in_force(county_id=batch.county_id, day=timezone.localdate()) if batch.county_id else None
        if terms is None or not terms.pays_manual:
            messages.error(request, "本县（区）当前没有承办零星报销支付的保险机构")
            return redirect("payouts:batch_detail", pk=batch.pk)
        name = terms.insurer_name
    try:
        batch_set_payer(batch=batch, user=request.user, insurer_name=name)
    except PayoutRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"本批次由{name}支付，代发文件交承办机构" if name else "本批次改由医保局支付")
    return redirect("payouts:batch_detail", pk=batch.pk)
