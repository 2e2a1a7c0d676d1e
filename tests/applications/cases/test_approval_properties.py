"""Approving twice never pays twice (DOMAIN §9, STYLE: money rules get property tests): a case approved again —
by the same approver, by another, one at a time or in bulk with its id listed twice — is approved once, posts
its amount to the ledger once and claims its bills once. (A 0.00 grant is confirmed here, accept_zero: its
refusal has its own tests in test_zero_approval.py and the ledger properties.)"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from hypothesis import example, given
from hypothesis import strategies as st

from applications.cases.services import approval_preview, case_approve, cases_approve
from applications.cases.workflow import TransitionRefused
from applications.models import Bill, Case, CaseTransition, LedgerEntry
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from lib.bench import rolled_back
from tests.applications.strategies import VISIT_TYPES, day_in, money
from tests.conftest import db_examples
from tests.factories import IdentityFactory, PersonFactory, bill_on, case_in_approval

S = Case.Status
D = Decimal
ZERO = Decimal("0")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def maoming(township):
    policy_load_preset(name="maoming-2018", county=township.county)


CASES = st.lists(
    st.lists(st.tuples(st.sampled_from(VISIT_TYPES), money()), min_size=1, max_size=2), min_size=1, max_size=2
)
# An attempt: one case at a time or a bulk approval of several ids (repeats allowed), by one of two approvers.
ATTEMPTS = st.lists(
    st.tuples(st.sampled_from(["one", "bulk"]), st.integers(0, 1), st.lists(st.integers(0, 1), min_size=1, max_size=4)),
    min_size=2,
    max_size=5,
)


TAISHAN_STAY = [[("住院", {"total": D("42000"), "in_policy": D("38000"), "basic": D("20000"), "critical": D("6000")})]]


@db_examples(15)
@given(cases=CASES, attempts=ATTEMPTS)
@example(cases=TAISHAN_STAY, attempts=[("one", 0, [0]), ("one", 0, [0])])  # approved, then approved again
@example(cases=TAISHAN_STAY, attempts=[("bulk", 0, [0, 0]), ("bulk", 0, [0])])  # the same id twice in bulk
@example(cases=TAISHAN_STAY, attempts=[("one", 0, [0]), ("one", 1, [0]), ("bulk", 1, [0])])  # another approver
def test_approving_again_in_any_way_never_pays_twice(
    maoming, township, clerk, reviewer, approver, second_approver, cases, attempts
):
    approvers = [approver, second_approver]
    with rolled_back():
        person = PersonFactory(township=township)
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
        made, month = [], 1
        for bills in cases:
            fields = []
            for visit_type, amounts in bills:
                fields.append(bill_on(day_in(month), visit_type=visit_type, invoice=f"F{month}", **amounts))
                month += 1
            made.append(case_in_approval(person, clerk=clerk, reviewer=reviewer, bills=fields))

        approved: set[int] = set()
        for route, who, targets in attempts:
            chosen = [made[t % len(made)] for t in targets]
            if route == "one":
                case = chosen[0]  # the page as it was loaded: the object from before any approval
                if case.pk in approved:
                    with pytest.raises(TransitionRefused, match="可能已被他人处理"):
                        case_approve(case=case, user=approvers[who], accept_zero=True)
                else:
                    would_grant, _ = approval_preview(Case.objects.get(pk=case.pk))
                    done = case_approve(case=case, user=approvers[who], accept_zero=True)
                    assert done.approved_amount == would_grant
                    approved.add(case.pk)
            else:
                ids = {c.pk for c in chosen}
                done, refused = cases_approve(case_ids=[c.pk for c in chosen], user=approvers[who], accept_zero=True)
                assert {c.pk for c in done} == ids - approved
                assert len(refused) == len(ids & approved) and all("不能批准" in r for r in refused)
                approved |= ids

        granted = ZERO
        for case in made:
            case.refresh_from_db()
            times = CaseTransition.objects.filter(case=case, to_status=S.APPROVED).count()
            audits = AuditEvent.objects.filter(action="case.approve", object_id=str(case.pk)).count()
            bills = list(case.bills.all())
            if case.pk in approved:
                assert case.status == S.APPROVED and times == 1 and audits == 1
                assert ZERO <= case.approved_amount <= case.proposed_amount
                assert all(b.claimed for b in bills)
                assert sum(b.granted for b in bills) == case.approved_amount
                granted += case.approved_amount
            else:
                assert case.status == S.APPROVAL and times == 0 and audits == 0
                assert not any(b.claimed for b in bills)
        assert sum((e.granted for e in LedgerEntry.objects.filter(person=person)), ZERO) == granted
        assert Bill.objects.filter(case__person=person, claimed=True).count() == sum(
            len(c.bills.all()) for c in made if c.pk in approved
        )
