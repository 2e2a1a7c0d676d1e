"""lib.cached: a value computed once per key and kept for its time; another key computes again."""

import time_machine

from lib.cached import keep_value, remembered


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


def test_with_a_refresh_an_old_value_is_given_while_the_refresh_is_asked_for_once():
    calls, refreshes = [], []

    def compute():
        calls.append(1)
        return len(calls)

    with time_machine.travel(0, tick=False) as clock:
        assert remembered(("r",), compute, seconds=60, refresh=lambda: refreshes.append(1), keep=3600) == 1
        clock.shift(61)
        for _ in range(3):  # stale: still given, the refresh asked for once
            assert remembered(("r",), compute, seconds=60, refresh=lambda: refreshes.append(1), keep=3600) == 1
        assert refreshes == [1]
        keep_value(("r",), 2, seconds=3600)  # what the refresh does
        assert remembered(("r",), compute, seconds=60, refresh=lambda: refreshes.append(1), keep=3600) == 2
        clock.shift(3601)  # kept no longer than `keep`: computed by the viewer again
        assert remembered(("r",), compute, seconds=60, refresh=lambda: refreshes.append(1), keep=3600) == 2
    assert len(calls) == 2 and refreshes == [1]
