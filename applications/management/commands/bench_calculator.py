"""Benchmark of the calculator alone: first-round amounts for a year of settlements, in memory."""

import random
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from applications.policy.engine import CHRONIC, INPATIENT, OUTPATIENT, Amounts, PoolState, best_first_round
from applications.policy.presets import maoming_2018


class Command(BaseCommand):
    help = "Compute first-round amounts for N settlements of M people in one year (no database) and print the rate."

    def add_arguments(self, parser):
        parser.add_argument("--settlements", type=int, default=1_000_000)
        parser.add_argument("--people", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, settlements, people, seed, **options):
        if settlements < 1000 or people < 10:
            raise CommandError("--settlements ≥ 1000, --people ≥ 10")
        rng = random.Random(seed)
        policy = maoming_2018()
        categories = ["DB", "JD", "TK", "DSR", "BY", "ZB", "QT", "GE"]
        person_categories = [
            [rng.choice(categories)] + ([rng.choice(categories)] if rng.random() < 0.2 else []) for _ in range(people)
        ]
        visit_types = [OUTPATIENT] * 6 + [CHRONIC] * 2 + [INPATIENT] * 2
        rows = []
        for _ in range(settlements):
            total = rng.randrange(5_000, 5_000_000)  # cents
            in_policy = total * rng.randrange(60, 100) // 100
            basic = in_policy * rng.randrange(40, 80) // 100
            critical = (in_policy - basic) * rng.randrange(0, 40) // 100
            rows.append((rng.randrange(people), rng.choice(visit_types), total, in_policy, basic, critical))
        cent = Decimal("0.01")
        EMPTY = PoolState()  # noqa: N806
        self.stdout.write(f"{settlements:,} settlements of {people:,} people, policy {policy.name}")

        def run(limit, explain):
            ledger: dict[tuple[int, str], PoolState] = {}
            paid = Decimal("0")
            start = time.perf_counter()
            for person, visit_type, total, in_policy, basic, critical in rows[:limit]:
                amounts = Amounts(
                    total=Decimal(total) * cent,
                    in_policy=Decimal(in_policy) * cent,
                    basic=Decimal(basic) * cent,
                    critical=Decimal(critical) * cent,
                )
                pools = {
                    "门诊": ledger.get((person, "门诊"), EMPTY),
                    "住院": ledger.get((person, "住院"), EMPTY),
                }
                result = best_first_round(
                    policy, person_categories[person], visit_type, amounts, pools, explain=explain
                )
                if result.pool is not None and (result.amount or result.deductible_applied):
                    state = pools[result.pool]
                    ledger[(person, result.pool)] = PoolState(
                        state.deductible_used + result.deductible_applied, state.granted + result.amount
                    )
                paid += result.amount
            return time.perf_counter() - start, paid

        seconds, paid = run(settlements, explain=False)
        rate = settlements / seconds
        self.stdout.write(
            f"amounts only:           {seconds:8.2f} s   {rate:10,.0f} settlements/s   total {paid:,.2f} 元"
        )
        sample = min(settlements, 100_000)
        seconds_explained, _ = run(sample, explain=True)
        self.stdout.write(
            f"with explanations:      {seconds_explained:8.2f} s   {sample / seconds_explained:10,.0f} settlements/s   ({sample:,} settlements)"
        )
        self.stdout.write(f"target ≥ 50,000 settlements/s on one core: {'met' if rate >= 50_000 else 'NOT met'}")
