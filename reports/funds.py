"""The fund of a county and year (DOMAIN §10, §12.2), one definition for the dashboard, the Excel report and the
gate before payouts.

received  what arrived for the year (救助资金到账, by source)
spent     what payout batches paid in the year plus what hospitals paid one-stop (from the summary) plus the
          premiums paid for the listed people reported enrolled in the insurance year (资助参保) plus the service fee
          paid to an insurer running assistance (DOMAIN §12.5: the assistance it reimburses is counted above, where
          it was paid)
returned  what recoveries brought back into the fund account in the year (退回基金账户; an offset is not money
          returned: the payout it was kept back from paid that much less, so it is already out of `spent`)
balance   received − spent + returned
in flight batches locked and not yet settled by the bank: their lines still waiting (the current year only)
available balance − in flight

**Funds before payouts**: locking a batch is refused when the county's available funds for the year would go below
zero with it (exactly zero is allowed), and warned of from 90% used; an administrator's 资金不足放行 for the
batch's total as it stands lets it through, saying so (payouts.offsets.batch_override_funds).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from applications.policy.engine import yuan
from payouts.models import PayoutBatch, PayoutLine
from payouts.services import PayoutRefused
from subsidies.selectors import subsidy_spending
from supervision.models import Repayment

from .models import AssistanceFact, Channel, FundEntry, FundOutlay

ZERO = Decimal("0")
WARN_FROM = Decimal("0.90")
IN_FLIGHT = [PayoutBatch.Status.LOCKED, PayoutBatch.Status.REVIEWED, PayoutBatch.Status.EXPORTED]
IN_FLIGHT += [PayoutBatch.Status.RETURNED]


@dataclass
class FundPosition:
    year: int
    income: dict[str, Decimal] = field(default_factory=dict)
    received: Decimal = ZERO
    paid_out: Decimal = ZERO
    onestop: Decimal = ZERO
    subsidy: Decimal = ZERO
    insurer_fee: Decimal = ZERO
    to_insurer: Decimal = ZERO  # paid to the insurer by statement, net of what it returned
    returned: Decimal = ZERO
    in_flight: Decimal = ZERO

    @property
    def spent(self) -> Decimal:
        return self.paid_out + self.onestop + self.subsidy + self.insurer_fee

    @property
    def balance(self) -> Decimal:
        return self.received - self.spent + self.returned

    @property
    def available(self) -> Decimal:
        return self.balance - self.in_flight

    def used_share(self, more: Decimal = ZERO) -> Decimal | None:
        """What is spent or committed (net of what came back), with `more`, as a share of what was received."""
        if not self.received:
            return None
        return (self.received - self.available + more) / self.received


def fund_position(year: int, county=None) -> FundPosition:
    """One county's fund (funds are kept by county), or every county's together."""
    entries = FundEntry.objects.filter(year=year)
    paid = PayoutLine.objects.filter(status=PayoutLine.Status.PAID, resolved_at__year=year)
    onestop = AssistanceFact.objects.filter(year=year, channel=Channel.ONESTOP)
    returned = Repayment.objects.filter(
        kind=Repayment.Kind.RETURNED, status=Repayment.Status.DONE, received_on__year=year
    )
    waiting = PayoutLine.objects.filter(live=True, status=PayoutLine.Status.PENDING, batch__status__in=IN_FLIGHT)
    if county is not None:
        entries = entries.filter(county=county)
        paid = paid.filter(batch__county=county)
        onestop = onestop.filter(township__county=county)
        returned = returned.filter(recovery__township__county=county)
        waiting = waiting.filter(batch__county=county)
    position = FundPosition(year=year)
    position.income = {row["source"]: row["total"] for row in entries.values("source").annotate(total=Sum("amount"))}
    position.received = sum(position.income.values(), ZERO)
    position.paid_out = paid.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    position.onestop = onestop.aggregate(total=Coalesce(Sum("assisted"), ZERO))["total"]
    position.subsidy = subsidy_spending(year=year, county=county)
    outlays = FundOutlay.objects.filter(year=year)
    if county is not None:
        outlays = outlays.filter(county=county)
    signed = outlays.aggregate(
        paid=Coalesce(Sum("amount", filter=Q(kind=FundOutlay.Kind.INSURER)), ZERO),
        returned=Coalesce(Sum("amount", filter=Q(kind=FundOutlay.Kind.INSURER_REFUND)), ZERO),
        fee=Coalesce(Sum("fee"), ZERO),
    )
    position.insurer_fee = signed["fee"]
    position.to_insurer = signed["paid"] - signed["returned"]
    position.returned = returned.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    if year == timezone.localdate().year:
        position.in_flight = waiting.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    return position


def funds_gate(*, batch: PayoutBatch, user) -> list[str]:
    """The lock gate (payouts.hooks): refused past the available funds unless overridden for this total; a warning
    from 90% used."""
    if batch.county_id is None:
        return []
    position = fund_position(timezone.localdate().year, batch.county)
    after = position.available - batch.total
    share = position.used_share(batch.total)
    figures = (
        f"{position.year} 年到账 {yuan(position.received)}，已支出 {yuan(position.spent)}，"
        f"追回退回 {yuan(position.returned)}，在途批次 {yuan(position.in_flight)}，"
        f"可用 {yuan(position.available)}；本批次 {yuan(batch.total)}"
    )
    if after < 0:
        if batch.funds_override_by_id is not None and batch.funds_override_total == batch.total:
            return [
                f"可用资金不足（{figures}，锁定后差 {yuan(-after)}），"
                f"已由 {batch.funds_override_by.display_name} 放行：{batch.funds_override_reason}"
            ]
        raise PayoutRefused(
            f"可用资金不足，不能锁定：{figures}，锁定后将差 {yuan(-after)}。"
            "请先登记到账资金（系统管理 → 救助资金到账），或由系统管理员在“资金监控”中写明原因放行本批次"
        )
    if share is not None and share >= WARN_FROM:
        return [f"资金使用已达 {share * 100:.1f}%（{figures}，锁定后剩余 {yuan(after)}），请关注资金到账"]
    return []
