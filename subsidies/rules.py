"""The arithmetic of a premium subsidy, on plain values (no ORM): what a rule pays, which rule is the most
favourable when a person holds several identities (就高不重复), and which rule rows may be saved.

DOMAIN §12.1: the personal premium of 城乡居民医保 is paid by the assistance fund in full (全额资助) or by a fixed
amount (定额资助), per category and year; a person is subsidised once, at the most favourable rule."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from recipients.categories import CATEGORY_ORDER, Category

FULL, FIXED, NONE = "full", "fixed", "none"
MODES = (FULL, FIXED, NONE)
ZERO = Decimal("0")
CENT = Decimal("0.01")
CATEGORY_NAMES = dict(Category.choices)


@dataclass(frozen=True)
class Rule:
    category: str
    mode: str
    amount: Decimal | None = None  # the fixed amount (定额); None for 全额 and 不资助, or while it is 待确认


def subsidy(rule: Rule, premium: Decimal) -> Decimal | None:
    """What the fund pays of the premium under the rule: the premium in full, the fixed amount (never more than
    the premium), nothing; None while a fixed amount is not known."""
    if rule.mode == FULL:
        return premium
    if rule.mode == FIXED:
        return None if rule.amount is None else min(rule.amount, premium)
    return ZERO


def precedence(rule: Rule, premium: Decimal) -> tuple:
    """Sort key of rules, most favourable first: the larger subsidy, then 全额 before 定额, then the category's
    precedence (recipients.categories.CATEGORY_ORDER)."""
    amount = subsidy(rule, premium) or ZERO
    order = CATEGORY_ORDER.index(rule.category) if rule.category in CATEGORY_ORDER else len(CATEGORY_ORDER)
    return (-amount, 0 if rule.mode == FULL else 1, order)


def paying(rules: Iterable[Rule], premium: Decimal) -> list[Rule]:
    """The rules that pay something, most favourable first (the order the list builder ranks identities by)."""
    found = [r for r in rules if r.mode != NONE and (subsidy(r, premium) or ZERO) > 0]
    return sorted(found, key=lambda r: precedence(r, premium))


def most_favourable(categories: Iterable[str], rules: Iterable[Rule], premium: Decimal) -> Rule | None:
    """The rule a person holding identities of these categories is subsidised by, once (就高不重复)."""
    held = set(categories)
    for rule in paying(rules, premium):
        if rule.category in held:
            return rule
    return None


def rule_errors(rules: Iterable[Rule], premium: Decimal | None) -> list[str]:
    """Why a set of rule rows cannot be saved: a category listed twice, an unknown category or mode, a negative
    amount, an amount given for a mode that takes none, a fixed amount above the premium."""
    errors, seen = [], set()
    if premium is not None and premium < 0:
        errors.append("个人缴费标准不能为负数")
    for rule in rules:
        name = CATEGORY_NAMES.get(rule.category)
        if name is None:
            errors.append(f"未知的救助类别“{rule.category}”")
            continue
        if rule.category in seen:
            errors.append(f"{name}（{rule.category}）列了不止一次，每个类别只能有一条资助规则")
        seen.add(rule.category)
        if rule.mode not in MODES:
            errors.append(f"{name}：资助方式应为全额资助、定额资助或不资助")
            continue
        if rule.amount is not None and rule.amount < 0:
            errors.append(f"{name}：定额资助金额不能为负数")
        elif rule.amount is not None and rule.amount != rule.amount.quantize(CENT):
            errors.append(f"{name}：金额最多两位小数")
        elif rule.mode != FIXED and rule.amount not in (None, ZERO):
            errors.append(f"{name}：只有定额资助需要填写金额")
        elif rule.mode == FIXED and rule.amount is not None and premium is not None and rule.amount > premium:
            errors.append(f"{name}：定额资助金额 {rule.amount:,.2f} 元高于个人缴费标准 {premium:,.2f} 元")
    return errors
