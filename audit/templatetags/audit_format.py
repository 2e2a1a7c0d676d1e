from django import template

register = template.Library()


@register.filter
def summary_items(value):
    """A before/after summary as (key, value) pairs for display; other values as one item."""
    if isinstance(value, dict):
        return [(k, "—" if v is None or v == "" else v) for k, v in value.items()]
    if value in (None, ""):
        return []
    return [("", value)]
