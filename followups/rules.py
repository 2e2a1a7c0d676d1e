"""The county's 回访 and complaint parameters as data (followups.models.FollowupPolicy, kept in 系统管理): the time
limit of each ticket category in working days, and the KPI targets. A county that has entered none uses the
defaults below; what a county enters replaces them category by category."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from applications.policy.workdays import add_working_days

from .models import FollowupPolicy, Ticket, TicketTimeLimit

C = Ticket.Category
# Working days to answer, by category (what the county enters in 系统管理 replaces these). Enquiries are answered
# soonest; a dispute over an identity needs the department that recognised it.
DEFAULT_TIME_LIMITS = {
    C.NOT_RECEIVED: 5,
    C.AMOUNT: 10,
    C.TIME: 5,
    C.ATTITUDE: 5,
    C.POLICY: 3,
    C.IDENTITY: 15,
    C.OTHER: 10,
}
DEFAULT_SATISFACTION_TARGET = Decimal("0.85")  # Jiangmen's target (DOMAIN §12.3)


@dataclass(frozen=True)
class Targets:
    satisfaction: Decimal | None = DEFAULT_SATISFACTION_TARGET
    awareness: Decimal | None = None
    receipt: Decimal | None = None
    on_time: Decimal | None = None


def time_limit(*, county_id: int, category: str) -> int:
    """Working days a ticket of the category has to be answered in, in the county."""
    days = (
        TicketTimeLimit.objects.filter(policy__county_id=county_id, category=category)
        .values_list("working_days", flat=True)
        .first()
    )
    return days if days is not None else DEFAULT_TIME_LIMITS[category]


def time_limits(*, county_id: int) -> dict[str, int]:
    """Every category's time limit in the county (the defaults where it entered none)."""
    entered = dict(TicketTimeLimit.objects.filter(policy__county_id=county_id).values_list("category", "working_days"))
    return {category: entered.get(category, days) for category, days in DEFAULT_TIME_LIMITS.items()}


def due_date(*, county_id: int, category: str, opened_on: datetime.date) -> tuple[int, datetime.date]:
    """(time limit, the day it ends): working days after the day the ticket was opened, by the statutory calendar
    (the day of opening does not count)."""
    days = time_limit(county_id=county_id, category=category)
    return days, add_working_days(opened_on, days)


def targets(*, county_id: int | None) -> Targets:
    policy = FollowupPolicy.objects.filter(county_id=county_id).first() if county_id else None
    if policy is None:
        return Targets()
    return Targets(
        satisfaction=policy.satisfaction_target,
        awareness=policy.awareness_target,
        receipt=policy.receipt_target,
        on_time=policy.on_time_target,
    )
