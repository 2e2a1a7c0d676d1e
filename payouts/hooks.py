"""What the parts of the portal built on the payouts add to them, registered at start-up: the payouts know nothing
of funds or recoveries.

- **Lock gates** are asked before a batch is locked (the funds gate, reports.funds): each returns warnings to
  show, or raises PayoutRefused to refuse the lock.
- **Line adjusters** see the lines of a batch just made (the recoveries' 抵扣, supervision): they may keep part of
  a line back through payouts.offsets.
- `lines_settled` announces lines whose fate is known: paid (by the bank's return, or offset in full at export),
  or released (failed at the bank, taken out of a draft, or in a cancelled batch). Sent inside the transaction
  that changed them.
"""

from collections.abc import Callable

from django.dispatch import Signal

# kwargs: batch (PayoutBatch), paid (list of line ids), released (list of line ids), user (or None).
lines_settled = Signal()

LockGate = Callable[..., list[str]]  # (batch=locked batch, user=...) → warnings; raises PayoutRefused to refuse
LineAdjuster = Callable[..., None]  # (batch=new batch, lines=[PayoutLine], user=...)

_GATES: dict[str, LockGate] = {}
_ADJUSTERS: dict[str, LineAdjuster] = {}


def register_lock_gate(key: str, gate: LockGate) -> None:
    _GATES[key] = gate


def register_line_adjuster(key: str, adjuster: LineAdjuster) -> None:
    _ADJUSTERS[key] = adjuster


def lock_gates(*, batch, user) -> list[str]:
    """Every gate's warnings for locking the batch (a gate that refuses raises)."""
    warnings: list[str] = []
    for key in sorted(_GATES):
        warnings += _GATES[key](batch=batch, user=user)
    return warnings


def adjust_lines(*, batch, lines, user) -> None:
    for key in sorted(_ADJUSTERS):
        _ADJUSTERS[key](batch=batch, lines=lines, user=user)


def announce(*, batch, paid=(), released=(), user=None) -> None:
    paid, released = list(paid), list(released)
    if paid or released:
        lines_settled.send(sender=type(batch), batch=batch, paid=paid, released=released, user=user)
