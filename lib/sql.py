"""Pieces of raw SQL built from Python constants (never from user input)."""

from collections.abc import Iterable


def literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def literals(values: Iterable[str]) -> str:
    """`'a', 'b'` for an IN list of code-defined values (status choices and the like)."""
    rendered = [literal(v) for v in values]
    if not rendered:
        raise ValueError("an IN list needs at least one value")
    return ", ".join(rendered)
