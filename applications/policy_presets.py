"""Policy presets as plain data for the calculator.

maoming-2018: 茂民规〔2018〕3号 as tabulated in DOMAIN §5 (Preset A). Both outpatient kinds use the
门诊 column; outpatient and inpatient caps are separate pools; categories the plan does not name
(FP, BY, SW) get no benefit.
"""

from decimal import Decimal

from recipients.categories import Category

from .policy_engine import (
    CHRONIC,
    INPATIENT,
    OUTPATIENT,
    POOL_INPATIENT,
    POOL_OUTPATIENT,
    Band,
    FirstRoundRule,
    Policy,
    SecondaryRule,
)

CATEGORY_ORDER = ("TK", "GE", "DB", "JD", "QT", "DSR", "ZB", "FP", "BY", "SW")


def _first_round(ratio: str, cap: str | None) -> dict[str, FirstRoundRule]:
    cap_value = Decimal(cap) if cap is not None else None
    outpatient = FirstRoundRule(eligible=True, ratio=Decimal(ratio), cap=cap_value, pool=POOL_OUTPATIENT)
    inpatient = FirstRoundRule(eligible=True, ratio=Decimal(ratio), cap=cap_value, pool=POOL_INPATIENT)
    return {OUTPATIENT: outpatient, CHRONIC: outpatient, INPATIENT: inpatient}


def _secondary(deductible: str, ratio: str, cap: str) -> SecondaryRule:
    return SecondaryRule(deductible=Decimal(deductible), bands=(Band(None, Decimal(ratio)),), cap=Decimal(cap))


def maoming_2018() -> Policy:
    first = {}
    for categories, ratio, cap in ((("TK", "GE"), "1", None), (("DB", "JD", "QT"), "0.8", "60000")):
        for category in categories:
            for visit_type, rule in _first_round(ratio, cap).items():
                first[(category, visit_type)] = rule
    secondary = {
        "TK": _secondary("0", "1", "30000"),
        "GE": _secondary("0", "1", "30000"),
        "DB": _secondary("3000", "0.8", "30000"),
        "JD": _secondary("3000", "0.8", "30000"),
        "QT": _secondary("3000", "0.7", "20000"),
        "DSR": _secondary("3000", "0.7", "20000"),
        "ZB": _secondary("3000", "0.7", "20000"),
    }
    return Policy(
        name="茂名市医疗救助实施办法（茂民规〔2018〕3号）",
        first_round=first,
        secondary=secondary,
        category_order=CATEGORY_ORDER,
        category_names=dict(Category.choices),
    )
