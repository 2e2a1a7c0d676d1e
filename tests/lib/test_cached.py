"""lib.cached: a value computed once per key and kept for its time; another key computes again."""

import time_machine

from lib.cached import remembered


def test_a_value_is_computed_once_per_key_and_kept_for_its_time():
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    with time_machine.travel(0, tick=False) as clock:
        assert remembered(("k", 1), compute, seconds=60) == {"n": 1}
        assert remembered(("k", 1), compute, seconds=60) == {"n": 1}
        assert remembered(("k", 2), compute, seconds=60) == {"n": 2}  # what the key names changed
        clock.shift(61)
        assert remembered(("k", 1), compute, seconds=60) == {"n": 3}  # kept no longer than its time
    assert len(calls) == 3


def test_none_and_empty_values_are_kept_too():
    calls = []
    for _ in range(2):
        remembered(("none",), lambda: calls.append(1), seconds=60)
    assert calls == [1]
