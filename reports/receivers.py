"""How the summary follows the data: the case workflow and the imports announce their changes (inside their
transactions); the years those changes touch are rebuilt once they commit, coalesced per year
(services.facts_refresh_on_commit). Connected once at start-up (apps.ReportsConfig.ready)."""

from django.db import models
from django.db.models.functions import ExtractYear
from django.utils import timezone

from applications.cases.workflow import TRANSITIONS
from applications.models import GRANTED_STATUSES, Bill, Case
from applications.signals import cases_transitioned
from lib.chunks import chunks
from payouts.hooks import register_lock_gate
from recipients.signals import roster_applied
from settlements.models import Settlement
from settlements.signals import settlements_applied
from settlements.visits import INPATIENT

from .funds import funds_gate
from .models import FactRefresh
from .services import facts_refresh_on_commit


def counted_change(action: str, to_status: str) -> bool:
    """Whether a transition can change the summary: it leads into a granted status (批准, 发放) or out of one.
    A rejection or a withdrawal of a case still waiting changes nothing there: the case was never counted."""
    starts = TRANSITIONS.get(action, ((), None))[0]
    return to_status in GRANTED_STATUSES or any(s in GRANTED_STATUSES for s in starts)


def bill_years(case_ids: list[int]) -> set[int]:
    """The years of the service dates of these cases' bills."""
    service_year = models.Case(
        models.When(visit_type=INPATIENT, then=ExtractYear("discharged_on")), default=ExtractYear("visit_on")
    )
    years = set()
    for chunk in chunks(case_ids, 1000):
        years.update(
            Bill.objects.filter(case_id__in=chunk).annotate(y=service_year).values_list("y", flat=True).distinct()
        )
    return {y for y in years if y}


def summarised_years() -> set[int]:
    """Every year with a summary, and this year."""
    years = set(FactRefresh.objects.filter(refreshed_at__isnull=False).values_list("year", flat=True))
    return years | {timezone.localdate().year}


def import_years(import_id: int) -> set[int]:
    """The service years of the settlements a settlement import wrote."""
    return {d.year for d in Settlement.objects.filter(last_import_id=import_id).dates("service_date", "year")}


def after_transition(sender, *, cases, action: str, to_status: str, **kwargs):
    if not counted_change(action, to_status):
        return
    years = {c.year for c in cases if c.source == Case.Source.SECONDARY and c.year}
    first_round = [c.pk for c in cases if c.source != Case.Source.SECONDARY]
    facts_refresh_on_commit(years=years, find=(lambda: bill_years(first_round)) if first_round else None)


def after_roster(sender, *, record, changed: bool, **kwargs):
    if changed:
        # New, changed or ended identities move people between categories in any year already summarised.
        facts_refresh_on_commit(find=summarised_years)


def after_settlements(sender, *, record, changed: bool, person_ids, **kwargs):
    # Settlements of people outside the registry are not counted: only a file about registered people matters.
    if changed and person_ids:
        facts_refresh_on_commit(find=lambda: import_years(record.pk))


def connect() -> None:
    register_lock_gate("reports.funds", funds_gate)
    cases_transitioned.connect(after_transition, dispatch_uid="reports.after_transition")
    roster_applied.connect(after_roster, dispatch_uid="reports.after_roster")
    settlements_applied.connect(after_settlements, dispatch_uid="reports.after_settlements")
