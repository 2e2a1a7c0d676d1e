"""Policy presets as plain data, installed by `load_policy` and usable by the calculator directly.

- maoming-2018: 茂民规〔2018〕3号 as tabulated in DOMAIN §5 (Preset A). Both outpatient kinds use the
  门诊 column; outpatient and inpatient caps are separate pools; categories the plan does not name
  (FP, BY, SW) get no benefit.
- jiangmen-2019: 江府〔2019〕40号 as the Taishan reports give it (Preset B): DB 90%, TK 100% of in-policy
  self-pay; secondary assistance once the burden after assistance reaches 2,000. Everything the
  reports do not give is filled with a placeholder and listed in `to_confirm`.
- national-2021: 国办发〔2021〕42号 (Preset C): TK/DB at least 70% with no deductible, BY 10% and ZB 25%
  of the prior-year per-capita disposable income as deductibles, one shared cap pool.
"""

from decimal import Decimal

from recipients.categories import CATEGORY_ORDER, Category

from .engine import (
    CHRONIC,
    INPATIENT,
    OUTPATIENT,
    POOL_INPATIENT,
    POOL_OUTPATIENT,
    POOL_SHARED,
    Band,
    Deductible,
    FirstRoundRule,
    Policy,
    SecondaryRule,
)

VISIT_TYPES = (OUTPATIENT, CHRONIC, INPATIENT)
MATERIALS = [
    "医疗救助申请表",
    "申请人身份证或户口簿",
    "住院（门诊）医疗费用发票",
    "费用清单",
    "出院小结或诊断证明",
    "基本医保、大病保险结算单",
    "银行账户信息",
]
# Without these a case cannot be accepted, not even under 容缺受理: who applies, for which bills.
KEY_MATERIALS = ["医疗救助申请表", "申请人身份证或户口簿", "住院（门诊）医疗费用发票"]


def _separate(ratio: str, cap: str | None, deductible: Deductible | None = None) -> dict[str, FirstRoundRule]:
    cap_value = Decimal(cap) if cap is not None else None
    deductible = deductible or Deductible()
    outpatient = FirstRoundRule(True, Decimal(ratio), deductible, cap_value, POOL_OUTPATIENT)
    inpatient = FirstRoundRule(True, Decimal(ratio), deductible, cap_value, POOL_INPATIENT)
    return {OUTPATIENT: outpatient, CHRONIC: outpatient, INPATIENT: inpatient}


def _shared(ratio: str, cap: str | None, deductible: Deductible | None = None) -> dict[str, FirstRoundRule]:
    rule = FirstRoundRule(
        True, Decimal(ratio), deductible or Deductible(), Decimal(cap) if cap is not None else None, POOL_SHARED
    )
    return dict.fromkeys(VISIT_TYPES, rule)


def _secondary(deductible: str, ratio: str, cap: str | None, trigger: str = "0") -> SecondaryRule:
    return SecondaryRule(
        trigger=Decimal(trigger),
        deductible=Decimal(deductible),
        bands=(Band(None, Decimal(ratio)),),
        cap=Decimal(cap) if cap is not None else None,
    )


def _maoming() -> dict:
    first = {}
    for category in ("TK", "GE"):
        first[category] = _separate("1", None)
    for category in ("DB", "JD", "QT"):
        first[category] = _separate("0.8", "60000")
    return {
        "name": "茂名市进一步加强和改进医疗救助工作的实施方案",
        "document_number": "茂民规〔2018〕3号",
        "effective_from": "2018-12-25",
        "notes": "原文自发布之日起施行，有效期三年；新政策出台前延续执行。",
        "first_round": first,
        "secondary": {
            "TK": _secondary("0", "1", "30000"),
            "GE": _secondary("0", "1", "30000"),
            "DB": _secondary("3000", "0.8", "30000"),
            "JD": _secondary("3000", "0.8", "30000"),
            "QT": _secondary("3000", "0.7", "20000"),
            "DSR": _secondary("3000", "0.7", "20000"),
            "ZB": _secondary("3000", "0.7", "20000"),
        },
        "key_categories": ["TK", "GE", "DB", "JD"],
        "to_confirm": ["有效期：原文有效期三年，是否延续执行请确认"],
    }


def _jiangmen() -> dict:
    return {
        "name": "江门市医疗救助办法（台山市执行）",
        "document_number": "江府〔2019〕40号",
        "effective_from": "2019-10-01",
        "notes": "比例与二次救助启动标准取自台山市工作报告；其余参数待确认。",
        "first_round": {
            "TK": _separate("1", None),
            "GE": _separate("1", None),
            "DB": _separate("0.9", None),
            "JD": _separate("0.9", None),
        },
        "secondary": {
            "TK": _secondary("0", "1", None, trigger="2000"),
            "DB": _secondary("0", "0.7", None, trigger="2000"),
        },
        "key_categories": ["TK", "GE", "DB", "JD"],
        "to_confirm": [
            "生效日期",
            "第一轮救助年度封顶线（报告未给出，暂按不封顶）",
            "孤儿、建档立卡人员的救助比例（暂按特困、低保标准）",
            "二次救助比例与封顶线（报告未给出，暂按特困 100%、低保 70%、不封顶）",
            "2022 年起新增的易返贫致贫人口、低保边缘家庭成员、事实无人抚养儿童等类别（报告：不低于 70%）",
        ],
    }


def _national() -> dict:
    first = {}
    for category in ("TK", "GE", "DB", "SW"):
        first[category] = _shared("0.7", "60000")
    first["BY"] = _shared("0.6", "60000", Deductible("income_share", Decimal("0.10")))
    first["FP"] = _shared("0.6", "60000", Deductible("income_share", Decimal("0.10")))
    first["ZB"] = _shared("0.6", "60000", Deductible("income_share", Decimal("0.25")))
    return {
        "name": "国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见",
        "document_number": "国办发〔2021〕42号",
        "effective_from": "2022-01-01",
        "notes": "门诊慢特病与住院共用年度救助限额。",
        "first_round": first,
        "secondary": {
            category: _secondary("0", "0.7", "30000") for category in ("TK", "GE", "DB", "SW", "BY", "FP", "ZB")
        },
        "key_categories": ["TK", "GE", "DB", "SW", "BY", "FP"],
        "to_confirm": [
            "年度救助限额（文件要求各地确定，暂按 60,000 元）",
            "低保边缘家庭成员、监测对象、因病致贫重病患者的救助比例（暂按 60%）",
            "二次救助比例与封顶线（暂按 70%、30,000 元）",
        ],
    }


PRESETS = {"maoming-2018": _maoming, "jiangmen-2019": _jiangmen, "national-2021": _national}


def preset(name: str) -> dict:
    try:
        return PRESETS[name]()
    except KeyError:
        raise KeyError(f"未知的预置方案“{name}”，可选：{'、'.join(PRESETS)}") from None


def policy_from_preset(name: str, *, prior_year_income: Decimal | None = None) -> Policy:
    spec = preset(name)
    first_round = {
        (category, visit_type): rule
        for category, rules in spec["first_round"].items()
        for visit_type, rule in rules.items()
    }
    return Policy(
        name=f"{spec['name']}（{spec['document_number']}）",
        first_round=first_round,
        secondary=spec["secondary"],
        category_order=CATEGORY_ORDER,
        prior_year_income=prior_year_income,
        category_names=dict(Category.choices),
    )


def maoming_2018() -> Policy:
    return policy_from_preset("maoming-2018")
