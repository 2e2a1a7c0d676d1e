"""Values of a page's query string that name a row or a number: whatever a user or a guessed URL puts there, a
bad value is no value (the page shows what it shows without it, or a 404), never an error of the server."""

from decimal import Decimal, InvalidOperation

PK_MAX = 2**63 - 1  # the largest key a bigint column holds


def query_pk(value) -> int | None:
    """A primary key given as ASCII digits, or None."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= PK_MAX else None


def query_decimal(value, *, default: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """A finite decimal within [low, high] (out of it: the nearer end); `default` for none or a bad value."""
    try:
        number = Decimal((value or "").strip()) if isinstance(value, str) and value.strip() else default
    except InvalidOperation:
        return default
    if not number.is_finite():
        return default
    return min(max(number, low), high)
