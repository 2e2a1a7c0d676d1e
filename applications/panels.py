"""The person page's panels of this app (recipients.panels): the person's cases and leads, and the history of
what was done with them, newest first."""

import datetime
from itertools import chain

from django.utils import timezone

from recipients.panels import PersonPanel, register_person_panel

from .models import Case, CaseTransition, Lead, LeadContact

# A person has a handful of cases a year; the page keeps the newest, and says when there are more.
SHOWN = 50


def _newest(queryset, shown=SHOWN):
    rows = list(queryset[: shown + 1])
    return rows[:shown], len(rows) > shown


def cases_context(user, person) -> dict | None:
    cases = Case.objects.visible_to(user).filter(person=person)
    leads = Lead.objects.visible_to(user).filter(person=person)
    if not (user.has_perm("applications.view_case") or user.has_perm("applications.view_lead")):
        return None
    case_rows, cases_more = _newest(cases.select_related("township").order_by("-created_at", "-pk"))
    lead_rows, leads_more = _newest(leads.select_related("case").order_by("-created_at", "-pk"))
    return {
        "person_cases": case_rows,
        "person_cases_more": cases_more,
        "person_leads": lead_rows,
        "person_leads_more": leads_more,
        "can_see_leads": user.has_perm("applications.view_lead"),
        "can_see_cases": user.has_perm("applications.view_case"),
    }


def history_context(user, person) -> dict | None:
    """Every status change of the person's cases and every contact about their leads, in one list."""
    if not (user.has_perm("applications.view_case") or user.has_perm("applications.view_lead")):
        return None
    moves = (
        CaseTransition.objects.filter(case__in=Case.objects.visible_to(user).filter(person=person))
        .select_related("case", "actor")
        .order_by("-at", "-pk")[: SHOWN * 2]
    )
    contacts = (
        LeadContact.objects.filter(lead__in=Lead.objects.visible_to(user).filter(person=person))
        .select_related("lead")
        .order_by("-contacted_on", "-pk")[: SHOWN * 2]
    )
    found = Lead.objects.visible_to(user).filter(person=person).order_by("-created_at")[: SHOWN * 2]
    events = chain(
        (
            {
                "at": m.at,
                "what": f"案件 {m.case.number}：{m.get_from_status_display()} → {m.get_to_status_display()}",
                "who": m.actor.display_name if m.actor else "系统",
                "note": m.comment,
                "case": m.case,
            }
            for m in moves
        ),
        (
            {
                "at": c.contacted_on,
                "what": f"线索 {c.lead.number}：{c.get_method_display()}联系，{c.get_outcome_display()}",
                "who": "",
                "note": c.note,
                "lead": c.lead,
            }
            for c in contacts
        ),
        (
            {"at": lead.created_at, "what": f"发现线索 {lead.number}（{lead.year} 年）", "who": "系统", "lead": lead}
            for lead in found
        ),
    )
    rows = sorted(events, key=lambda e: _sort_key(e["at"]), reverse=True)
    for row in rows:
        at = row["at"]
        row["when"] = f"{_sort_key(at):%Y-%m-%d %H:%M}" if isinstance(at, datetime.datetime) else f"{at:%Y-%m-%d}"
    return {"history": rows[: SHOWN * 2], "history_more": len(rows) > SHOWN * 2}


def _sort_key(value) -> datetime.datetime:
    # Transitions carry a time, contacts only a day: a day sorts as its start, in local time.
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return datetime.datetime.combine(value, datetime.time.min)


def register() -> None:
    register_person_panel(
        PersonPanel(key="cases", order=10, template="applications/_person_cases.html", context=cases_context)
    )
    register_person_panel(
        PersonPanel(key="history", order=40, template="applications/_person_history.html", context=history_context)
    )
