"""What a paid case owes back (追回, DOMAIN §12.2), as the case and the person-year ledger keep it.

The supervision app keeps the recoveries themselves (reason, evidence, repayments); the money facts of the case
live here, beside the other invariants of a case's money:

- `case_reserve_recovery`: a recovery is registered against a paid case with the case row locked, and never past
  what was paid (also a database constraint on Case, so two recoveries recorded at the same moment cannot pass it);
- `case_give_back`: what came back (returned to the fund account, or offset against a later payout) is given back
  to the person-year ledger — the cap room the case used, and, once the whole case has come back, the deductible
  it used — and is no longer counted as first-round assistance in the yearly burden (Bill.recovered).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F

from ..models import Bill, Case, LedgerEntry
from ..policy import engine
from ..policy.ledger import ledger_give_back
from .workflow import TransitionRefused

ZERO = Decimal("0")


def recoverable(case: Case) -> Decimal:
    """What may still be registered as owed back on the case: paid, less the recoveries already registered."""
    if case.status != Case.Status.PAID:
        return ZERO
    return max(ZERO, (case.approved_amount or ZERO) - case.recoveries_total)


def case_reserve_recovery(*, case_id: int, amount: Decimal) -> Case:
    """Register `amount` as owed back on a paid case, with the case row locked: refused unless the case is 已发放
    and the recoveries registered on it stay within what was paid. Call inside the transaction that records the
    recovery."""
    locked = Case.objects.select_for_update().get(pk=case_id)
    if locked.status != Case.Status.PAID:
        raise TransitionRefused(f"案件当前为“{locked.get_status_display()}”：只能对已发放的案件登记追回")
    if amount is None or amount <= 0:
        raise TransitionRefused("追回金额须大于 0")
    left = recoverable(locked)
    if amount > left:
        raise TransitionRefused(
            f"追回金额 {engine.yuan(amount)}超过可追回金额：已发放 {engine.yuan(locked.approved_amount)}，"
            f"已登记追回 {engine.yuan(locked.recoveries_total)}，最多还可登记 {engine.yuan(left)}"
        )
    Case.objects.filter(pk=locked.pk).update(recoveries_total=F("recoveries_total") + amount)
    locked.recoveries_total += amount
    return locked


@dataclass
class GiveBack:
    """What one repayment gave back: per (year, pool), and whether the whole case has now come back."""

    pools: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    deductible: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    whole_case: bool = False
    years: set[int] = field(default_factory=set)


def case_give_back(*, case_id: int, amount: Decimal, disallow: bool = False) -> GiveBack:
    """Money of a paid case came back (`amount`): the case and its bills record it, the ledger gives it back.

    A first-round case gives back bill by bill in the order of its calculation, each bill up to what it was
    granted; a secondary case gives back its year's 二次救助 pool. When the whole paid amount has come back, the
    deductible the case's bills used is given back too (the case is undone), and with `disallow` (身份不符,
    重复享受, 欺诈骗保) its bills stop counting in the yearly burden at all. Rows locked; call inside the
    transaction that records the repayment."""
    locked = Case.objects.select_for_update().get(pk=case_id)
    if amount <= 0 or locked.recovered_amount + amount > locked.recoveries_total:
        raise TransitionRefused("追回到账金额超过登记的追回金额")
    result = GiveBack()
    left = amount
    if locked.source == Case.Source.SECONDARY:
        ledger_give_back(person_id=locked.person_id, year=locked.year, pool=LedgerEntry.SECONDARY, granted=amount)
        result.pools[(locked.year, LedgerEntry.SECONDARY)] = amount
        result.years.add(locked.year)
    else:
        bills = {b.pk: b for b in Bill.objects.select_for_update().filter(case=locked)}
        for line in locked.calculation:
            bill = bills.get(line.get("bill"))
            if bill is None or line.get("pool") is None or left <= 0:
                continue
            take = min(left, (bill.granted or ZERO) - bill.recovered)
            if take <= 0:
                continue
            bill.recovered += take
            left -= take
            key = (int(line["year"]), line["pool"])
            ledger_give_back(person_id=locked.person_id, year=key[0], pool=key[1], granted=take)
            result.pools[key] = result.pools.get(key, ZERO) + take
            result.years.add(key[0])
        Bill.objects.bulk_update(list(bills.values()), ["recovered"])
    locked.recovered_amount += amount
    result.whole_case = locked.recovered_amount >= (locked.approved_amount or ZERO)
    if result.whole_case and locked.source != Case.Source.SECONDARY:
        for line in locked.calculation:
            used = Decimal(line.get("deductible_applied") or "0")
            if line.get("pool") is None or used <= 0:
                continue
            key = (int(line["year"]), line["pool"])
            ledger_give_back(person_id=locked.person_id, year=key[0], pool=key[1], granted=ZERO, deductible_used=used)
            result.deductible[key] = result.deductible.get(key, ZERO) + used
            result.years.add(key[0])
        if disallow:
            Bill.objects.filter(case=locked).update(disallowed=True)
    Case.objects.filter(pk=locked.pk).update(recovered_amount=F("recovered_amount") + amount)
    return result
