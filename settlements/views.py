"""The settlement browser. The import pages are the import flow's (imports/), under this app's namespace."""

from decimal import Decimal

from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render

from lib.pages import paginate
from recipients.models import Person

from .forms import SettlementFilterForm
from .selectors import hospital_settlements, hospital_summary, numbered_settlements


@permission_required("settlements.view_settlement", raise_exception=True)
def hospital_list(request):
    form = SettlementFilterForm(request.GET)
    year = form.filters()["year"]
    hospitals = hospital_summary(user=request.user, year=year)
    totals = {
        "hospitals": len(hospitals),
        "count": sum(h["count"] for h in hospitals),
        "total": sum((h["total"] for h in hospitals), start=Decimal(0)),
        "without_onestop": sum(h["without_onestop"] for h in hospitals),
    }
    page, query = paginate(request, hospitals, 50)
    return render(
        request,
        "settlements/hospital_list.html",
        {"form": form, "year": year, "page": page, "hospitals": page.object_list, "query": query, "totals": totals},
    )


@permission_required("settlements.view_settlement", raise_exception=True)
def settlement_list(request):
    form = SettlementFilterForm(request.GET)
    filters = form.filters()
    if filters["q"]:
        settlements = numbered_settlements(user=request.user, number=filters["q"], year=filters["year"])
    elif filters["hospital"]:
        settlements = hospital_settlements(user=request.user, hospital=filters["hospital"], year=filters["year"])
    else:
        return redirect("settlements:hospital_list")
    # A hospital's settlements are counted to 1,000 only (「1,000+」): a clerk's residents are a thirteenth of a
    # county hospital's rows, so counting 10,000 of them would read 130,000.
    page, query = paginate(request, settlements, 50, count_limit=1_000)
    page.object_list = list(page.object_list)
    _link_people(request.user, page.object_list)
    return render(
        request,
        "settlements/settlement_list.html",
        {
            "form": form,
            "hospital": filters["hospital"],
            "number": filters["q"],
            "year": filters["year"],
            "page": page,
            "can_open_people": request.user.has_perm("recipients.view_person"),
            "query": query,
        },
    )


def _link_people(user, settlements) -> None:
    """Set `person_pk` on each row whose person is in the registry and visible to the user; one query."""
    people = {}
    if user.has_perm("recipients.view_person"):
        numbers = {s.id_number for s in settlements}
        people = dict(Person.objects.visible_to(user).filter(id_number__in=numbers).values_list("id_number", "pk"))
    for s in settlements:
        s.person_pk = people.get(s.id_number)
