"""Premium-subsidy presets as plain data, installed by `load_subsidy_rules PRESET --year Y [--premium A]`.

Values the source documents do not give are marked 待确认 (to_confirm); a rule set holding any stays a draft
until the administrator confirms them on its page.

- jiangmen-2022: 江门 (seed 003, 台山 2022; seed 000, 江府〔2019〕40号): the personal premium of every income-type
  assistance category (特困, 孤儿, 低保, 低收入, 建档立卡/脱贫) is paid in full; from 2022 the three categories
  added that year (易返贫致贫人口, 低保边缘家庭成员, 事实无人抚养儿童) in full too. 因病致贫重病患者 (支出型) and the
  other special-hardship people are not income-type categories: not subsidised.
- national-2021: 国办发〔2021〕42号: 特困 in full, 低保 and 返贫致贫人口 by a fixed amount (the amounts are set
  locally: 待确认), the other categories by local rule (待确认).
- maoming-2018: 茂名 (茂民规〔2018〕3号's recipients): 特困 and 孤儿 in full, 低保 and 建档立卡 by a fixed amount
  (amounts 待确认); the plan's other recipients (县级以上人民政府认定的其他特殊困难人员) 待确认.

The year's personal premium is not in any seed: given with --premium, else 待确认. People who gain an identity
during the year (当年新增) are subsidised, as DOMAIN §12.1 has it; a county that refunds instead, or does neither,
unticks it on the rule set's page.
"""

from decimal import Decimal

from recipients.categories import CATEGORY_ORDER

FULL, FIXED, NONE = "full", "fixed", "none"


def _rule(mode: str, *, confirm: bool = False, note: str = "", amount: str | None = None) -> dict:
    return {
        "mode": mode,
        "amount": Decimal(amount) if amount is not None else None,
        "to_confirm": confirm,
        "note": note,
    }


def _jiangmen(year: int) -> dict:
    income = "收入型救助对象，个人缴费部分由政府全额资助（江府〔2019〕40号）"
    added = "2022 年起新增，由医疗救助基金全额资助（台山 2022）"
    rules = {
        "TK": _rule(FULL, note=income),
        "GE": _rule(FULL, note=income),
        "DB": _rule(FULL, note=income),
        "DSR": _rule(FULL, note=income),
        "JD": _rule(FULL, note="精准扶贫重点帮扶对象，全额资助（江府〔2019〕40号）"),
        "ZB": _rule(NONE, note="支出型重病患者不属收入型救助对象"),
        "QT": _rule(NONE, note="非收入型救助对象，报告未提及"),
    }
    for category in ("FP", "BY", "SW"):
        rules[category] = _rule(FULL, note=added) if year >= 2022 else _rule(NONE, note="2022 年起纳入")
    return {
        "name": "江门市困难群众资助参加城乡居民医保（台山市执行）",
        "document_number": "江府〔2019〕40号",
        "notes": "收入型医疗救助对象全额资助；2022 年起新增的 3 类对象全额资助。个人缴费标准报告未给出。",
        "rules": rules,
    }


def _national(year: int) -> dict:
    local = "由各地按当地规定确定"
    rules = {category: _rule(NONE, confirm=True, note=local) for category in CATEGORY_ORDER}
    rules["TK"] = _rule(FULL, note="对特困人员给予全额资助（国办发〔2021〕42号）")
    rules["DB"] = _rule(FIXED, confirm=True, note="对低保对象给予定额资助，金额由各地确定")
    rules["FP"] = _rule(FIXED, confirm=True, note="对返贫致贫人口给予定额资助，金额由各地确定")
    return {
        "name": "国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见（分类资助参保）",
        "document_number": "国办发〔2021〕42号",
        "notes": "特困全额资助，低保、返贫致贫人口定额资助；其他类别按当地规定。",
        "rules": rules,
    }


def _maoming(year: int) -> dict:
    return {
        "name": "茂名市困难群众资助参加城乡居民医保",
        "document_number": "茂民规〔2018〕3号",
        "notes": "保障对象按茂民规〔2018〕3号；定额资助金额文件未给出。",
        "rules": {
            "TK": _rule(FULL, note="特困供养人员全额资助"),
            "GE": _rule(FULL, note="孤儿与特困供养人员同等保障"),
            "DB": _rule(FIXED, confirm=True, note="定额资助，金额文件未给出"),
            "JD": _rule(FIXED, confirm=True, note="建档立卡扶贫对象定额资助，金额文件未给出"),
            "QT": _rule(NONE, confirm=True, note="方案的保障对象，资助参保文件未提及"),
        },
    }


PRESETS = {"jiangmen-2022": _jiangmen, "national-2021": _national, "maoming-2018": _maoming}
# The presets as the pages name them (the codes are the command line's).
PRESET_NAMES = {
    "jiangmen-2022": "江门市 2022 年",
    "national-2021": "国家框架 2021 年",
    "maoming-2018": "茂名市 2018 年",
}


def preset(name: str, *, year: int, premium: Decimal | None = None) -> dict:
    """The preset's rules for an insurance year, with the premium if it is known."""
    try:
        spec = PRESETS[name](year)
    except KeyError:
        raise KeyError(f"未知的预置方案“{name}”，可选：{'、'.join(PRESETS)}") from None
    spec["premium"] = premium
    spec["new_in_year"] = True
    return spec
