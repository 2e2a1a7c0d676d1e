"""Figures that cost a scan of many rows, kept for a while in Django's cache (per process unless CACHES says
otherwise), under a key that names what they depend on.

The caller puts into the key whatever cheaply tells that the rows have changed (the latest import, the highest
id), so that such a change is seen at once; what the key cannot see is at most `seconds` old."""

import hashlib

from django.core.cache import cache

_MISSING = object()


def remembered(key: tuple, compute, *, seconds: int):
    """The value of `compute()` kept under `key` (a tuple of plain values) for `seconds`."""
    name = "lib.cached:" + hashlib.sha1(repr(key).encode()).hexdigest()
    value = cache.get(name, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(name, value, seconds)
    return value
