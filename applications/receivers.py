"""How the applications react to what the layers below announce, and to their own case workflow: connected
once at start-up (apps.ApplicationsConfig.ready)."""

from recipients.signals import identities_granted, roster_applied
from settlements.signals import settlements_applied

from .cases.services import register_source
from .models import Case
from .proactive.crosscheck import crosscheck_after_commit
from .secondary.services import SECONDARY_RULES, secondary_after_commit
from .signals import cases_transitioned


def after_roster(sender, *, record, changed: bool, user=None, **kwargs):
    if changed:
        # A new or backdated identity can make earlier settlements eligible.
        crosscheck_after_commit(user=user, reason=f"名册导入 #{record.pk} 之后")


def after_identities(sender, *, person_ids, user=None, reason: str = "", **kwargs):
    # An identity entered by the registry's service (a 因病致贫 identification) makes the person's settlements
    # inside its window eligible: the next cross-check finds them like anyone's.
    crosscheck_after_commit(user=user, reason=reason or "登记救助身份之后")


def after_settlements(sender, *, record, changed: bool, person_ids, user=None, **kwargs):
    if changed:
        # New or changed settlements can make new leads, and change the yearly burdens of these people.
        crosscheck_after_commit(user=user, reason=f"结算数据导入 #{record.pk} 之后")
        secondary_after_commit(person_ids=person_ids, reason=f"结算数据导入 #{record.pk} 之后")


def after_decision(sender, *, cases, action: str, **kwargs):
    """A decided first round counts in the person's yearly burden; an approved secondary case changes what is
    still due: recompute those people."""
    if action == "approve":
        people = [c.person_id for c in cases]
        secondary = all(c.source == Case.Source.SECONDARY for c in cases)
        secondary_after_commit(person_ids=people, reason="二次救助批准之后" if secondary else "案件批准之后")
    elif action == "reject":
        people = [c.person_id for c in cases if c.source != Case.Source.SECONDARY]
        secondary_after_commit(person_ids=people, reason="案件不予救助之后")


def connect() -> None:
    register_source(Case.Source.SECONDARY, SECONDARY_RULES)
    roster_applied.connect(after_roster, dispatch_uid="applications.after_roster")
    identities_granted.connect(after_identities, dispatch_uid="applications.after_identities")
    settlements_applied.connect(after_settlements, dispatch_uid="applications.after_settlements")
    cases_transitioned.connect(after_decision, dispatch_uid="applications.after_decision")
