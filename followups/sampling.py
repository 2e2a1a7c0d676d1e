"""Which paid lines a follow-up plan calls: a pure draw over (line, township) pairs and a seed.

The same population and seed give the same lines, whatever order the population comes in (it is sorted first),
so a plan can be drawn again from its recorded seed and checked. Each township first gets its minimum (all of its
lines when it has fewer), drawn township by township in township order; the rest of the target is then drawn from
the lines not yet chosen. When the minimums add up to more than the target, the minimums win.
"""

import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal

ALL, COUNT, SHARE, TOWNSHIP = "all", "count", "share", "township"
SEED_LIMIT = 2**31


class DrawRefused(ValueError):
    """The draw's parameters make no sense; the message is shown to the user."""


def new_seed() -> int:
    return secrets.randbelow(SEED_LIMIT)


def target_size(method: str, population: int, *, size: int | None = None, share: Decimal | None = None) -> int:
    """How many lines the draw aims at before the township minimums."""
    if method == ALL:
        return population
    if method == COUNT:
        return min(size or 0, population)
    if method == SHARE:
        wanted = (Decimal(share) * population).to_integral_value(rounding=ROUND_CEILING)
        return min(int(wanted), population)
    return 0  # TOWNSHIP: the minimums alone


def check_parameters(method: str, *, size=None, share=None, per_township: int = 0) -> None:
    if method not in (ALL, COUNT, SHARE, TOWNSHIP):
        raise DrawRefused("未知的抽取方式")
    if per_township < 0:
        raise DrawRefused("每个乡镇的最少笔数不能为负数")
    if method == COUNT and (size is None or size < 1):
        raise DrawRefused("随机抽取的笔数至少为 1")
    if method == SHARE and (share is None or not Decimal("0") < Decimal(share) <= Decimal("1")):
        raise DrawRefused("抽取比例应大于 0%、不超过 100%")
    if method == TOWNSHIP and per_township < 1:
        raise DrawRefused("每个乡镇抽取的笔数至少为 1")
    if method == ALL and per_township:
        raise DrawRefused("全部回访时不需要填写每个乡镇的最少笔数")


def draw(
    population: Iterable[tuple[int, int]],
    *,
    method: str,
    seed: int,
    size: int | None = None,
    share: Decimal | None = None,
    per_township: int = 0,
) -> list[int]:
    """The chosen line ids, sorted. `population` holds (line id, township id) pairs."""
    check_parameters(method, size=size, share=share, per_township=per_township)
    ordered = sorted(set(population))
    if method == ALL:
        return [line for line, _ in ordered]
    rng = random.Random(seed)
    by_township: dict[int, list[int]] = defaultdict(list)
    for line, township in ordered:
        by_township[township].append(line)
    chosen: set[int] = set()
    for township in sorted(by_township):
        lines = by_township[township]
        chosen.update(rng.sample(lines, min(per_township, len(lines))))
    rest = [line for line, _ in ordered if line not in chosen]
    extra = max(0, target_size(method, len(ordered), size=size, share=share) - len(chosen))
    chosen.update(rng.sample(rest, min(extra, len(rest))))
    return sorted(chosen)
