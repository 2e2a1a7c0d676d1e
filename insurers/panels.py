"""What the insurer mode adds to other pages: the insurer's reserve position on the dashboard (reports.panels) and
who pays a batch on the batch page (payouts.batch_panels)."""

from django.template.loader import render_to_string
from django.utils import timezone

from payouts.batch_panels import register_batch_panel
from recipients.models import County
from reports.panels import DashboardPanel, register_dashboard_panel

from .selectors import reserve_position, terms_in_force


def dashboard_reserve(request, *, year, county, township) -> str:
    """One county's reserve, or each insurer county's for the prefecture; not for a township's view (the reserve
    is the county's)."""
    if township is not None:
        return ""
    counties = [county] if county is not None else list(County.objects.order_by("code", "name"))
    positions = []
    for c in counties:
        position = reserve_position(county_id=c.pk, year=year)
        if position is not None:
            positions.append({"county": c, **position})
    if not positions:
        return ""
    return render_to_string(
        "insurers/_reserve.html",
        {"positions": positions, "year": year, "can_open": request.user.has_perm("insurers.view_insurerstatement")},
        request=request,
    )


def batch_payer(request, batch) -> str:
    """On a batch of a county whose insurer pays 零星 amounts: who pays, and (draft or locked) a switch."""
    if batch.county_id is None:
        return ""
    terms = terms_in_force(county_id=batch.county_id, day=timezone.localdate())
    if (terms is None or not terms.pays_manual) and not batch.payer_name:
        return ""
    return render_to_string(
        "insurers/_batch_payer.html",
        {
            "batch": batch,
            "terms": terms if terms is not None and terms.pays_manual else None,
            "can_change": request.user.has_perm("payouts.manage_payoutbatch") and batch.status in ("draft", "locked"),
        },
        request=request,
    )


def register() -> None:
    register_dashboard_panel(DashboardPanel(key="insurer_reserve", order=10, render=dashboard_reserve))
    register_batch_panel("insurer_payer", 10, batch_payer)
