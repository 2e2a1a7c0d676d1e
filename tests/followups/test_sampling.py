"""The draw of a follow-up plan: reproducible from its seed, honouring each township's minimum."""

import math
import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followups import sampling
from followups.sampling import ALL, COUNT, SHARE, TOWNSHIP, DrawRefused, draw

populations = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(1, 6)), min_size=1, max_size=300, unique_by=lambda p: p[0]
)


@given(populations, st.integers(0, 2**31 - 1), st.integers(1, 80), st.integers(0, 5))
def test_the_same_population_and_seed_draw_the_same_lines_in_any_order(population, seed, size, k):
    shuffled = list(population)
    random.Random(seed).shuffle(shuffled)
    first = draw(population, method=COUNT, seed=seed, size=size, per_township=k)
    assert draw(shuffled, method=COUNT, seed=seed, size=size, per_township=k) == first
    assert first == sorted(set(first))


@given(populations, st.integers(0, 2**31 - 1), st.integers(1, 80), st.integers(0, 5))
def test_every_township_gets_its_minimum_and_the_target_is_met(population, seed, size, k):
    chosen = set(draw(population, method=COUNT, seed=seed, size=size, per_township=k))
    township_of = dict(population)
    sizes = Counter(township_of.values())
    drawn = Counter(township_of[line] for line in chosen)
    for township, n in sizes.items():
        assert drawn[township] >= min(k, n)
    minimums = sum(min(k, n) for n in sizes.values())
    assert len(chosen) == max(min(size, len(population)), minimums)
    assert chosen <= set(township_of)


@given(populations, st.integers(0, 2**31 - 1), st.decimals(Decimal("0.01"), Decimal("1"), places=2))
def test_a_share_draws_the_share_rounded_up(population, seed, share):
    chosen = draw(population, method=SHARE, seed=seed, share=share)
    assert len(chosen) == min(len(population), math.ceil(share * len(population)))


def test_all_and_per_township():
    population = [(n, 1 if n <= 10 else 2) for n in range(1, 14)]
    assert draw(population, method=ALL, seed=1) == list(range(1, 14))
    chosen = draw(population, method=TOWNSHIP, seed=1, per_township=4)
    assert len([n for n in chosen if n <= 10]) == 4 and len([n for n in chosen if n > 10]) == 3


def test_another_seed_draws_other_lines():
    population = [(n, n % 3) for n in range(1000)]
    assert draw(population, method=COUNT, seed=1, size=30) != draw(population, method=COUNT, seed=2, size=30)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": COUNT},
        {"method": COUNT, "size": 0},
        {"method": SHARE, "share": Decimal("0")},
        {"method": SHARE, "share": Decimal("1.5")},
        {"method": TOWNSHIP},
        {"method": ALL, "per_township": 2},
        {"method": "everyone"},
    ],
)
def test_parameters_that_make_no_sense_are_refused(kwargs):
    with pytest.raises(DrawRefused):
        sampling.check_parameters(**kwargs)
