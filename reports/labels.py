"""How the reports name a category, the assistance counted without one included (the summary's empty category)."""

from recipients.categories import CATEGORY_ORDER, Category

CATEGORY_NAMES = dict(Category.choices)
UNIDENTIFIED = "无有效身份（未识别）"
UNIDENTIFIED_NOTE = (
    "“无有效身份（未识别）”是服务日期（住院为出院日期，门诊为就诊日期）当天没有有效救助身份的人员获得的救助，"
    "例如身份尚未录入名册时发生的一站式结算；补录身份（认定日期不晚于服务日期）后刷新统计，即归入相应类别。"
)


def category_label(code: str | None) -> str:
    """The name of a category code; an empty code is assistance counted without a valid identity."""
    if not code:
        return UNIDENTIFIED
    return CATEGORY_NAMES.get(code, code)


def category_rank(code: str | None) -> int:
    """Reports list categories by precedence, unknown codes after them and the unidentified last."""
    if not code:
        return len(CATEGORY_ORDER) + 1
    return CATEGORY_ORDER.index(code) if code in CATEGORY_ORDER else len(CATEGORY_ORDER)


def scope_name(*, township=None, county=None) -> str:
    """What a report covers: a township, a county, or the whole prefecture (every county of the instance)."""
    if township is not None:
        return township.name
    if county is not None:
        return county.name
    return "全市"
