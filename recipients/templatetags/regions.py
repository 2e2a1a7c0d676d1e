"""Places as a list shows them: a prefecture-wide user sees the county beside each township (township names repeat
across counties) and beside each county-level record; a county's own roles see the township alone."""

from django import template

from recipients.models import County

register = template.Library()


def _county_names(request) -> dict[int, str]:
    """Every county's name, read once per request."""
    names = getattr(request, "county_names", None)
    if names is None:
        names = dict(County.objects.values_list("pk", "name"))
        request.county_names = names
    return names


def _wide(context) -> bool:
    user = getattr(context.get("request"), "user", None)
    return bool(user is not None and user.is_authenticated and user.prefecture_wide)


@register.simple_tag(takes_context=True)
def township_label(context, township) -> str:
    """“县 · 乡镇” for a prefecture-wide user, the township's name for everyone else; "" for none."""
    if township is None:
        return ""
    if not _wide(context):
        return str(township)
    return f"{_county_names(context['request']).get(township.county_id, '')} · {township}"


@register.simple_tag(takes_context=True)
def county_label(context, county_id) -> str:
    """The county's name for a prefecture-wide user (a list of county-level records), "" for everyone else."""
    if county_id is None or not _wide(context):
        return ""
    return _county_names(context["request"]).get(county_id, "")
