"""The person page's 监测预警 history (recipients.panels) and the dashboard's 监测预警 KPIs (reports.panels)."""

from recipients.panels import PersonPanel, register_person_panel
from reports.panels import DashboardPanel, register_dashboard_panel

from .models import Listing, ZbApplication
from .selectors import kpis

SHOWN = 36


def person_context(user, person) -> dict | None:
    if not user.has_perm("monitoring.view_listing"):
        return None
    lines = list(
        Listing.objects.visible_to(user).filter(watch__id_number=person.id_number).order_by("-month")[: SHOWN + 1]
    )
    applications = ZbApplication.objects.visible_to(user).filter(id_number=person.id_number).order_by("-opened_at")
    if not lines and not applications.exists():
        return None
    return {
        "monitoring_lines": lines[:SHOWN],
        "monitoring_more": len(lines) > SHOWN,
        "zb_applications": list(applications[:10]),
    }


def dashboard_context(user, year, county, township) -> dict | None:
    if not user.has_perm("monitoring.view_listing"):
        return None
    if user.township_scoped:
        township = user.township
    return {"monitoring": kpis(year=year, county=county, township=township)}


def register() -> None:
    register_person_panel(
        PersonPanel(key="monitoring", order=35, template="monitoring/_person_panel.html", context=person_context)
    )
    register_dashboard_panel(
        DashboardPanel(
            key="monitoring", order=10, template="monitoring/_dashboard_panel.html", context=dashboard_context
        )
    )
