"""Approval levels (DOMAIN §12.2): a case whose grant is at or above the policy's threshold is approved twice, by
two approvers; the first approval grants nothing, the second grants and posts to the ledger; bulk approval
follows the same rule; a 退回补正 starts both levels again."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.cases.services import case_approve, case_return, case_review, case_submit, cases_approve
from applications.cases.workflow import TransitionRefused
from applications.models import Case, LedgerEntry, PolicyVersion
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from tests.conftest import client_for
from tests.factories import IdentityFactory, PersonFactory

from .queue import confirm, tick
from .test_zero_approval import reviewed_case

D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def with_threshold(township, amount):
    version, _ = policy_load_preset(name="maoming-2018", county=township.county)
    PolicyVersion.objects.filter(pk=version.pk).update(second_approval_threshold=amount)


@pytest.fixture
def person(township):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person


def test_a_case_at_the_threshold_needs_a_second_approver(township, person, clerk, reviewer, approver, second_approver):
    with_threshold(township, D("9600.00"))  # the case grants exactly 9,600.00: "at or above"
    case = reviewed_case(person, clerk, reviewer, "L1")
    first = case_approve(case=case, user=approver, comment="同意")
    assert first.status == Case.Status.APPROVAL and first.first_approved_by == approver
    assert first.approved_amount is None and not LedgerEntry.objects.filter(person=person).exists()
    moved = first.transitions.last()
    assert (moved.from_status, moved.to_status, moved.actor) == ("approval", "approval", approver)
    assert "二级审批标准 9,600.00" in moved.comment
    assert AuditEvent.objects.filter(action="case.approve_first", object_id=str(case.pk)).exists()
    with pytest.raises(TransitionRefused, match="一级审批人不能再作二级审批"):
        case_approve(case=case, user=approver)
    done = case_approve(case=case, user=second_approver)
    assert done.status == Case.Status.APPROVED and done.approved_amount == D("9600.00")
    assert done.decided_by == second_approver and done.first_approved_by == approver
    assert LedgerEntry.objects.get(person=person, pool="住院").granted == D("9600.00")


def test_below_the_threshold_one_approval_is_enough(township, person, clerk, reviewer, approver):
    with_threshold(township, D("9600.01"))
    case = case_approve(case=reviewed_case(person, clerk, reviewer, "L2"), user=approver)
    assert case.status == Case.Status.APPROVED and case.first_approved_by is None


def test_without_a_threshold_nothing_changes(township, person, clerk, reviewer, approver):
    with_threshold(township, None)
    assert case_approve(case=reviewed_case(person, clerk, reviewer, "L3"), user=approver).status == "approved"


def test_bulk_approval_gives_the_first_level_and_a_second_approver_completes_it(
    township, person, clerk, reviewer, approver, second_approver
):
    with_threshold(township, D("5000"))
    big = reviewed_case(person, clerk, reviewer, "B1")
    other = PersonFactory(township=township)
    IdentityFactory(person=other, category="DB", valid_from=datetime.date(2024, 1, 1))
    small = reviewed_case(other, clerk, reviewer, "B2")
    Case.objects.filter(pk=small.pk).update(proposed_amount=D("4000"))
    small.bills.update(in_policy=D("31000"))  # E 5,000 × 80% = 4,000
    done, refused = cases_approve(case_ids=[big.pk], user=approver)
    assert refused == [] and [c.status for c in done] == ["approval"]
    assert Case.objects.get(pk=big.pk).first_approved_by == approver
    done, refused = cases_approve(case_ids=[big.pk], user=approver)
    assert done == [] and "一级审批人不能再作二级审批" in refused[0]
    done, refused = cases_approve(case_ids=[big.pk], user=second_approver)
    assert [c.status for c in done] == ["approved"] and done[0].approved_amount == D("9600.00")


def test_a_return_clears_the_first_approval(township, person, clerk, reviewer, approver, second_approver):
    with_threshold(township, D("1000"))
    case = case_approve(case=reviewed_case(person, clerk, reviewer, "R1"), user=approver)
    case = case_return(case=case, user=reviewer, reason="补充发票")
    assert case.first_approved_by is None and case.first_approved_at is None
    case = case_review(case=case_submit(case=case, user=clerk), user=reviewer)
    # the same approver may give the first approval again: the earlier one no longer counts
    assert case_approve(case=case, user=approver).status == Case.Status.APPROVAL
    assert case_approve(case=case, user=second_approver).status == Case.Status.APPROVED


def test_the_pages_say_which_level_the_approver_gives(
    client, township, person, clerk, reviewer, approver, second_approver
):
    with_threshold(township, D("9000"))
    case = reviewed_case(person, clerk, reviewer, "P1")
    page = client_for(client, approver).get(reverse("applications:case_detail", args=[case.pk])).text
    assert "本次为一级审批" in page
    response = client.post(reverse("applications:case_action", args=[case.pk, "approve"]), follow=True)
    assert "已作一级审批" in response.text and "待二级审批" in response.text
    page = client_for(client, second_approver).get(reverse("applications:case_detail", args=[case.pk])).text
    assert "二级审批（一级审批：" in page
    other = PersonFactory(township=township)
    IdentityFactory(person=other, category="DB", valid_from=datetime.date(2024, 1, 1))
    fresh = reviewed_case(other, clerk, reviewer, "P2")
    page = tick(client_for(client, approver), [fresh.pk])
    assert 'data-testid="first-level-count"' in page.text and "本次为一级审批" in page.text
    result = confirm(client, page)
    assert "一级审批 1 件" in result.text
    assert Case.objects.get(pk=fresh.pk).first_approved_by == approver
