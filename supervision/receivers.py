"""How 基金监管 reacts to what the layers below announce: imports suggest recoveries, payout batches take and
settle offsets; connected once at start-up (apps.SupervisionConfig.ready)."""

from lib.tasks import enqueue_on_commit
from payouts.hooks import lines_settled, register_line_adjuster
from recipients.signals import roster_applied
from settlements.signals import settlements_applied

from .models import Suggestion
from .offsets import after_lines_settled, offsets_for_new_batch
from .panels import register


def after_roster(sender, *, record, changed: bool, **kwargs):
    """An identity ended or corrected can leave a paid bill outside every window the person has."""
    if changed:
        county_id = getattr(record, "county_id", None)
        enqueue_on_commit(
            "supervision.suggest",
            [Suggestion.Rule.IDENTITY],
            county_id,
            f"名册导入 #{record.pk}",
            once_key=("supervision.suggest", "roster", county_id),
        )


def after_settlements(sender, *, record, changed: bool, **kwargs):
    """A stay paid through 零星报销 may now show assisted one-stop. Settlements are the county of the person they
    name, whoever imported them: every county's paid bills are looked at."""
    if changed:
        enqueue_on_commit(
            "supervision.suggest",
            [Suggestion.Rule.DUPLICATE],
            None,
            f"结算数据导入 #{record.pk}",
            once_key=("supervision.suggest", "settlements"),
        )


def connect() -> None:
    register_line_adjuster("supervision.offsets", offsets_for_new_batch)
    lines_settled.connect(after_lines_settled, dispatch_uid="supervision.after_lines_settled")
    roster_applied.connect(after_roster, dispatch_uid="supervision.after_roster")
    settlements_applied.connect(after_settlements, dispatch_uid="supervision.after_settlements")
    register()
