"""The insurer's money rules (茂名 plan §二(五)) as pure functions over plain values: no ORM here.

- The county reimburses the insurer twice a year for the actual inpatient and secondary assistance of its
  recipients (by the end of July for January–June, by the end of December for July–December).
- The service fee is a share (0.8%) of the year's actual assistance spending, at most a cap (100,000 元) per
  county and year.
- Each March the prior year is cleared 多退少补: actual assistance + fee − the instalments paid = the balance,
  owed to the insurer when positive, to be returned by it when negative.
"""

import calendar
import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
PERIOD = re.compile(r"^\s*(\d{4})\s*[Hh]\s*([12])\s*$")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_period(text: str) -> tuple[int, int]:
    """'2026H1' → (2026, 1); '2026h2' → (2026, 2). ValueError otherwise."""
    match = PERIOD.match(text or "")
    if not match:
        raise ValueError(f"期间“{text}”应写作 2026H1（上半年）或 2026H2（下半年）")
    return int(match.group(1)), int(match.group(2))


def half_months(half: int) -> list[int]:
    return list(range(1, 7)) if half == 1 else list(range(7, 13))


def half_bounds(year: int, half: int) -> tuple[datetime.date, datetime.date]:
    return (
        (datetime.date(year, 1, 1), datetime.date(year, 6, 30))
        if half == 1
        else (
            datetime.date(year, 7, 1),
            datetime.date(year, 12, 31),
        )
    )


def contract_months(year: int, months: list[int], start: datetime.date, end: datetime.date) -> list[int]:
    """The months of the list that overlap the contract period: the summary is kept by month, so a contract that
    starts or ends within a month counts that month whole."""
    kept = []
    for month in months:
        first = datetime.date(year, month, 1)
        last = datetime.date(year, month, calendar.monthrange(year, month)[1])
        if first <= end and last >= start:
            kept.append(month)
    return kept


def due_date(year: int, month: int, day: int) -> datetime.date:
    """The day of the month, or the month's last day when it has fewer (31 June → 30 June)."""
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Fee:
    base: Decimal
    rate: Decimal
    cap: Decimal | None
    uncapped: Decimal  # rate × base, rounded to the cent
    amount: Decimal  # what is paid: the uncapped fee, or the cap when it binds
    capped: bool

    def explain(self) -> str:
        text = f"{self.base:,.2f} × {self.rate * 100:.2f}% = {self.uncapped:,.2f}"
        if self.capped:
            return f"{text}，超过每年上限 {self.cap:,.2f}，按上限计 {self.amount:,.2f}"
        return f"{text}（上限 {self.cap:,.2f}，未超过）" if self.cap is not None else f"{text}（不设上限）"


def service_fee(*, base: Decimal, rate: Decimal, cap: Decimal | None) -> Fee:
    """购买保险服务工作经费: rate × the year's actual assistance spending, at most the cap (never negative)."""
    base = max(ZERO, cents(base))
    uncapped = cents(base * Decimal(rate))
    capped = cap is not None and uncapped > cap
    return Fee(
        base=base,
        rate=Decimal(rate),
        cap=cap,
        uncapped=uncapped,
        amount=cents(cap) if capped else uncapped,
        capped=capped,
    )


def clearing_balance(*, assistance: Decimal, fee: Decimal, instalments: Decimal) -> Decimal:
    """多退少补: positive is owed to the insurer, negative is to be returned by it."""
    return cents(assistance) + cents(fee) - cents(instalments)


def direction_label(amount: Decimal) -> str:
    if amount > 0:
        return "应拨付承办保险机构"
    if amount < 0:
        return "承办保险机构应退回"
    return "无需结算"
