"""The monitoring reacts to settlement imports: the month's figures change, so the month is run again."""

from django.utils import timezone

from settlements.signals import settlements_applied

from .run import monitoring_request


def after_settlements(sender, *, record, changed: bool, user=None, **kwargs):
    if changed:
        monitoring_request(
            month=timezone.localdate().replace(day=1), user=user, reason=f"结算数据导入 #{record.pk} 之后"
        )


def connect() -> None:
    settlements_applied.connect(after_settlements, dispatch_uid="monitoring.after_settlements")
