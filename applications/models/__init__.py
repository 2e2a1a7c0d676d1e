"""The applications' models, by concern; imported here so that Django finds them under the app label."""

from .cases import (
    CLOSED_STATUSES,
    DEAD_STATUSES,
    DECIDED_STATUSES,
    GRANTED_STATUSES,
    LIVE_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Bill,
    Case,
    CaseTransition,
    attachment_path,
)
from .jobs import Job, JobChunk
from .policy import CalendarOverride, FirstRoundRule, LedgerEntry, PolicyVersion, RegionIncome, SecondaryRule
from .proactive import ContactOutcome, Lead, LeadContact, LeadSettlement
from .secondary import YearlyBurden

__all__ = [
    "CLOSED_STATUSES",
    "DEAD_STATUSES",
    "DECIDED_STATUSES",
    "GRANTED_STATUSES",
    "LIVE_STATUSES",
    "OPEN_STATUSES",
    "Attachment",
    "Bill",
    "CalendarOverride",
    "Case",
    "CaseTransition",
    "ContactOutcome",
    "FirstRoundRule",
    "Job",
    "JobChunk",
    "Lead",
    "LeadContact",
    "LeadSettlement",
    "LedgerEntry",
    "PolicyVersion",
    "RegionIncome",
    "SecondaryRule",
    "YearlyBurden",
    "attachment_path",
]
