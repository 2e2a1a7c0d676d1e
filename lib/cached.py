"""Figures that cost a scan of many rows, kept for a while in Django's cache (Redis in production, shared by the
web workers; per process otherwise), under a key that names what they depend on.

The caller puts into the key whatever cheaply tells that the rows have changed (the latest import, the highest
id), so that such a change is seen at once; what the key cannot see is at most `seconds` old. With `refresh`, a
value older than that is still given, for up to `keep` seconds, while refresh() is asked (once) to compute it
again elsewhere (a task that calls `keep_value`): nobody waits for the figures but the first viewer."""

import hashlib
import time

from django.core.cache import cache

_MISSING = object()


def _name(key: tuple) -> str:
    return "lib.cached:" + hashlib.sha1(repr(key).encode()).hexdigest()


def remembered(key: tuple, compute, *, seconds: int, refresh=None, keep: int | None = None):
    """The value of `compute()` kept under `key` (a tuple of plain values) for `seconds`; with `refresh`, an
    older one (up to `keep` seconds) while refresh() computes it again."""
    name = _name(key)
    entry = cache.get(name, _MISSING)
    if entry is not _MISSING:
        value, stored = entry
        if refresh is None or time.time() - stored <= seconds:
            return value
        if cache.add(f"{name}:refreshing", 1, seconds):  # one refresh asked for at a time
            refresh()
        return value
    value = compute()
    keep_value(key, value, seconds=keep if refresh is not None and keep else seconds)
    return value


def keep_value(key: tuple, value, *, seconds: int) -> None:
    """Keep `value` under `key` (computed now) for `seconds`."""
    cache.set(_name(key), (value, time.time()), seconds)
