from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from applications.policy.engine import (
    CHRONIC,
    INPATIENT,
    OUTPATIENT,
    POOL_INPATIENT,
    POOL_OUTPATIENT,
    POOL_SHARED,
    Amounts,
    Band,
    Deductible,
    FirstRoundRule,
    Policy,
    PolicyError,
    PoolState,
    SecondaryRule,
    bands_amount,
    best_first_round,
    best_secondary,
    first_round,
    secondary,
)
from applications.policy.presets import maoming_2018, policy_from_preset
from tests.applications.strategies import money

D = Decimal
MAOMING = maoming_2018()


def bill(in_policy_self_pay, total=None):
    """A bill whose in-policy self-pay E is the given amount (insurance paid the rest of P)."""
    e = D(in_policy_self_pay)
    return Amounts(total=D(total) if total else e + D("1000"), in_policy=e + D("500"), basic=D("500"))


# --- every cell of the Maoming table (DOMAIN §5, Preset A) ----------------------------------

FIRST_ROUND_TABLE = {
    # category: (ratio, yearly cap or None)
    "TK": ("1", None),
    "GE": ("1", None),
    "DB": ("0.8", "60000"),
    "JD": ("0.8", "60000"),
    "QT": ("0.8", "60000"),
    "DSR": None,
    "ZB": None,
    "FP": None,
    "BY": None,
    "SW": None,
}


@pytest.mark.parametrize("visit_type", [OUTPATIENT, CHRONIC, INPATIENT])
@pytest.mark.parametrize("category", list(FIRST_ROUND_TABLE))
def test_maoming_first_round_pays_each_category_its_ratio_up_to_its_cap(category, visit_type):
    cell = FIRST_ROUND_TABLE[category]
    small = first_round(MAOMING, category, visit_type, bill("1000"), PoolState())
    huge = first_round(MAOMING, category, visit_type, bill("100000"), PoolState())
    if cell is None:
        assert small.amount == huge.amount == 0
        assert "无第一轮救助待遇" in small.explanation
        return
    ratio, cap = cell
    assert small.amount == D("1000") * D(ratio)
    assert huge.amount == (D(cap) if cap else D("100000"))
    assert small.pool == (POOL_INPATIENT if visit_type == INPATIENT else POOL_OUTPATIENT)


SECONDARY_TABLE = {
    "TK": ("0", "1", "30000"),
    "GE": ("0", "1", "30000"),
    "DB": ("3000", "0.8", "30000"),
    "JD": ("3000", "0.8", "30000"),
    "QT": ("3000", "0.7", "20000"),
    "DSR": ("3000", "0.7", "20000"),
    "ZB": ("3000", "0.7", "20000"),
    "FP": None,
    "BY": None,
    "SW": None,
}


@pytest.mark.parametrize("category", list(SECONDARY_TABLE))
def test_maoming_secondary_pays_each_category_its_ratio_beyond_the_deductible_up_to_its_cap(category):
    cell = SECONDARY_TABLE[category]
    result = secondary(MAOMING, category, D("10000"), D("0"))
    capped = secondary(MAOMING, category, D("1000000"), D("0"))
    if cell is None:
        assert result.pay_now == capped.pay_now == 0
        return
    deductible, ratio, cap = (D(x) for x in cell)
    assert result.due == (D("10000") - deductible) * ratio
    assert capped.due == cap


def test_domain_example_burden_10000_gives_db_5600_and_tk_10000():
    """DOMAIN §5: burden 10,000 → DB (10,000 − 3,000) × 80% = 5,600; TK 10,000."""
    assert secondary(MAOMING, "DB", D("10000"), D("0")).pay_now == D("5600.00")
    assert secondary(MAOMING, "TK", D("10000"), D("0")).pay_now == D("10000.00")


# --- choosing among identities --------------------------------------------------------------


def test_person_with_db_and_tk_on_the_same_day_gets_tk_once():
    result = best_first_round(MAOMING, ["DB", "TK"], INPATIENT, bill("5000"), {})
    assert result.category == "TK" and result.amount == D("5000.00")
    assert "就高不重复" in result.explanation


def test_no_identity_on_the_service_date_gets_nothing():
    result = best_first_round(MAOMING, [], INPATIENT, bill("5000"), {})
    assert result.amount == 0 and result.category is None
    assert "没有有效的救助身份" in result.explanation


def test_equal_amounts_prefer_the_policy_order():
    result = best_first_round(MAOMING, ["JD", "DB"], INPATIENT, bill("100"), {})
    assert result.category == "DB"


def test_best_secondary_takes_the_higher_due():
    assert best_secondary(MAOMING, ["DSR", "DB"], D("10000"), D("0")).category == "DB"


# --- caps and pools -------------------------------------------------------------------------


def test_cap_reached_across_several_bills_in_a_year():
    ledger = {}
    paid = []
    for _ in range(4):
        result = best_first_round(MAOMING, ["DB"], INPATIENT, bill("25000"), ledger)
        paid.append(result.amount)
        change = result.ledger_change()
        state = ledger.get(result.pool, PoolState())
        ledger[result.pool] = PoolState(state.deductible_used + change.deductible_used, state.granted + change.granted)
    assert paid == [D("20000.00"), D("20000.00"), D("20000.00"), D("0.00")]
    assert ledger[POOL_INPATIENT].granted == D("60000")


def test_separate_pools_do_not_share_the_cap():
    ledger = {POOL_INPATIENT: PoolState(granted=D("60000"))}
    assert best_first_round(MAOMING, ["DB"], INPATIENT, bill("1000"), ledger).amount == 0
    assert best_first_round(MAOMING, ["DB"], OUTPATIENT, bill("1000"), ledger).amount == D("800.00")


def shared_policy(deductible=None, cap="10000"):
    rule = FirstRoundRule(
        eligible=True, ratio=D("0.7"), deductible=deductible or Deductible(), cap=D(cap), pool=POOL_SHARED
    )
    return Policy(
        name="共用封顶",
        first_round={("DB", v): rule for v in (OUTPATIENT, CHRONIC, INPATIENT)},
        secondary={},
        prior_year_income=D("30000"),
    )


def test_shared_pool_counts_outpatient_against_inpatient():
    policy = shared_policy()
    ledger = {POOL_SHARED: PoolState(granted=D("9000"))}
    assert best_first_round(policy, ["DB"], OUTPATIENT, bill("5000"), ledger).amount == D("1000.00")
    assert best_first_round(policy, ["DB"], INPATIENT, bill("5000"), ledger).amount == D("1000.00")


def test_income_share_deductible_is_used_up_once_a_year():
    policy = shared_policy(deductible=Deductible("income_share", D("0.10")))  # 10% of 30,000 = 3,000
    first = first_round(policy, "DB", INPATIENT, bill("2000"), PoolState())
    assert first.amount == 0 and first.deductible_applied == D("2000")
    second = first_round(policy, "DB", INPATIENT, bill("2000"), PoolState(deductible_used=D("2000")))
    assert second.deductible_applied == D("1000")
    assert second.amount == D("700.00")  # (2000 − 1000) × 70%
    assert "上年人均可支配收入的 10%" in second.explanation


def test_income_share_without_income_is_a_clear_error():
    policy = Policy(
        name="x",
        first_round={("DB", INPATIENT): FirstRoundRule(True, D("0.7"), Deductible("income_share", D("0.1")))},
        secondary={},
    )
    with pytest.raises(PolicyError, match="上年人均可支配收入"):
        first_round(policy, "DB", INPATIENT, bill("100"), PoolState())


def test_rounding_is_half_up_to_cents():
    policy = shared_policy()
    result = first_round(policy, "DB", INPATIENT, Amounts(total=D("10"), in_policy=D("0.05")), PoolState())
    assert result.amount == D("0.04")  # 0.035 → 0.04
    assert str(result.amount) == "0.04"


def test_bad_amounts_are_refused():
    with pytest.raises(PolicyError, match="政策范围内费用"):
        Amounts(total=D("100"), in_policy=D("200"))
    with pytest.raises(PolicyError, match="支付之和"):
        Amounts(total=D("100"), in_policy=D("100"), basic=D("80"), critical=D("30"))
    with pytest.raises(PolicyError, match="负数"):
        Amounts(total=D("100"), in_policy=D("-1"))


# --- secondary: bands, trigger ---------------------------------------------------------------


def test_bands_are_progressive():
    bands = (Band(D("10000"), D("0.7")), Band(None, D("0.8")))
    assert bands_amount(bands, D("8000")) == D("5600")
    assert bands_amount(bands, D("15000")) == D("7000") + D("4000")


def test_trigger_threshold_and_deductible_together():
    """Jiangmen style: nothing below a burden of 2,000; above it the deductible is still subtracted."""
    policy = Policy(name="x", first_round={}, secondary={"DB": SecondaryRule(trigger=D("2000"), deductible=D("500"))})
    assert secondary(policy, "DB", D("1999.99"), D("0")).pay_now == 0
    assert secondary(policy, "DB", D("2000"), D("0")).pay_now == D("1500.00")


def test_recomputing_secondary_pays_only_the_difference():
    first = secondary(MAOMING, "DB", D("10000"), D("0"))
    again = secondary(MAOMING, "DB", D("10000"), first.pay_now)
    more = secondary(MAOMING, "DB", D("12000"), first.pay_now)
    assert again.pay_now == 0
    assert more.pay_now == D("1600.00")


# --- properties -----------------------------------------------------------------------------

money_st = st.decimals(min_value=0, max_value=500000, places=2, allow_nan=False, allow_infinity=False)
ratio_st = st.decimals(min_value=0, max_value=1, places=2)
categories_st = st.sampled_from(list(FIRST_ROUND_TABLE))
visit_st = st.sampled_from([OUTPATIENT, CHRONIC, INPATIENT])


@given(category=categories_st, visit=visit_st, e=money_st, used=money_st, granted=money_st)
def test_first_round_never_negative_never_above_base_never_past_cap(category, visit, e, used, granted):
    result = first_round(MAOMING, category, visit, bill(e), PoolState(deductible_used=used, granted=granted))
    assert D("0") <= result.amount <= result.base
    rule = MAOMING.rule(category, visit)
    if rule.eligible and rule.cap is not None:
        assert granted + result.amount <= max(rule.cap, granted)


@given(category=categories_st, visit=visit_st, a=money_st, b=money_st, granted=money_st)
def test_first_round_is_monotone_in_the_base(category, visit, a, b, granted):
    low, high = sorted([a, b])
    state = PoolState(granted=granted)
    assert (
        first_round(MAOMING, category, visit, bill(low), state).amount
        <= first_round(MAOMING, category, visit, bill(high), state).amount
    )


@given(
    ratio=ratio_st,
    cap=money_st,
    deductible=st.decimals(min_value=0, max_value=5000, places=2),
    bills=st.lists(money_st, min_size=1, max_size=12),
)
def test_a_year_of_bills_never_exceeds_the_cap(ratio, cap, deductible, bills):
    rule = FirstRoundRule(True, ratio, Deductible("fixed", deductible), cap, POOL_SHARED)
    policy = Policy(name="p", first_round={("DB", INPATIENT): rule}, secondary={})
    state = PoolState()
    for e in bills:
        result = first_round(policy, "DB", INPATIENT, bill(e), state)
        assert result.amount >= 0
        state = PoolState(state.deductible_used + result.deductible_applied, state.granted + result.amount)
    assert state.granted <= cap
    assert state.deductible_used <= deductible


@given(category=st.sampled_from(list(SECONDARY_TABLE)), steps=st.lists(money_st, min_size=1, max_size=10))
def test_secondary_recomputed_never_pays_more_than_once_on_the_final_figures(category, steps):
    burden = D("0")
    granted = D("0")
    for increment in steps:
        burden += increment
        result = secondary(MAOMING, category, burden, granted)
        assert result.pay_now >= 0
        granted += result.pay_now
    final = secondary(MAOMING, category, burden, D("0"))
    assert granted <= final.due
    rule = MAOMING.secondary.get(category)
    if rule is not None:
        assert granted <= rule.cap


def test_batch_mode_gives_the_same_amounts_without_text():
    amounts = bill("12345.67")
    ledger = {"住院": PoolState(deductible_used=D("0"), granted=D("59000"))}
    explained = best_first_round(MAOMING, ["DB", "QT"], INPATIENT, amounts, ledger)
    batch = best_first_round(MAOMING, ["DB", "QT"], INPATIENT, amounts, ledger, explain=False)
    assert (batch.amount, batch.category, batch.pool) == (explained.amount, explained.category, explained.pool)
    assert batch.steps == () and explained.steps


def test_calculator_benchmark_command_reports_its_rates(capsys):
    from django.core.management import call_command

    call_command("bench_calculator", "--settlements", "2000", "--people", "50")
    out = capsys.readouterr().out
    assert "settlements/s" in out and "with explanations" in out


def test_onestop_assistance_counts_against_deductible_and_cap():
    from applications.policy.engine import onestop_ledger_change

    policy = shared_policy(deductible=Deductible("fixed", D("1000")), cap="10000")
    onestop = Amounts(total=D("9000"), in_policy=D("8000"), basic=D("4000"), onestop_assistance=D("2100"))
    change = onestop_ledger_change(policy, "DB", INPATIENT, onestop, PoolState())
    assert change == PoolState(deductible_used=D("1000"), granted=D("2100"))
    # a later bill in the same year finds the deductible used up and less of the cap left
    later = first_round(policy, "DB", OUTPATIENT, bill("20000"), change)
    assert later.deductible_applied == 0
    assert later.amount == D("7900.00")  # cap 10,000 − 2,100 already paid one-stop


# --- the chosen category is never worse than any single valid one (就高不重复) --------------------------------

ALL_CATEGORIES = list(FIRST_ROUND_TABLE)
PRESET_POLICIES = {
    "maoming-2018": MAOMING,
    "jiangmen-2019": policy_from_preset("jiangmen-2019"),
    "national-2021": policy_from_preset("national-2021", prior_year_income=D("30000")),
}
amounts_st = money().map(lambda fields: Amounts(**fields))
pools_st = st.fixed_dictionaries(
    {pool: st.builds(PoolState, money_st, money_st) for pool in (POOL_INPATIENT, POOL_OUTPATIENT, POOL_SHARED)}
)


@st.composite
def policies(draw):
    """Any policy: per category and visit type a benefit or none, any ratio, deductible, cap and pool."""
    deductibles = st.one_of(
        st.just(Deductible()),
        st.builds(Deductible, st.just("fixed"), st.decimals(0, 10000, places=2)),
        st.builds(Deductible, st.just("income_share"), st.decimals(0, 1, places=2)),
    )
    rules = st.builds(
        FirstRoundRule,
        eligible=st.booleans(),
        ratio=ratio_st,
        deductible=deductibles,
        cap=st.none() | st.decimals(0, 100000, places=2),
        pool=st.sampled_from([POOL_INPATIENT, POOL_OUTPATIENT, POOL_SHARED]),
    )
    first = {(c, v): draw(rules) for c in ALL_CATEGORIES for v in (OUTPATIENT, CHRONIC, INPATIENT)}
    income = draw(st.none() | st.decimals(0, 100000, places=2))
    return Policy(
        name="any", first_round=first, secondary={}, category_order=tuple(ALL_CATEGORIES), prior_year_income=income
    )


def single_category(policy, category, visit, amounts, pools):
    """What the category alone would give, or None when the policy cannot answer for it."""
    try:
        return first_round(policy, category, visit, amounts, pools.get(policy.rule(category, visit).pool, PoolState()))
    except PolicyError:
        return None


@given(
    policy=st.sampled_from(list(PRESET_POLICIES.values())) | policies(),
    categories=st.lists(st.sampled_from(ALL_CATEGORIES), min_size=1, max_size=4, unique=True),
    visit=visit_st,
    amounts=amounts_st,
    pools=pools_st,
)
def test_for_one_bill_the_chosen_category_gives_at_least_any_single_valid_one(
    policy, categories, visit, amounts, pools
):
    singles = [single_category(policy, c, visit, amounts, pools) for c in categories]
    with_benefit = [s for s in singles if s is not None and s.pool is not None]
    if not with_benefit and any(s is None for s in singles):
        # No category with a benefit could answer and one could not be calculated: its reason is said.
        with pytest.raises(PolicyError):
            best_first_round(policy, categories, visit, amounts, pools)
        return
    best = best_first_round(policy, categories, visit, amounts, pools)
    assert best.category in categories
    assert all(best.amount >= s.amount for s in singles if s is not None)


def year_of(policy, categories, bills):
    """A year of bills in order, each choosing among `categories`, the pools carried from bill to bill."""
    pools, total = {}, D("0")
    for visit, amounts in bills:
        result = best_first_round(policy, categories, visit, amounts, pools)
        if result.pool is not None:
            pools[result.pool] = pools.get(result.pool, PoolState()) + result.ledger_change()
        total += result.amount
    return total


@pytest.mark.parametrize(
    "preset",
    [
        "maoming-2018",
        "jiangmen-2019",
        "national-2021",
    ],
)
@given(
    categories=st.lists(st.sampled_from(ALL_CATEGORIES), min_size=1, max_size=3, unique=True),
    bills=st.lists(st.tuples(visit_st, amounts_st), min_size=1, max_size=5),
)
@example(  # a 低保边缘 (BY) person also on the 建档立卡 (JD) list: 1,200 instead of the 2,400 BY alone gives
    categories=["JD", "BY"],
    bills=[
        (INPATIENT, Amounts(total=D("3000"), in_policy=D("2000"))),
        (INPATIENT, Amounts(total=D("6000"), in_policy=D("5000"))),
    ],
)
def test_over_a_year_choosing_per_bill_gives_at_least_any_single_valid_category(preset, categories, bills):
    policy = PRESET_POLICIES[preset]
    chosen = year_of(policy, categories, bills)
    for category in categories:
        assert chosen >= year_of(policy, [category], bills)
