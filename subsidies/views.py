"""Pages of the 资助参保名单: the list (the townships' work list of people not yet enrolled is the same list,
filtered), its §9 export, one person's entry with the contact log. IDs are masked; roles that may see them in full
ask for it, and each such view or download is audited."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import audit_record
from lib.pages import paginate
from lib.searches import post_search, search_data
from lib.spreadsheet import xlsx_response

from . import services
from .exports import entry_rows, subsidy_workbook
from .forms import ContactForm, EntryFilterForm
from .models import EnrolmentStatus, SubsidyContact, SubsidyEntry, SubsidyRuleSet
from .selectors import enrolled_filter, entry_filters, with_results

PER_PAGE = 50


def _default_year(request) -> int:
    """This insurance year, or the latest year the user's list has rules for."""
    sets = SubsidyRuleSet.objects.visible_to(request.user).filter(status=SubsidyRuleSet.Status.ACTIVE)
    this_year = timezone.localdate().year
    years = sorted(set(sets.values_list("year", flat=True)))
    if not years or this_year in years:
        return this_year
    earlier = [y for y in years if y <= this_year]
    return earlier[-1] if earlier else years[0]


def _filtered(request):
    data = search_data(request).copy()
    if not data.get("year"):
        data["year"] = str(_default_year(request))
    if "status" not in data and request.user.township_scoped:
        data["status"] = EnrolmentStatus.NOT_ENROLLED  # a window's list is its work list first
    form = EntryFilterForm(data, user=request.user)
    entries = SubsidyEntry.objects.visible_to(request.user)
    year = None
    listed = entries.none()  # the same people whatever their enrolment: the 资助参保率 is theirs
    if form.is_valid():
        f = form.cleaned_data
        year = f.get("year")
        entries = entry_filters(
            entries.filter(year=year) if year else entries,
            township=f.get("township"),
            category=f.get("category", ""),
            kind=f.get("kind", ""),
            status="",
            added_from=f.get("added_from"),
            added_to=f.get("added_to"),
        )
        q = (f.get("q") or "").strip()
        if q:
            upper = q.upper()
            if len(upper) == 18:
                entries = entries.filter(person__id_number=upper)
            elif upper[:1].isdigit():
                entries = entries.filter(person__id_number__endswith=upper)
            else:
                entries = entries.filter(person__name__contains=q)
        listed = entries
        if f.get("status"):
            entries = entry_filters(entries, status=f["status"])
    else:
        entries = entries.none()
    return form, entries, year, listed


def _list(request, *, revealed: bool):
    form, entries, year, listed = _filtered(request)
    totals = entries.aggregate(n=Count("id"), amount=Sum("amount"), pays=Sum("person_pays"))
    # The rate of the people filtered for, whatever the enrolment filter (a window's 未参保 list would show 0%).
    of = listed.aggregate(n=Count("id"), enrolled=Count("id", filter=enrolled_filter()))
    rows = with_results(entries.select_related("person", "township", "person__village")).order_by(
        "township__name", "person__name", "id"
    )
    page, query = paginate(request, rows, PER_PAGE)
    if revealed:
        audit_record(
            actor=request.user,
            action="subsidy.pii_view",
            object_type="subsidies.subsidyentry",
            object_repr=f"{year or ''} 年资助参保名单 第 {page.number} 页",
            after={"rows": len(page.object_list), "filter": query},
            comment="查看完整身份证号",
            request=request,
        )
    return render(
        request,
        "subsidies/entry_list.html",
        {
            "form": form,
            "page": page,
            "pagination_query": query,
            "totals": totals,
            "enrolled": of["enrolled"],
            "listed": of["n"],
            "rate": None if not of["n"] else Decimal(of["enrolled"]) / Decimal(of["n"]),
            "year": year,
            "revealed": revealed,
        },
    )


@permission_required("subsidies.view_subsidyentry", raise_exception=True)
def entry_list(request):
    if request.method == "POST":  # the search text (an ID number) stays out of the URL
        return post_search(request)
    return _list(request, revealed=False)


@require_POST
@permission_required("subsidies.view_subsidyentry", raise_exception=True)
def entry_reveal(request):
    """The same page of the list with IDs in full, for roles that may see them; audited."""
    if not request.user.has_perm("recipients.view_full_pii"):
        raise PermissionDenied
    return _list(request, revealed=True)


@permission_required("subsidies.view_subsidyentry", raise_exception=True)
def entry_export(request):
    """The filtered list as DATA-FORMATS §9; IDs in full only for roles that may see them; audited."""
    _, entries, year, _ = _filtered(request)
    masked = not request.user.has_perm("recipients.view_full_pii")
    content, count = subsidy_workbook(entry_rows(entries), masked=masked)
    audit_record(
        actor=request.user,
        action="subsidy.export",
        object_type="subsidies.subsidyentry",
        object_repr=f"{year or ''} 年资助参保名单",
        after={"rows": count, "masked": masked, "filter": request.GET.urlencode()},
        comment="" if masked else "含完整身份证号",
        request=request,
    )
    return xlsx_response(content, f"subsidy-list-{year or 'all'}-{timezone.localtime():%Y%m%d%H%M}.xlsx")


def _visible_entry(request, pk) -> SubsidyEntry:
    entries = SubsidyEntry.objects.visible_to(request.user).select_related(
        "person", "township", "person__village", "rule_set"
    )
    return get_object_or_404(with_results(entries), pk=pk)


@permission_required("subsidies.view_subsidyentry", raise_exception=True)
def entry_detail(request, pk):
    entry = _visible_entry(request, pk)
    contacts = SubsidyContact.objects.filter(person_id=entry.person_id, year=entry.year).select_related("recorded_by")
    page, query = paginate(request, contacts, 20)
    return render(
        request,
        "subsidies/entry_detail.html",
        {
            "entry": entry,
            "page": page,
            "pagination_query": query,
            "contact_form": ContactForm(),
            "can_work": request.user.has_perm("subsidies.work_subsidyentry")
            and entry.result_status != EnrolmentStatus.ENROLLED,
        },
    )


@require_POST
@permission_required("subsidies.work_subsidyentry", raise_exception=True)
def entry_contact(request, pk):
    entry = _visible_entry(request, pk)
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, "联系记录填写不完整：" + "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("subsidies:entry_detail", pk=entry.pk)
    try:
        services.subsidy_record_contact(entry=entry, user=request.user, **form.cleaned_data)
    except services.RulesRejected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已记录联系情况")
    return redirect("subsidies:entry_detail", pk=entry.pk)
