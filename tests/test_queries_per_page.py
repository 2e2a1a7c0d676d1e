"""Queries per page do not grow with the data: every main page, for each role that opens it, makes as many
queries over a county three times as large (the same kinds of rows: people with identities and settlements, cases
in every state, leads with contacts, yearly burdens, secondary cases, payout batches, audit events). A query per
row shown, or per person, would make the larger county's count higher."""

import datetime
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from applications.models import Case, Lead, LeadContact, YearlyBurden
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from payouts.models import PayoutBatch, PayoutLine
from recipients.models import Identity, Person
from reports.facts import refresh_facts
from settlements.models import Settlement
from tests.factories import UserFactory, valid_id_number

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2025, 9, 29, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 9, 29)
D = Decimal
HOSPITAL = "高州市人民医院"
S = Case.Status
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def grow(township, finance, n: int) -> None:
    """n people of the township with what a county's year gives each: an identity, a settlement, a lead with a
    contact, a yearly burden, cases in every state of the workflow, a secondary case; a paid batch; audit events."""
    births = [datetime.date(1940, 1, 1) + datetime.timedelta(days=next(_serial) * 3) for _ in range(n)]
    people = Person.objects.bulk_create(
        Person(
            id_number=valid_id_number(birth),
            name=f"王{k}",
            sex="M",
            birth_date=birth,
            township=township,
            bank_name="中国农业银行高州支行",
            bank_account="6228480000123456789",
        )
        for k, birth in enumerate(births)
    )
    Identity.objects.bulk_create(
        Identity(person=p, category="DB", source="MZ", valid_from=datetime.date(2024, 1, 1), valid_to=TODAY)
        for p in people
    )
    Settlement.objects.bulk_create(
        Settlement(
            number=f"JS{next(_serial):08d}",
            id_number=p.id_number,
            name=p.name,
            hospital=HOSPITAL,
            visit_type="门诊",
            visit_on=datetime.date(2025, 6, 1),
            service_date=datetime.date(2025, 6, 1),
            settled_on=datetime.date(2025, 6, 1),
            total=D("500"),
            in_policy=D("400"),
            basic=D("200"),
            onestop=D("50") if k % 2 else D("0"),
        )
        for k, p in enumerate(people)
    )
    statuses = [S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.REVIEW, S.APPROVAL, S.RETURNED, S.APPROVED, S.PAID]
    cases = Case.objects.bulk_create(
        Case(
            number=f"SQ{next(_serial):08d}",
            person=p,
            township=township,
            status=status,
            accepted_on=None if status == S.DRAFT else datetime.date(2025, 9, 1),
            due_on=None if status == S.DRAFT else TODAY + datetime.timedelta(days=k % 5 - 2),
            missing_materials=["住院病历"] if status == S.ACCEPTED_PENDING else [],
            materials_deadline=TODAY if status == S.ACCEPTED_PENDING else None,
            proposed_amount=D("300"),
            approved_amount=D("300") if status in (S.APPROVED, S.PAID) else None,
            decided_at=NOW - datetime.timedelta(days=3 + k) if status in (S.APPROVED, S.PAID) else None,
            payee_name=p.name,
            payee_bank=p.bank_name,
            payee_account=p.bank_account,
        )
        for k, p in enumerate(people)
        for status in statuses
    )
    Case.objects.bulk_create(
        Case(
            number=f"EC{next(_serial):08d}",
            person=p,
            township=township,
            source=Case.Source.SECONDARY,
            year=2025,
            status=S.APPROVAL,
            proposed_amount=D("800"),
        )
        for p in people
    )
    leads = Lead.objects.bulk_create(
        Lead(number=f"XS{next(_serial):08d}", person=p, township=township, year=2025, estimate=D("100")) for p in people
    )
    user = finance
    LeadContact.objects.bulk_create(
        LeadContact(lead=lead, contacted_on=TODAY, method="phone", outcome="contacted", recorded_by=user)
        for lead in leads
    )
    YearlyBurden.objects.bulk_create(
        YearlyBurden(person=p, township=township, year=2025, burden=D("4500"), threshold=D("5000"), computed_at=NOW)
        for p in people
    )
    batch = PayoutBatch.objects.create(
        number=f"ZF{next(_serial):08d}", county=township.county, status=PayoutBatch.Status.CLOSED, created_by=finance
    )
    PayoutLine.objects.bulk_create(
        PayoutLine(
            batch=batch,
            case=c,
            reference=f"YW{next(_serial):010d}",
            township=township,
            source=c.source,
            payee_name=c.payee_name,
            payee_account=c.payee_account,
            payee_bank=c.payee_bank,
            id_number=c.person.id_number,
            amount=c.approved_amount,
            status=PayoutLine.Status.PAID,
            resolved_at=NOW,
        )
        for c in cases
        if c.status == S.PAID
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(action="case.review", object_type="applications.case", object_id=str(c.pk), county=township.county)
        for c in cases
    )
    refresh_facts(year=2025)


# (role, URL, search text posted first or None)
PAGES = [
    (Role.CLERK, "/", None),
    (Role.REVIEWER, "/", None),
    (Role.APPROVER, "/", None),
    (Role.FINANCE, "/", None),
    (Role.SUPERVISOR, "/", None),
    (Role.ADMIN, "/", None),
    (Role.CLERK, "/cases/", None),
    (Role.CLERK, "/cases/?due=window", None),
    (Role.REVIEWER, "/cases/", None),
    (Role.REVIEWER, "/cases/?status=review", None),
    (Role.REVIEWER, "/cases/?due=overdue", None),
    (Role.REVIEWER, "/cases/", "王1"),
    (Role.APPROVER, "/cases/approval/", None),
    (Role.APPROVER, "/secondary/?year=2025", None),
    (Role.REVIEWER, "/secondary/warnings/?year=2025", None),
    (Role.CLERK, "/recipients/people/", None),
    (Role.REVIEWER, "/recipients/people/", "王"),
    (Role.CLERK, "/leads/", None),
    (Role.SUPERVISOR, "/leads/?status=", None),
    (Role.SUPERVISOR, "/reports/?year=2025", None),
    (Role.CLERK, "/reports/?year=2025", None),
    (Role.REVIEWER, "/settlements/hospitals/?year=2025", None),
    (Role.REVIEWER, f"/settlements/list/?hospital={HOSPITAL}", None),
    (Role.FINANCE, "/payouts/", None),
    (Role.SUPERVISOR, "/audit/", None),
    (Role.REVIEWER, "/jobs/", None),
]


def queries(client, url: str, search: str | None) -> int:
    """The queries of one view of the page, with nothing kept from an earlier view (lib.cached)."""
    if search is not None:
        url = client.post(url, {"q": search})["Location"]
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def staff(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    roles = [Role.CLERK, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN]
    return {
        role: UserFactory(username=f"q-{role}", role=role, township=township if role == Role.CLERK else None)
        for role in roles
    }


def test_every_main_page_makes_as_many_queries_for_a_county_three_times_as_large(client, township, staff):
    grow(township, staff[Role.FINANCE], 3)
    before = {}
    for role, url, search in PAGES:
        client.force_login(staff[role])
        before[(role, url, search)] = queries(client, url, search)
    grow(township, staff[Role.FINANCE], 6)
    assert timezone.now() == NOW
    after = {}
    for role, url, search in PAGES:
        client.force_login(staff[role])
        after[(role, url, search)] = queries(client, url, search)
    grown = {page: (before[page], after[page]) for page in PAGES if before[page] != after[page]}
    assert grown == {}, grown
