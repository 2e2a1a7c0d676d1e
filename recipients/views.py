import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from lib.pages import paginate
from lib.searches import post_search, search_data

from .forms import PersonSearchForm
from .models import Person
from .panels import person_panels
from .selectors import person_search
from .services import person_reveal_pii


@permission_required("recipients.view_person", raise_exception=True)
def person_list(request):
    if request.method == "POST":  # the search text (an ID number) is kept out of the URL
        return post_search(request)
    form = PersonSearchForm(search_data(request) or None, user=request.user)
    query, township_id = "", None
    if form.is_valid():
        query = form.cleaned_data["q"]
        township = form.cleaned_data.get("township")
        township_id = township.id if township else None
    people = person_search(user=request.user, query=query, township_id=township_id)
    page, query = paginate(request, people, 50)
    return render(request, "recipients/person_list.html", {"form": form, "page": page, "pagination_query": query})


def _visible_person(request, pk) -> Person:
    return get_object_or_404(Person.objects.visible_to(request.user).select_related("township", "village"), pk=pk)


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
            # What the parts of the portal built on the registry show of this person (recipients.panels).
            "panels": person_panels(request=request, person=person),
        },
    )


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
