"""Every list page of the portal is cut into pages on the server: with more rows than a page holds, the first page
shows a full page and links to the second, which shows the rest, with the list's filters kept in the links."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.models import Case, Job, Lead, YearlyBurden
from audit.models import AuditEvent
from followups.models import FollowupImport, FollowupPlan, Ticket
from followups.plans import plan_create, plan_scope
from payouts import services as payouts
from payouts.models import PayoutBatch
from recipients.models import RosterImport
from settlements.models import Settlement, SettlementImport
from tests.factories import ApprovedCaseFactory, CaseFactory, PersonFactory, UserFactory, valid_id_number

NOW = datetime.datetime(2025, 9, 29, 2, 0, tzinfo=datetime.UTC)
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def root(db):
    user = UserFactory(username="root", role="admin")
    user.is_superuser = True
    user.save()
    return user


def people(township, n):
    return [PersonFactory(township=township) for _ in range(n)]


def cases(township, n, **fields):
    return [CaseFactory(person=p, **fields) for p in people(township, n)]


def leads(township, n):
    Lead.objects.bulk_create(
        Lead(number=f"XS{k:06d}", person=p, township=township, year=2025, estimate=D("100"))
        for k, p in enumerate(people(township, n))
    )


def burdens(township, n):
    YearlyBurden.objects.bulk_create(
        YearlyBurden(person=p, township=township, year=2025, burden=D("900"), threshold=D("1000"), computed_at=NOW)
        for p in people(township, n)
    )


def settlements(n, *, hospitals: bool):
    Settlement.objects.bulk_create(
        Settlement(
            number=f"JS{k:05d}",
            id_number=valid_id_number(datetime.date(1960, 1, 1)),
            name="赵六",
            hospital=f"医院{k:03d}" if hospitals else "高州市人民医院",
            visit_type="门诊",
            visit_on=datetime.date(2025, 1, 1),
            service_date=datetime.date(2025, 1, 1),
            settled_on=datetime.date(2025, 1, 1),
            total=D("10"),
            in_policy=D("8"),
            basic=D("4"),
        )
        for k in range(n)
    )


def imports(model, user, n):
    model.objects.bulk_create(
        model(created_by=user, file_name=f"{k}.csv", file_hash=f"{k:064d}", file_size=10) for k in range(n)
    )


def batch_with_lines(township, finance, n):
    for p in people(township, n):
        ApprovedCaseFactory(person=p)
    return payouts.batch_create(user=finance, purpose="救助金")


# name: (rows made, per page, the list's URL with a filter, how the rows are made)
LISTS = {
    "cases": (31, 30, lambda: reverse("applications:case_list") + "?status=approval", "cases"),
    "approval_queue": (31, 30, lambda: reverse("applications:approval_queue") + "?due=", "cases"),
    "leads": (31, 30, lambda: reverse("applications:lead_list") + "?status=open", "leads"),
    "secondary": (51, 50, lambda: reverse("applications:secondary_list") + "?year=2025", "secondary"),
    "warnings": (51, 50, lambda: reverse("applications:warning_list") + "?year=2025&distance=500", "burdens"),
    "jobs": (31, 30, lambda: reverse("applications:job_list"), "jobs"),
    "batches": (31, 30, lambda: reverse("payouts:batch_list"), "batches"),
    "batch_lines": (51, 50, None, "lines"),
    "line_search": (51, 50, lambda: reverse("payouts:line_search") + "?q=张", "lines"),
    "audit": (51, 50, lambda: reverse("audit:event_list") + "?action=test.row", "audit"),
    "people": (51, 50, lambda: reverse("recipients:person_list"), "people"),
    "hospitals": (51, 50, lambda: reverse("settlements:hospital_list") + "?year=2025", "hospitals"),
    "hospital_settlements": (51, 50, None, "settlements"),
    "roster_imports": (31, 30, lambda: reverse("recipients:import_list"), "roster_imports"),
    "settlement_imports": (31, 30, lambda: reverse("settlements:import_list"), "settlement_imports"),
    "followup_plans": (31, 30, lambda: reverse("followups:plan_list"), "plans"),
    "followup_calls": (51, 50, None, "calls"),
    "tickets": (31, 30, lambda: reverse("followups:ticket_list") + "?queue=open", "tickets"),
    "followup_imports": (31, 30, lambda: reverse("followups:import_list"), "followup_imports"),
}


def make(kind, n, township, root, finance):
    """The rows of the list; the URL when it depends on them."""
    if kind == "cases":
        cases(township, n, status=Case.Status.APPROVAL, proposed_amount=D("10"), due_on=datetime.date(2025, 10, 1))
    elif kind == "leads":
        leads(township, n)
    elif kind == "secondary":
        cases(township, n, source=Case.Source.SECONDARY, year=2025, status=Case.Status.APPROVAL)
    elif kind == "burdens":
        burdens(township, n)
    elif kind == "jobs":
        Job.objects.bulk_create(Job(kind=Job.Kind.CROSSCHECK, status=Job.Status.DONE) for _ in range(n))
    elif kind == "batches":
        PayoutBatch.objects.bulk_create(PayoutBatch(number=f"ZF{k:08d}", created_by=finance) for k in range(n))
    elif kind == "lines":
        batch = batch_with_lines(township, finance, n)
        return reverse("payouts:batch_detail", args=[batch.pk]) + "?status=pending"
    elif kind == "audit":
        AuditEvent.objects.bulk_create(AuditEvent(action="test.row", object_repr=str(k)) for k in range(n))
    elif kind == "people":
        people(township, n)
    elif kind == "hospitals":
        settlements(n, hospitals=True)
    elif kind == "settlements":
        settlements(n, hospitals=False)
        return reverse("settlements:settlement_list") + "?hospital=高州市人民医院"
    elif kind == "roster_imports":
        imports(RosterImport, root, n)
    elif kind == "settlement_imports":
        imports(SettlementImport, root, n)
    elif kind == "plans":
        FollowupPlan.objects.bulk_create(
            FollowupPlan(number=f"HF{k:08d}", county=township.county, basis="month", method="all", seed=k)
            for k in range(n)
        )
    elif kind == "calls":
        batch = batch_with_lines(township, finance, n)
        batch.lines.update(status="paid", resolved_at=NOW)
        plan = plan_create(user=None, scope=plan_scope(user=None, batch=batch), method="all")
        return reverse("followups:call_list", args=[plan.pk, township.pk]) + "?status=todo"
    elif kind == "tickets":
        day = NOW.date()
        Ticket.objects.bulk_create(
            Ticket(
                number=f"TS{k:08d}",
                county=township.county,
                township=township,
                kind="enquiry",
                channel="phone",
                category="policy",
                person=p,
                content="咨询",
                opened_on=day,
                time_limit=3,
                due_on=day,
            )
            for k, p in enumerate(people(township, n))
        )
    elif kind == "followup_imports":
        imports(FollowupImport, root, n)
    return None


@pytest.mark.parametrize("name", LISTS)
def test_every_list_is_paginated_on_the_server(client, township, root, finance, name):
    rows, per_page, url_of, kind = LISTS[name]
    url = make(kind, rows, township, root, finance) or url_of()
    client.force_login(root)
    first = client.get(url)
    assert first.status_code == 200, url
    page = first.context["jobs"] if name == "jobs" else first.context["page"]
    assert page.number == 1 and len(page.object_list) == per_page, url
    assert page.paginator.count >= rows
    html = first.content.decode()
    assert 'data-testid="pagination"' in html
    query = url.split("?", 1)[1] if "?" in url else ""
    links = re.findall(r'href="\?([^"]*page=2)"', html)
    assert links, url
    kept = links[0].replace("&amp;", "&")
    for param in filter(None, query.split("&")):
        name_only = param.split("=", 1)[0]
        assert f"{name_only}=" in kept, (url, kept)  # the filter is kept in the page link
    second = client.get(url + ("&" if "?" in url else "?") + "page=2")
    page = second.context["jobs"] if name == "jobs" else second.context["page"]
    assert page.number == 2 and len(page.object_list) == page.paginator.count - per_page
