"""The lists of cases: 「救助案件」 and the approver's 「待审批」 queue, where several cases are approved at once.

Approving from the queue takes two posts: the cases ticked on the page shown go to a confirmation (how many, the
amounts, the breakdown by source and township, what each would be granted now), and only the cases confirmed
there are approved. Both steps carry signed lists of case ids, so that neither can act on a case the approver
was not shown: nothing is approved across pages, or by a filter that has since changed."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils import timezone

from lib.pages import paginate
from lib.searches import filter_by, post_search, search_data, valid_filters

from ..models import Case
from ..policy.engine import yuan
from . import services
from .forms import ApprovalQueueFilterForm, CaseFilterForm
from .selectors import (
    DUE_WINDOW,
    QUEUE_SORTS,
    approval_queue_cases,
    bulk_approval_preview,
    due_filter,
    due_soon_until,
    window_reminder_cases,
)

QUEUE_PAGE = 30
SHOWN = "applications.approval-queue.shown"
CONFIRMED = "applications.approval-queue.confirmed"
# A page or a confirmation left open longer than this is refused and shown again.
SIGNED_FOR_SECONDS = 4 * 3600


@permission_required("applications.view_case", raise_exception=True)
def case_list(request):
    if request.method == "POST":
        return post_search(request)
    today = timezone.localdate()
    form = CaseFilterForm(search_data(request) or None, user=request.user)
    cases = Case.objects.visible_to(request.user).select_related("person", "township__county")
    cases = cases.order_by("due_on", "-created_at")
    data = valid_filters(form)
    cases = filter_by(cases, data, "status", "township", "source")
    if data.get("due") == DUE_WINDOW:
        cases = cases.filter(pk__in=window_reminder_cases(user=request.user, day=today).values("pk"))
    else:
        cases = due_filter(cases, due=data.get("due") or "", day=today)
    if data.get("accepted_from"):
        cases = cases.filter(accepted_on__gte=data["accepted_from"])
    if data.get("accepted_to"):
        cases = cases.filter(accepted_on__lte=data["accepted_to"])
    q = (data.get("q") or "").strip()
    if q:
        cases = cases.search(q)
    page, query = paginate(request, cases, 30)
    return render(
        request,
        "applications/case_list.html",
        {"form": form, "page": page, "today": today, "soon": due_soon_until(today), "query": query},
    )


def _sort_links(request, filters: dict) -> dict:
    """Each sortable column's link: by that column, ascending first, the other way when already sorted by it."""
    links = {}
    for key in QUEUE_SORTS:
        params = request.GET.copy()
        params.pop("page", None)
        current = filters["sort"] == key
        params["sort"], params["order"] = key, "desc" if current and not filters["descending"] else "asc"
        arrow = ("▼" if filters["descending"] else "▲") if current else ""
        links[key] = {"url": f"?{params.urlencode()}", "arrow": arrow}
    return links


def _signed(request, value, salt: str) -> str:
    return signing.dumps({"user": request.user.pk, **value}, salt=salt)


def _unsigned(request, field: str, salt: str) -> dict | None:
    """The signed value posted in `field`, when it was signed for this user and recently; otherwise None."""
    try:
        value = signing.loads(request.POST.get(field, ""), salt=salt, max_age=SIGNED_FOR_SECONDS)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) and value.get("user") == request.user.pk else None


@permission_required("applications.approve_case", raise_exception=True)
def approval_queue(request):
    """Cases waiting for a decision, 30 a page, filtered and sorted by the query string; the ticked ones of the
    page are approved after a confirmation."""
    form = ApprovalQueueFilterForm(request.GET, user=request.user)
    filters = form.filters()
    today = timezone.localdate()
    cases = approval_queue_cases(user=request.user, day=today, **filters)
    if request.method == "POST":
        if request.POST.get("step") == "confirm":
            return _approve_confirmed(request)
        return _confirmation(request, cases)
    page, query = paginate(request, cases, QUEUE_PAGE)
    return render(
        request,
        "applications/approval_queue.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "totals": cases.aggregate(n=Count("pk"), proposed=Sum("proposed_amount")),
            "shown": _signed(request, {"cases": [case.pk for case in page]}, SHOWN),
            "sorts": _sort_links(request, filters),
            "today": today,
            "soon": due_soon_until(today),
        },
    )


def _confirmation(request, cases):
    """Step one: of the cases ticked, those that were on the page shown and still wait for approval under the
    same filters, summed up and previewed for the approver to confirm. Nothing is changed."""
    shown = _unsigned(request, "shown", SHOWN)
    if shown is None:
        messages.error(request, "页面已过期，请重新勾选要批准的案件")
        return redirect(request.get_full_path())
    ticked = set(request.POST.getlist("case"))
    chosen = [pk for pk in shown["cases"] if str(pk) in ticked]
    selected = list(cases.filter(pk__in=chosen))
    if not selected:
        messages.info(request, "没有选择案件" if not chosen else "选中的案件已不在待审批中（可能已由他人处理）")
        return redirect(request.get_full_path())
    accept_zero = request.POST.get("accept_zero") == "1"
    summary = bulk_approval_preview(cases=selected, user=request.user, accept_zero=accept_zero)
    return render(
        request,
        "applications/approval_confirm.html",
        {
            **summary,
            "gone": len(chosen) - len(selected),
            "confirmed": _signed(request, {"cases": [c.pk for c in selected], "zero": accept_zero}, CONFIRMED),
            "back": request.get_full_path(),
        },
    )


def _approve_confirmed(request):
    """Step two: approve exactly the cases of the confirmation, each on its own; say which were approved and
    why the others were not."""
    confirmed = _unsigned(request, "confirmed", CONFIRMED)
    if confirmed is None:
        messages.error(request, "确认页已过期，未批准任何案件；请重新勾选并确认")
        return redirect(request.get_full_path())
    ids = list(Case.objects.visible_to(request.user).filter(pk__in=confirmed["cases"]).values_list("pk", flat=True))
    approved, refused = services.cases_approve(case_ids=ids, user=request.user, accept_zero=bool(confirmed["zero"]))
    first = [case for case in approved if case.status == Case.Status.APPROVAL]
    approved = [case for case in approved if case.status != Case.Status.APPROVAL]
    if approved:
        total = sum((case.approved_amount for case in approved), Decimal("0"))
        numbers = "、".join(case.number for case in approved)
        messages.success(request, f"已批准 {len(approved):,} 件，批准金额合计 {yuan(total)}：{numbers}")
    if first:
        numbers = "、".join(case.number for case in first)
        messages.warning(
            request, f"一级审批 {len(first):,} 件（达到二级审批标准），须另一名审批人二级审批后发放：{numbers}"
        )
    for line in refused:
        messages.error(request, f"未批准 {line}")
    return redirect(request.get_full_path())
