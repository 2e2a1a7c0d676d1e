import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from .forms import PersonSearchForm
from .models import Person
from .selectors import person_search
from .services import person_reveal_pii


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
