from django import template

from subsidies.models import ContactOutcome

register = template.Library()
OUTCOMES = dict(ContactOutcome.choices)


@register.filter
def outcome_label(code):
    """The Chinese name of a contact outcome code."""
    return OUTCOMES.get(code, code or "")
