"""Assistance identity categories (DOMAIN §3) and the departments that send rosters."""

from django.db import models


class Category(models.TextChoices):
    TK = "TK", "特困供养人员"
    GE = "GE", "孤儿"
    DB = "DB", "最低生活保障对象"
    JD = "JD", "建档立卡贫困人口"
    FP = "FP", "易返贫致贫人口"
    BY = "BY", "低保边缘家庭成员"
    SW = "SW", "事实无人抚养儿童"
    DSR = "DSR", "低收入家庭成员"
    ZB = "ZB", "因病致贫重病患者"
    QT = "QT", "其他特殊困难人员"


# Precedence when a person holds several identities on one day and the amounts do not decide (就高不重复
# breaks ties this way, and reports count the person under the first): the highest protection first.
CATEGORY_ORDER = ("TK", "GE", "SW", "DB", "JD", "FP", "BY", "QT", "DSR", "ZB")


def by_precedence(categories, order=CATEGORY_ORDER) -> list[str]:
    """The categories, each once, in order of precedence (unknown codes last, in the order given)."""
    rank = {c: i for i, c in enumerate(order)}
    unique = list(dict.fromkeys(categories))
    return sorted(unique, key=lambda c: rank.get(c, len(rank)))


def most_favoured(categories, order=CATEGORY_ORDER) -> str:
    """The first category by precedence, or "" for none."""
    ranked = by_precedence(categories, order)
    return ranked[0] if ranked else ""


# Other names the departments' rosters use for the same categories.
CATEGORY_ALIASES = {
    "特困": Category.TK,
    "特困人员": Category.TK,
    "特困供养": Category.TK,
    "低保": Category.DB,
    "低保对象": Category.DB,
    "最低生活保障": Category.DB,
    "脱贫人口": Category.JD,
    "建档立卡": Category.JD,
    "建档立卡贫困人口/脱贫人口": Category.JD,
    "建档立卡贫困户": Category.JD,
    "脱贫户": Category.JD,
    "易返贫致贫人口（监测对象）": Category.FP,
    "因病致贫重病患者/支出型重病患者": Category.ZB,
    "孤儿（未满18周岁）": Category.GE,
    "监测对象": Category.FP,
    "易返贫致贫": Category.FP,
    "低保边缘": Category.BY,
    "边缘家庭": Category.BY,
    "低保边缘家庭": Category.BY,
    "低收入": Category.DSR,
    "低收入家庭": Category.DSR,
    "因病致贫": Category.ZB,
    "支出型重病患者": Category.ZB,
    "重病患者": Category.ZB,
    "县级以上人民政府认定的其他特殊困难人员": Category.QT,
    "其他": Category.QT,
}


class Source(models.TextChoices):
    MZ = "MZ", "民政"
    XCZX = "XCZX", "乡村振兴"
    CL = "CL", "残联"
    YB = "YB", "医保"


def _lookup(choices, aliases=None) -> dict[str, str]:
    table = {}
    for choice in choices:
        table[choice.value] = choice.value
        table[choice.value.lower()] = choice.value
        table[choice.label] = choice.value
    table.update({k: str(v) for k, v in (aliases or {}).items()})
    return table


# Plain dicts: these are looked up once per roster row.
_CATEGORY_LOOKUP = _lookup(Category, CATEGORY_ALIASES)
_SOURCE_LOOKUP = _lookup(Source)


def parse_category(text: str) -> str | None:
    """Return the category code for a code or Chinese name, or None if unknown."""
    value = text.strip()
    found = _CATEGORY_LOOKUP.get(value) or _CATEGORY_LOOKUP.get(value.upper())
    if found is None and (" " in value or "／" in value or "(" in value):
        value = value.replace(" ", "").replace("／", "/").replace("(", "（").replace(")", "）")
        found = _CATEGORY_LOOKUP.get(value)
    return found


def parse_source(text: str) -> str | None:
    value = text.strip()
    return _SOURCE_LOOKUP.get(value) or _SOURCE_LOOKUP.get(value.upper())
