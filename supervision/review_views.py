"""Pages of the reviewer's queues: the recoveries the imports suggest, and the monthly sample audit."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from applications.cases.recovered import recoverable
from lib.pages import paginate
from recipients.models import County

from . import sampling, suggestions
from .forms import CheckForm, ConfirmSuggestionForm, DrawForm, ReasonForm, SuggestionFilterForm
from .models import AuditSample, SampleItem, Suggestion
from .recoveries import RecoveryRefused


@permission_required("supervision.view_suggestion", raise_exception=True)
def suggestion_list(request):
    form = SuggestionFilterForm(request.GET or None)
    rows = Suggestion.objects.visible_to(request.user).select_related("case", "person", "township", "recovery")
    status = request.GET.get("status") or "open"
    if status != "all":
        rows = rows.filter(status=status)
    if request.GET.get("rule") in Suggestion.Rule.values:
        rows = rows.filter(rule=request.GET["rule"])
    page, query = paginate(request, rows.order_by("-created_at", "-pk"), 30)
    return render(
        request,
        "supervision/suggestion_list.html",
        {"form": form, "page": page, "status": status, "query": query},
    )


@permission_required("supervision.view_suggestion", raise_exception=True)
def suggestion_detail(request, pk):
    suggestion = get_object_or_404(
        Suggestion.objects.visible_to(request.user).select_related("case", "person", "township", "decided_by"), pk=pk
    )
    left = recoverable(suggestion.case)
    form = ConfirmSuggestionForm(
        request.POST or None,
        initial={"amount": min(suggestion.amount, left) or None, "note": suggestions.describe(suggestion)},
    )
    if request.method == "POST" and request.user.has_perm("supervision.manage_recovery"):
        if request.POST.get("do") == "dismiss":
            try:
                suggestions.suggestion_dismiss(
                    suggestion=suggestion, user=request.user, note=request.POST.get("reason", "")
                )
            except RecoveryRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "已记录不予追回")
            return redirect("supervision:suggestion_detail", pk=suggestion.pk)
        if form.is_valid():
            try:
                recovery = suggestions.suggestion_confirm(suggestion=suggestion, user=request.user, **form.cleaned_data)
            except RecoveryRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已登记追回 {recovery.number}")
                return redirect("supervision:recovery_detail", pk=recovery.pk)
    return render(
        request,
        "supervision/suggestion_detail.html",
        {"suggestion": suggestion, "form": form, "reason_form": ReasonForm(), "recoverable": left},
    )


@permission_required("supervision.view_auditsample", raise_exception=True)
def sample_list(request):
    samples = (
        AuditSample.objects.visible_to(request.user)
        .select_related("county", "drawn_by")
        .annotate(
            sampled=Count("items"),
            checked=Count("items", filter=~Q(items__outcome=SampleItem.Outcome.PENDING)),
            wrong=Count("items", filter=Q(items__outcome=SampleItem.Outcome.WRONG)),
        )
    )
    page, query = paginate(request, samples.order_by("-month", "county__name"), 24)
    mine = SampleItem.objects.filter(
        sample__in=AuditSample.objects.visible_to(request.user),
        reviewer=request.user,
        outcome=SampleItem.Outcome.PENDING,
    ).select_related("case", "sample", "township")
    return render(
        request,
        "supervision/sample_list.html",
        {"page": page, "query": query, "draw_form": DrawForm(), "mine": mine[:50], "mine_count": mine.count()},
    )


@require_POST
@permission_required("supervision.draw_auditsample", raise_exception=True)
def sample_new(request):
    form = DrawForm(request.POST)
    county_id = request.user.scope_county_id
    if county_id is None:
        messages.error(request, "抽查按县（区）抽取：请使用所属县的账户")
        return redirect("supervision:sample_list")
    if not form.is_valid():
        messages.error(request, "；".join(form.errors.get("month", ["请填写月份"])))
        return redirect("supervision:sample_list")
    try:
        sample, created = sampling.sample_draw(
            county=County.objects.get(pk=county_id), month=form.cleaned_data["month"], user=request.user
        )
    except RecoveryRefused as exc:
        messages.error(request, str(exc))
        return redirect("supervision:sample_list")
    (messages.success if created else messages.info)(request, sampling.sample_summary(sample, created))
    return redirect("supervision:sample_detail", pk=sample.pk)


@permission_required("supervision.view_auditsample", raise_exception=True)
def sample_detail(request, pk):
    sample = get_object_or_404(AuditSample.objects.visible_to(request.user).select_related("county", "drawn_by"), pk=pk)
    items = sample.items.select_related("case", "township", "reviewer", "recovery").order_by(
        "township__name", "case__number"
    )
    outcome = request.GET.get("outcome", "")
    if outcome in SampleItem.Outcome.values:
        items = items.filter(outcome=outcome)
    page, query = paginate(request, items, 50)
    redrawn = sampling.sample_redraw(sample)
    recorded = sorted(sample.items.values_list("case_id", flat=True))
    return render(
        request,
        "supervision/sample_detail.html",
        {
            "sample": sample,
            "page": page,
            "query": query,
            "outcome": outcome,
            "reproducible": sorted(redrawn) == recorded,
            "counts": {row["outcome"]: row["n"] for row in sample.items.values("outcome").annotate(n=Count("pk"))},
            "by_township": sample.items.values("township__name").annotate(n=Count("pk")).order_by("township__name"),
        },
    )


@permission_required("supervision.view_auditsample", raise_exception=True)
def sample_item(request, pk):
    item = get_object_or_404(
        SampleItem.objects.filter(sample__in=AuditSample.objects.visible_to(request.user)).select_related(
            "case__person", "case__township", "sample", "reviewer", "recovery"
        ),
        pk=pk,
    )
    form = CheckForm(request.POST or None)
    if request.method == "POST" and request.user.has_perm("supervision.check_auditsample") and form.is_valid():
        try:
            sampling.sample_check(item=item, user=request.user, **form.cleaned_data)
        except RecoveryRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "已记录抽查结论")
            return redirect("supervision:sample_detail", pk=item.sample_id)
    return render(
        request,
        "supervision/sample_item.html",
        {"item": item, "form": form, "recoverable": recoverable(item.case)},
    )
