"""When the cap is used up, an approval would grant 0.00: the approver is told the amount before confirming, and a
0 is approved only when confirmed, with that said in the record."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.cases.services import (
    ZERO_NOTE,
    approval_preview,
    case_accept,
    case_add_bill,
    case_approve,
    case_create,
    case_review,
    case_submit,
    cases_approve,
)
from applications.cases.workflow import TransitionRefused
from applications.models import Case, LedgerEntry
from applications.policy.services import policy_load_preset
from tests.factories import IdentityFactory, PersonFactory, UserFactory

D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def reviewed_case(person, clerk, reviewer, invoice, month=6):
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="茂名市人民医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, month, 1),
        discharged_on=datetime.date(2025, month, 10),
        invoice_number=invoice,
        total=D("42000"),
        in_policy=D("38000"),
        basic=D("20000"),
        critical=D("6000"),
    )
    case_accept(case=case, user=clerk)
    case_submit(case=case, user=clerk)
    return case_review(case=case, user=reviewer)


@pytest.fixture
def capped(township, clerk, reviewer):
    """Two reviewed cases of one DB person whose inpatient cap (60,000) the ledger has already used up."""
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    first = reviewed_case(person, clerk, reviewer, "F1")
    second = reviewed_case(person, clerk, reviewer, "F2", month=7)
    LedgerEntry.objects.create(person=person, year=2025, pool="住院", granted=D("60000"))
    return first, second


def test_the_approver_sees_what_approval_would_grant_now(capped):
    first, _ = capped
    assert first.proposed_amount == D("9600.00")
    assert approval_preview(first) == (D("0.00"), "")


def test_a_zero_grant_is_refused_unless_confirmed_and_then_recorded(capped, approver):
    first, _ = capped
    with pytest.raises(TransitionRefused, match="0.00 元"):
        case_approve(case=first, user=approver)
    assert Case.objects.get(pk=first.pk).status == Case.Status.APPROVAL
    approved = case_approve(case=first, user=approver, accept_zero=True)
    assert approved.status == Case.Status.APPROVED and approved.approved_amount == D("0.00")
    assert ZERO_NOTE in approved.transitions.last().comment


def test_bulk_approval_refuses_zero_grants_with_a_message_unless_confirmed(capped, approver):
    first, second = capped
    approved, refused = cases_approve(case_ids=[first.pk, second.pk], user=approver)
    assert approved == [] and len(refused) == 2 and all("0.00 元" in r for r in refused)
    approved, refused = cases_approve(case_ids=[first.pk], user=approver, accept_zero=True)
    assert [c.pk for c in approved] == [first.pk] and refused == []


def test_case_page_shows_the_amount_and_asks_for_the_zero_confirmation(client, capped, approver):
    first, _ = capped
    client.force_login(approver)
    page = client.get(reverse("applications:case_detail", args=[first.pk])).text
    assert "批准将发放 <strong>0.00 元</strong>" in page and 'name="accept_zero"' in page
    response = client.post(
        reverse("applications:case_action", args=[first.pk, "approve"]), {"comment": ""}, follow=True
    )
    assert "0.00 元" in response.text and Case.objects.get(pk=first.pk).status == Case.Status.APPROVAL
    client.post(reverse("applications:case_action", args=[first.pk, "approve"]), {"accept_zero": "on"})
    assert Case.objects.get(pk=first.pk).status == Case.Status.APPROVED


def test_a_normal_approval_needs_no_confirmation(township, clerk, reviewer):
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    case = reviewed_case(person, clerk, reviewer, "F9")
    approver = UserFactory(username="approver2", role="approver")
    assert case_approve(case=case, user=approver).approved_amount == D("9600.00")
