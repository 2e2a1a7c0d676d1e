"""The person-year ledger (applications.policy.ledger): never past the cap, however approvals interleave."""

import datetime
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import connection, transaction
from hypothesis import event, example, given
from hypothesis import strategies as st

from applications.cases.services import approval_preview, case_approve, cases_approve
from applications.cases.workflow import TransitionRefused
from applications.models import Bill, Case, LedgerEntry
from applications.policy.ledger import CapExceeded, ledger_post
from applications.policy.services import policy_load_preset
from lib.bench import rolled_back
from tests.applications.strategies import VISIT_TYPES, day_in, money
from tests.conftest import db_examples
from tests.factories import IdentityFactory, PersonFactory, bill_on, case_in_approval, settle

D = Decimal
ZERO = D("0")


def test_ledger_refuses_to_pass_the_cap(db):
    person = PersonFactory()
    ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("50000"), cap=D("60000"))
    with pytest.raises(CapExceeded):
        ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("10000.01"), cap=D("60000"))
    entry = ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("10000"), cap=D("60000"))
    assert entry.granted == D("60000")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ledger_posts_never_pass_the_cap():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    person = PersonFactory()
    outcomes = []

    def approve():
        try:
            with transaction.atomic():
                ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("7000"), cap=D("60000"))
            outcomes.append("ok")
        except CapExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entry = LedgerEntry.objects.get(person=person)
    assert entry.granted == D("56000")  # 8 × 7,000; a ninth would pass 60,000
    assert outcomes.count("ok") == 8 and outcomes.count("refused") == 8


# --- approvals interleaved, through the services ------------------------------------------------------------

CAP = D("60000")  # Maoming DB: 80 %, 60,000 a year in each of the 门诊 and 住院 pools
POOL = {"门诊": "门诊", "门诊慢特病": "门诊", "住院": "住院"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def maoming(township):
    policy_load_preset(name="maoming-2018", county=township.county)


@st.composite
def interleavings(draw):
    """Cases of one bill each, and the order of their reviews and approvals: each case reviewed before it is
    approved, others reviewed or approved in between; each approval single or in bulk, confirming a 0.00 grant
    or not."""
    bills = draw(st.lists(st.tuples(st.sampled_from(VISIT_TYPES), money()), min_size=2, max_size=4))
    tokens = draw(st.permutations([i for i in range(len(bills)) for _ in range(2)]))
    seen, steps = set(), []
    for i in tokens:
        if i in seen:
            steps.append(("approve", i, draw(st.sampled_from(["one", "bulk"])), draw(st.booleans())))
        else:
            seen.add(i)
            steps.append(("review", i, None, None))
    return bills, steps


def first_round_due(amounts) -> Decimal:
    """80 % of the in-policy self-pay E, to the cent (no deductible in Maoming)."""
    e = amounts["in_policy"] - amounts["basic"] - amounts["critical"] - amounts["other"]
    return (e * D("0.8")).quantize(D("0.01"), ROUND_HALF_UP)


ONESTOP = st.lists(st.tuples(st.sampled_from(VISIT_TYPES), money(onestop=True)), max_size=2)
BIG = {
    "total": D("90000"),
    "in_policy": D("80000"),
    "basic": D("10000"),
    "critical": ZERO,
    "other": ZERO,
}  # E = 70,000: 56,000 at 80 %


@db_examples(10)
@given(plan=interleavings(), onestop=ONESTOP)
@example(  # the second stay finds 4,000 of the cap left; the third finds nothing (a 0.00 grant, not confirmed)
    plan=(
        [("住院", BIG), ("住院", BIG), ("住院", BIG)],
        [("review", i, None, None) for i in range(3)]
        + [("approve", 0, "one", False), ("approve", 1, "bulk", False), ("approve", 2, "one", False)],
    ),
    onestop=[],
)
def test_interleaved_approvals_never_pass_the_cap_and_the_ledger_is_what_was_approved(
    maoming, township, clerk, reviewer, approver, plan, onestop
):
    bills, steps = plan
    with rolled_back():
        person = PersonFactory(township=township)
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
        used_onestop = dict.fromkeys(["门诊", "住院"], ZERO)
        for month, (visit_type, amounts) in enumerate(onestop, start=1):
            settle(person, day=day_in(month, 5), visit_type=visit_type, **amounts)  # days 5: no stay overlaps a bill
            used_onestop[POOL[visit_type]] += amounts["onestop"]
        cases: dict[int, Case] = {}
        for step, i, route, accept_zero in steps:
            visit_type, amounts = bills[i]
            if step == "review":
                bill = bill_on(day_in(i + 1), visit_type=visit_type, invoice=f"F{i}", **amounts)
                cases[i] = case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=[bill])
                continue
            case = Case.objects.get(pk=cases[i].pk)
            would_grant, reason = approval_preview(case)
            assert reason == ""  # the ledger only grows after a review: never more than proposed
            refused_zero = would_grant == 0 and not accept_zero
            if route == "one":
                if refused_zero:
                    with pytest.raises(TransitionRefused, match="确认以 0 元批准"):
                        case_approve(case=case, user=approver, accept_zero=accept_zero)
                else:
                    assert (
                        case_approve(case=case, user=approver, accept_zero=accept_zero).approved_amount == would_grant
                    )
            else:
                done, refused = cases_approve(case_ids=[case.pk], user=approver, accept_zero=accept_zero)
                assert (len(done), len(refused)) == ((0, 1) if refused_zero else (1, 0))

        approved = list(Case.objects.filter(person=person, status=Case.Status.APPROVED))
        for pool in ("门诊", "住院"):
            entry = LedgerEntry.objects.filter(person=person, year=2025, pool=pool).first()
            granted = entry.granted if entry else ZERO
            claimed = Bill.objects.filter(case__in=approved, visit_type__in=[v for v, p in POOL.items() if p == pool])
            assert granted == sum((b.granted for b in claimed), ZERO)
            assert granted <= max(ZERO, CAP - used_onestop[pool])  # one-stop assistance counts against the cap
            # Whatever the order: all the pool's stays were due, up to what the cap left (a 0.00 grant refused
            # means nothing was due or nothing was left, as if granted).
            due = sum((first_round_due(a) for v, a in bills if POOL[v] == pool), ZERO)
            assert granted == min(due, max(ZERO, CAP - used_onestop[pool]))
            if due > CAP - used_onestop[pool]:
                event(f"the {pool} cap was reached")
        assert sum((e.granted for e in LedgerEntry.objects.filter(person=person)), ZERO) == sum(
            (c.approved_amount for c in approved), ZERO
        )
