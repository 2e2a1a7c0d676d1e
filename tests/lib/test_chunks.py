"""lib.chunks: consecutive pieces of a list of keys, for IN clauses and bulk writes."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.chunks import CHUNK, chunks


@given(items=st.lists(st.integers()), size=st.integers(min_value=1, max_value=50))
def test_pieces_put_back_together_give_the_input_in_order_and_none_is_over_size_or_empty(items, size):
    pieces = list(chunks(items, size))
    assert [item for piece in pieces for item in piece] == items
    assert all(1 <= len(piece) <= size for piece in pieces)
    assert all(len(piece) == size for piece in pieces[:-1])  # only the last may be short
    assert len(pieces) == -(-len(items) // size)


def test_an_empty_input_gives_no_piece():
    assert list(chunks([], 3)) == []


def test_the_default_size_is_a_thousand():
    pieces = list(chunks(range(2500)))
    assert CHUNK == 1000 and [len(p) for p in pieces] == [1000, 1000, 500]


@pytest.mark.parametrize("size", [0, -1])
def test_a_size_below_one_is_refused(size):
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1, 2], size))


def test_a_generator_is_read_lazily_one_piece_ahead_at_most():
    counter = itertools.count()
    pieces = chunks(counter, 3)
    assert next(pieces) == [0, 1, 2]
    assert next(counter) == 3  # nothing beyond the first piece was consumed
