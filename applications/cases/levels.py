"""Approval levels (分级审批, DOMAIN §12.2): a case whose grant is at or above the policy's threshold needs a second
approval, by another approver, after the first.

The threshold is the policy's in force for the case's county on the day of approval (a rule of procedure, not of
benefit). The amount judged is what approval would grant now (the same recalculation the approver is shown). The
first approval is a transition of its own (一级审批: 待审批 → 待审批, recorded and audited) that grants nothing; the
second is the approval proper, which grants and posts to the ledger. A 退回补正 clears the first approval.
"""

from decimal import Decimal

from django.utils import timezone

from ..models import Case
from ..policy import engine
from ..policy.selectors import policy_in_force


def approval_threshold(case: Case) -> Decimal | None:
    """The policy's amount from which the case needs two approvers (None: one approval is enough)."""
    version = policy_in_force(county_id=case.township.county_id, day=timezone.localdate())
    return version.second_approval_threshold if version is not None else None


def needs_first_level(case: Case, amount: Decimal | None) -> Decimal | None:
    """The threshold when approving the case now would be its first approval of two, else None."""
    if case.first_approved_by_id is not None or amount is None:
        return None
    threshold = approval_threshold(case)
    if threshold is None or amount < threshold:
        return None
    return threshold


def first_level_comment(amount: Decimal, threshold: Decimal, comment: str = "") -> str:
    note = (
        f"一级审批通过：批准金额 {engine.yuan(amount)}达到二级审批标准 {engine.yuan(threshold)}，须另一名审批人二级审批"
    )
    return "；".join(part for part in (comment, note) if part)


def level_note(case: Case, amount: Decimal | None) -> str:
    """What approving the case now would be, for the approver's confirmation ('' when a single approval)."""
    if case.first_approved_by_id is not None:
        who = case.first_approved_by.display_name if case.first_approved_by else ""
        return f"二级审批（一级审批：{who} {timezone.localtime(case.first_approved_at):%Y-%m-%d %H:%M}）"
    threshold = needs_first_level(case, amount)
    if threshold is not None:
        return f"达到二级审批标准 {engine.yuan(threshold)}：本次为一级审批，不发放，待另一名审批人二级审批"
    return ""
