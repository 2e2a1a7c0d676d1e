"""Odd values in a page's query string — words where numbers belong, NaN and Infinity, numbers past any key — are
no values: the page answers (or says 404), never with an error of the server (each case here once crashed)."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ODD = ["abc", "1.5", "1e9", "NaN", "sNaN", "Infinity", "-Infinity", "2026-02-30", "１２", "😀", "9" * 25, "-1", "0"]


@pytest.mark.parametrize("value", ODD)
def test_policy_comparison(client, reviewer, value):
    client_for(client, reviewer)
    for params in ({"a": value}, {"b": value}, {"a": value, "b": value}):
        assert client.get(reverse("applications:policy_compare"), params).status_code == 200


@pytest.mark.parametrize("value", ODD)
def test_a_new_ticket_for_a_person(client, clerk, value):
    client_for(client, clerk)
    assert client.get(reverse("followups:ticket_new"), {"person": value}).status_code == 404
    person = PersonFactory(township=clerk.township)
    assert client.get(reverse("followups:ticket_new"), {"person": str(person.pk)}).status_code == 200


@pytest.mark.parametrize("value", [*ODD, "1e999999", "1e30"])
def test_secondary_warnings_and_their_export(client, reviewer, value):
    client_for(client, reviewer)
    for params in ({"distance": value}, {"township": value}, {"year": value}):
        assert client.get(reverse("applications:warning_list"), params).status_code == 200
        assert client.get(reverse("applications:warning_export"), params).status_code == 200


def test_the_distance_is_kept_within_bounds():
    from decimal import Decimal

    from lib.params import query_decimal, query_pk

    bounds = {"default": Decimal("1000"), "low": Decimal("0"), "high": Decimal("1000000")}
    assert query_decimal("NaN", **bounds) == query_decimal("abc", **bounds) == Decimal("1000")
    assert query_decimal("-5", **bounds) == 0 and query_decimal("1e30", **bounds) == Decimal("1000000")
    assert query_decimal(" 250.5 ", **bounds) == Decimal("250.5")
    assert [query_pk(v) for v in ("12", " 7 ", "0", "-1", "1e3", "１２", str(2**63), str(2**63 - 1))] == [
        12,
        7,
        None,
        None,
        None,
        None,
        None,
        2**63 - 1,
    ]


@pytest.mark.parametrize("bad", [{"accepted_from": "abc"}, {"accepted_to": "2026-02-30"}, {"township": "abc"}])
def test_a_bad_filter_leaves_the_other_filters_applied(client, reviewer, township, bad):
    from tests.factories import CaseFactory

    accepted = CaseFactory(person=PersonFactory(township=township), status="accepted", number="LX-ACCEPTED")
    CaseFactory(person=PersonFactory(township=township), number="LX-APPROVED")
    client_for(client, reviewer)
    page = client.get(reverse("applications:case_list"), {"status": "accepted", **bad}).text
    assert accepted.number in page and "LX-APPROVED" not in page  # not the whole list
    assert "small text-danger" in page  # the bad value is pointed out beside its field


def test_links_are_shown_only_to_roles_that_may_follow_them(client, approver, supervisor, finance, township):
    from recipients.models import RosterImport
    from tests.factories import ApprovedCaseFactory, IdentityFactory

    person = PersonFactory(township=township)
    record = RosterImport.objects.create(
        county=township.county, file_name="名册.csv", file_hash="0" * 64, file_size=1, source="MZ", status="done"
    )
    IdentityFactory(person=person, category="DB", updated_by_import=record)
    no_account = ApprovedCaseFactory(person=PersonFactory(township=township), payee_account="")
    detail = reverse("recipients:person_detail", args=[person.pk])
    import_url = reverse("recipients:import_detail", args=[record.pk])
    payee_url = reverse("payouts:payee_correct", args=[no_account.pk])
    for user, may_open_import, may_correct in (
        (approver, False, False),
        (supervisor, True, False),
        (finance, False, True),
    ):
        client_for(client, user)
        page = client.get(detail).text
        assert (f'href="{import_url}"' in page) is may_open_import, user.role
        if may_open_import:
            assert client.get(import_url).status_code == 200
        if user.has_perm("payouts.view_payoutbatch"):
            batches = client.get(reverse("payouts:batch_list")).text
            assert no_account.number in batches and (f'href="{payee_url}"' in batches) is may_correct, user.role
