"""lib.collection: the cyclic collector paused for a block, and left as it was."""

import gc

import pytest

from lib.collection import collection_paused


def test_the_collector_is_paused_in_the_block_and_resumed_after_it():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_is_resumed_when_the_block_raises():
    with pytest.raises(ValueError), collection_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_collector_already_paused_stays_paused():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
