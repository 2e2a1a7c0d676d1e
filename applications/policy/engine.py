"""The assistance calculator: pure functions over plain values (no ORM), each result explained.

DOMAIN §4 (the arithmetic of one settlement) and §5 (first-round and secondary assistance). The
policy (ratios, deductibles, caps, bands) is data passed in; the person-year ledger state is passed
in and the changes to post are returned, so the same code serves a what-if calculation, an
application's review and the batch jobs.

Money is Decimal throughout and rounded half-up to 0.01 where an amount is produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from recipients.categories import by_precedence
from settlements.visits import VISIT_TYPES, Pool, VisitType

ZERO = Decimal("0")
CENT = Decimal("0.01")

OUTPATIENT = VisitType.OUTPATIENT.value
CHRONIC = VisitType.CHRONIC.value
INPATIENT = VisitType.INPATIENT.value

# Cap pools: separate outpatient and inpatient pools, or one pool for both (national 2021 rule).
POOL_OUTPATIENT = Pool.OUTPATIENT.value
POOL_INPATIENT = Pool.INPATIENT.value
POOL_SHARED = Pool.SHARED.value


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Decimal | None) -> str:
    """1,234.50 元 / 不封顶 for explanations."""
    if value is None:
        return "不封顶"
    return f"{money(value):,.2f} 元"


def percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


# --- policy as data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Deductible:
    """起付线: none, a fixed yearly amount, or a share of the prior-year per-capita disposable income."""

    kind: str = "none"  # "none" | "fixed" | "income_share"
    value: Decimal = ZERO  # yuan for "fixed", a ratio (0.10 = 10%) for "income_share"

    def yearly_amount(self, prior_year_income: Decimal | None) -> Decimal:
        if self.kind == "none":
            return ZERO
        if self.kind == "fixed":
            return self.value
        if self.kind == "income_share":
            if prior_year_income is None:
                raise PolicyError("起付线按上年人均可支配收入计算，但未设置该年度的收入标准")
            return money(self.value * prior_year_income)
        raise PolicyError(f"未知的起付线类型：{self.kind}")

    def describe(self, prior_year_income: Decimal | None) -> str:
        if self.kind == "none":
            return "无起付线"
        if self.kind == "fixed":
            return f"年度起付线 {yuan(self.value)}"
        return (
            f"年度起付线为上年人均可支配收入的 {percent(self.value)}，即 {yuan(self.yearly_amount(prior_year_income))}"
        )


@dataclass(frozen=True)
class FirstRoundRule:
    """First-round assistance of one category for one visit type."""

    eligible: bool
    ratio: Decimal = ZERO
    deductible: Deductible = field(default_factory=Deductible)
    cap: Decimal | None = None  # yearly cap of the pool; None = uncapped
    pool: str = POOL_INPATIENT


@dataclass(frozen=True)
class Band:
    """分段梯度: the part of the amount up to `upto` (None: no upper end) is paid at `ratio`."""

    upto: Decimal | None
    ratio: Decimal


@dataclass(frozen=True)
class SecondaryRule:
    trigger: Decimal = ZERO  # pay nothing while the year's burden is below this
    deductible: Decimal = ZERO  # subtracted from the burden before the bands
    bands: tuple[Band, ...] = (Band(None, Decimal("1")),)
    cap: Decimal | None = None


@dataclass(frozen=True)
class Policy:
    name: str
    first_round: Mapping[tuple[str, str], FirstRoundRule]  # (category, visit type) -> rule
    secondary: Mapping[str, SecondaryRule]  # category -> rule
    category_order: tuple[str, ...] = ()  # tie-break: earlier is preferred
    prior_year_income: Decimal | None = None
    category_names: Mapping[str, str] = field(default_factory=dict)  # code -> name, for explanations

    def category_name(self, code: str | None) -> str:
        return self.category_names.get(code, code) if code else ""

    def rule(self, category: str, visit_type: str) -> FirstRoundRule:
        return self.first_round.get((category, visit_type), FirstRoundRule(eligible=False))

    def ranked(self, categories: Iterable[str]) -> list[str]:
        """The categories, each once, most favoured first (the policy's order breaks ties of 就高不重复)."""
        return by_precedence(categories, self.category_order)

    def favoured_eligible(self, categories: Iterable[str], visit_type: str) -> str | None:
        """The most favoured category with a first-round benefit for the visit type: the one whose pool a
        hospital's one-stop assistance used (the extract does not say which)."""
        for category in self.ranked(categories):
            if self.rule(category, visit_type).eligible:
                return category
        return None


class PolicyError(ValueError):
    """The policy cannot answer (missing parameter); the message is shown to the user."""


# --- one settlement -------------------------------------------------------------------------


@dataclass(frozen=True)
class Amounts:
    """The money fields of a settlement or bill (DOMAIN §4)."""

    total: Decimal  # T 医疗总费用
    in_policy: Decimal  # P 政策范围内费用
    basic: Decimal = ZERO  # B 基本医保统筹支付
    critical: Decimal = ZERO  # C 大病保险支付
    other: Decimal = ZERO  # O 其他保险支付
    donation: Decimal = ZERO  # D 社会捐赠
    onestop_assistance: Decimal = ZERO  # A0 一站式已支付的医疗救助

    @classmethod
    def of(cls, record, *, onestop: str | None = None) -> Amounts:
        """The money fields of a settlement or bill (anything with total, in_policy, basic, critical, other and
        optionally donation); `onestop` names the attribute holding A0."""
        return cls(
            total=record.total,
            in_policy=record.in_policy,
            basic=record.basic,
            critical=record.critical,
            other=record.other,
            donation=getattr(record, "donation", ZERO),
            onestop_assistance=getattr(record, onestop) if onestop else ZERO,
        )

    def __post_init__(self):
        for name in ("total", "in_policy", "basic", "critical", "other", "donation", "onestop_assistance"):
            if getattr(self, name) < ZERO:
                raise PolicyError("金额不能为负数")
        if self.in_policy > self.total:
            raise PolicyError("政策范围内费用不能大于医疗总费用")
        if self.basic + self.critical + self.other + self.onestop_assistance > self.total:
            raise PolicyError("各项支付之和不能大于医疗总费用")

    @property
    def in_policy_self_pay(self) -> Decimal:
        """E = max(0, P − B − C − O): the base of first-round assistance."""
        return max(ZERO, self.in_policy - self.basic - self.critical - self.other)

    @property
    def burden_after_insurance(self) -> Decimal:
        """R = T − B − C − O − D."""
        return max(ZERO, self.total - self.basic - self.critical - self.other - self.donation)


@dataclass(frozen=True)
class PoolState:
    """What a person has used of one cap pool in one year."""

    deductible_used: Decimal = ZERO  # in-policy self-pay counted toward the deductible
    granted: Decimal = ZERO  # first-round assistance granted (one-stop and applications)

    def __add__(self, other: PoolState) -> PoolState:
        return PoolState(self.deductible_used + other.deductible_used, self.granted + other.granted)


EMPTY_POOL = PoolState()


def add_to_pool(pools: MutableMapping[str, PoolState], pool: str, change: PoolState) -> None:
    """Post a change to one pool of a person-year's running state (the ledger arithmetic, in memory)."""
    pools[pool] = pools.get(pool, EMPTY_POOL) + change


@dataclass(frozen=True)
class Step:
    label: str
    detail: str


@dataclass(frozen=True)
class FirstRoundResult:
    category: str | None
    visit_type: str
    pool: str | None
    amount: Decimal
    base: Decimal  # E
    deductible_applied: Decimal
    steps: tuple[Step, ...]

    def ledger_change(self) -> PoolState:
        """What to add to the pool's ledger row when this amount is granted."""
        return PoolState(deductible_used=self.deductible_applied, granted=self.amount)

    @property
    def explanation(self) -> str:
        return "\n".join(f"{s.label}：{s.detail}" for s in self.steps)


def first_round(
    policy: Policy,
    category: str,
    visit_type: str,
    amounts: Amounts,
    pool_state: PoolState,
    *,
    explain: bool = True,
) -> FirstRoundResult:
    """First-round assistance of one settlement for one category (DOMAIN §5).

    amount = ratio × (E beyond what remains of the year's deductible), limited by what remains
    of the year's cap pool; rounded half-up to 0.01; never negative. `explain=False` skips the
    explanation text (batch jobs over a million settlements).
    """
    if visit_type not in VISIT_TYPES:
        raise PolicyError(f"未知的就诊类型：{visit_type}")
    rule = policy.rule(category, visit_type)
    base = amounts.in_policy_self_pay
    if not rule.eligible:
        steps = ()
        if explain:
            steps = (
                _self_pay_step(amounts, base),
                Step("救助政策", f"{policy.category_name(category)}在“{visit_type}”无第一轮救助待遇"),
            )
        return FirstRoundResult(category, visit_type, None, ZERO, base, ZERO, steps)

    yearly_deductible = rule.deductible.yearly_amount(policy.prior_year_income)
    remaining_deductible = max(ZERO, yearly_deductible - pool_state.deductible_used)
    deductible_applied = min(base, remaining_deductible)
    raw = (base - deductible_applied) * rule.ratio
    cap_left = None if rule.cap is None else max(ZERO, rule.cap - pool_state.granted)
    amount = max(ZERO, money(raw if cap_left is None else min(raw, cap_left)))
    steps = ()
    if explain:
        cap_text = (
            f"{rule.pool}不封顶"
            if cap_left is None
            else f"{rule.pool}封顶 {yuan(rule.cap)}，本年已救助 {yuan(pool_state.granted)}，剩余 {yuan(cap_left)}"
        )
        steps = (
            _self_pay_step(amounts, base),
            Step(
                "起付线",
                f"{rule.deductible.describe(policy.prior_year_income)}；本年已计入 {yuan(pool_state.deductible_used)}，"
                f"本次扣除 {yuan(deductible_applied)}",
            ),
            Step("救助比例", f"({yuan(base)} − {yuan(deductible_applied)}) × {percent(rule.ratio)} = {yuan(raw)}"),
            Step("年度封顶线", cap_text),
            Step("本次救助金额", yuan(amount)),
        )
    return FirstRoundResult(category, visit_type, rule.pool, amount, base, deductible_applied, steps)


def _self_pay_step(amounts: Amounts, base: Decimal) -> Step:
    return Step(
        "政策范围内个人自付",
        f"{yuan(amounts.in_policy)} − 统筹 {yuan(amounts.basic)} − 大病 {yuan(amounts.critical)} − "
        f"其他保险 {yuan(amounts.other)} = {yuan(base)}",
    )


def onestop_ledger_change(
    policy: Policy, category: str, visit_type: str, amounts: Amounts, pool_state: PoolState
) -> PoolState:
    """What a one-stop settlement already assisted (A0 > 0) uses of the year's deductible and cap.

    DOMAIN §5: such settlements count against the same year's deductible and cap. The assistance
    itself was paid at the hospital; the deductible it used is the part of E the remaining deductible
    absorbed under this category's rule.
    """
    rule = policy.rule(category, visit_type)
    deductible_used = ZERO
    if rule.eligible:
        yearly = rule.deductible.yearly_amount(policy.prior_year_income)
        deductible_used = min(amounts.in_policy_self_pay, max(ZERO, yearly - pool_state.deductible_used))
    return PoolState(deductible_used=deductible_used, granted=amounts.onestop_assistance)


def onestop_posting(
    policy: Policy, categories: Iterable[str], visit_type: str, amounts: Amounts, pools: Mapping[str, PoolState]
) -> tuple[str, PoolState] | None:
    """The pool and the change a one-stop settlement already assisted (A0 > 0) posts, or None when no
    category valid that day has a first-round benefit for the visit type.

    The pool is that of the most favoured eligible category; when its deductible cannot be worked out (an
    income standard missing), what was paid still counts against the cap.
    """
    category = policy.favoured_eligible(categories, visit_type)
    if category is None:
        return None
    pool = policy.rule(category, visit_type).pool
    try:
        change = onestop_ledger_change(policy, category, visit_type, amounts, pools.get(pool, EMPTY_POOL))
    except PolicyError:
        change = PoolState(ZERO, amounts.onestop_assistance)
    return pool, change


def best_first_round(
    policy: Policy,
    categories: Iterable[str],
    visit_type: str,
    amounts: Amounts,
    ledger: Mapping[str, PoolState],
    *,
    explain: bool = True,
) -> FirstRoundResult:
    """Evaluate every identity valid on the service date and keep the most favourable (就高不重复).

    `ledger` maps a pool name to the person-year state of that pool. Ties go to the category
    listed first in the policy's order.
    """
    categories = list(categories)
    if not categories:
        base = amounts.in_policy_self_pay
        return FirstRoundResult(
            None,
            visit_type,
            None,
            ZERO,
            base,
            ZERO,
            (Step("救助身份", "就诊日期当天没有有效的救助身份，不予救助"),),
        )
    results, failure = [], None
    for c in policy.ranked(categories):
        try:
            results.append(
                first_round(
                    policy,
                    c,
                    visit_type,
                    amounts,
                    ledger.get(policy.rule(c, visit_type).pool, EMPTY_POOL),
                    explain=explain,
                )
            )
        except PolicyError as exc:  # e.g. an income standard missing for this category's deductible
            failure = failure or exc
    if failure is not None and all(r.pool is None for r in results):
        # Only categories without a benefit answered: the one that has a benefit could not be calculated, and
        # its reason (an income standard missing) must be said, not hidden behind a 0.00.
        raise failure
    # The highest amount; on a tie a category with a benefit, whose pool then records the deductible the bill
    # used (a tie at 0.00 with a category without benefit lost it, and a later bill paid the deductible again);
    # then the policy's order (max keeps the first of equal keys).
    best = max(results, key=lambda r: (r.amount, r.pool is not None))
    if not explain:
        return best
    if len(results) > 1:
        compared = "，".join(f"{policy.category_name(r.category)} {yuan(r.amount)}" for r in results)
        choice = Step(
            "救助身份",
            f"当天有效身份 {len(results)} 个（{compared}），按就高不重复取{policy.category_name(best.category)}",
        )
    else:
        choice = Step("救助身份", f"当天有效身份：{policy.category_name(best.category)}")
    return FirstRoundResult(
        best.category,
        best.visit_type,
        best.pool,
        best.amount,
        best.base,
        best.deductible_applied,
        (choice, *best.steps),
    )


# --- secondary assistance -------------------------------------------------------------------


def bands_amount(bands: Iterable[Band], amount: Decimal) -> Decimal:
    """Progressive bands: each slice of `amount` is paid at its band's ratio."""
    total = ZERO
    lower = ZERO
    for band in bands:
        if amount <= lower:
            break
        upper = amount if band.upto is None else min(amount, band.upto)
        total += (upper - lower) * band.ratio
        if band.upto is None:
            break
        lower = band.upto
    return total


@dataclass(frozen=True)
class SecondaryResult:
    category: str
    due: Decimal  # what the year's burden entitles the person to, in total
    already_granted: Decimal
    pay_now: Decimal
    steps: tuple[Step, ...]

    @property
    def explanation(self) -> str:
        return "\n".join(f"{s.label}：{s.detail}" for s in self.steps)


def secondary(policy: Policy, category: str, burden: Decimal, already_granted: Decimal) -> SecondaryResult:
    """Secondary assistance of one person-year (DOMAIN §5).

    `burden` is Σ personal burden after first-round assistance over the year's counted settlements.
    Nothing is paid below the trigger; due = min(cap, bands(burden − deductible)); what is paid now
    is due − already granted, never negative, so recomputing never pays twice.
    """
    rule = policy.secondary.get(category)
    steps = [Step("年度个人负担", f"第一轮救助后个人负担合计 {yuan(burden)}")]
    if rule is None:
        steps.append(Step("救助政策", f"{policy.category_name(category)}无二次救助待遇"))
        return SecondaryResult(category, ZERO, already_granted, ZERO, tuple(steps))
    if burden < rule.trigger:
        steps.append(Step("启动标准", f"个人负担未达到 {yuan(rule.trigger)}，不启动二次救助"))
        due = ZERO
    else:
        over = max(ZERO, burden - rule.deductible)
        steps.append(Step("起付线", f"{yuan(burden)} − 起付线 {yuan(rule.deductible)} = {yuan(over)}"))
        raw = bands_amount(rule.bands, over)
        if len(rule.bands) == 1 and rule.bands[0].upto is None:
            band_text = f"按 {percent(rule.bands[0].ratio)}"
        else:
            band_text = "；".join(
                f"{'其余' if b.upto is None else yuan(b.upto) + ' 以内'}按 {percent(b.ratio)}" for b in rule.bands
            )
        steps.append(Step("救助比例", f"{band_text}，计 {yuan(raw)}"))
        due = money(raw if rule.cap is None else min(raw, rule.cap))
        cap_text = "不封顶" if rule.cap is None else f"封顶 {yuan(rule.cap)}"
        steps.append(Step("年度封顶线", f"{cap_text}，应救助 {yuan(due)}"))
    pay_now = max(ZERO, due - already_granted)
    steps.append(Step("本次救助金额", f"应救助 {yuan(due)} − 已救助 {yuan(already_granted)} = {yuan(pay_now)}"))
    return SecondaryResult(category, due, already_granted, pay_now, tuple(steps))


def best_secondary(
    policy: Policy, categories: Iterable[str], burden: Decimal, already_granted: Decimal
) -> SecondaryResult:
    """The most favourable category among the person's identities (就高不重复)."""
    results = [secondary(policy, c, burden, already_granted) for c in policy.ranked(categories)]
    if not results:
        return SecondaryResult("", ZERO, already_granted, ZERO, (Step("救助身份", "没有有效的救助身份"),))
    return max(results, key=lambda r: r.due)
