from decimal import Decimal, InvalidOperation

from django import template

from applications.policy.engine import yuan as format_yuan
from recipients.categories import Category

register = template.Library()


@register.filter
def yuan(value):
    """Yuan with thousands separators; amounts kept as text in stored calculations are read exactly."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            return value
    return format_yuan(value)


@register.filter
def sub(value, other):
    if value is None or other is None:
        return None
    return value - other


@register.filter
def category_name(code):
    return dict(Category.choices).get(code, code or "")


@register.filter
def pct(value):
    """0.7136 → 71.36%."""
    if value is None:
        return ""
    return f"{Decimal(str(value)) * 100:.2f}%"


@register.filter
def num(value):
    """A count with thousands separators (3,775): the zh-hans locale of Django has none."""
    if value is None or value == "":
        return ""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
