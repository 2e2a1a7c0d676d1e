import datetime

import pytest
import time_machine
from django.urls import reverse

from applications.models import Case, LedgerEntry
from applications.policy_services import policy_load_preset
from tests.conftest import client_for
from tests.factories import IdentityFactory, PersonFactory


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def person(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township, name="王秀英")
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person


BILL = {
    "hospital": "广州市第一人民医院",
    "visit_type": "住院",
    "admitted_on": "2025-06-01",
    "discharged_on": "2025-06-10",
    "visit_on": "",
    "invoice_number": "F0001",
    "settlement_number": "",
    "total": "42000",
    "in_policy": "38000",
    "basic": "20000",
    "critical": "6000",
    "other": "",
    "donation": "",
    "diagnosis": "",
}


def test_case_goes_from_window_to_approval_through_the_pages(client, clerk, reviewer, approver, person):
    client_for(client, clerk)
    response = client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    assert response.url == reverse("applications:case_detail", args=[case.pk])
    client.post(reverse("applications:case_add_bill", args=[case.pk]), BILL)
    assert case.bills.count() == 1
    client.post(reverse("applications:case_action", args=[case.pk, "accept"]))
    client.post(reverse("applications:case_action", args=[case.pk, "submit"]))
    client_for(client, reviewer)
    client.post(reverse("applications:case_action", args=[case.pk, "review"]), {"comment": "材料齐全"})
    page = client.get(reverse("applications:case_detail", args=[case.pk])).text
    assert "9,600.00 元" in page and 'data-testid="calculation"' in page
    client_for(client, approver)
    response = client.post(reverse("applications:case_action", args=[case.pk, "approve"]), follow=True)
    assert "已批准" in response.text
    assert LedgerEntry.objects.get(person=person).granted == 9600


def test_bad_bill_is_refused_with_a_message(clerk_client, person):
    clerk_client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    response = clerk_client.post(
        reverse("applications:case_add_bill", args=[case.pk]), {**BILL, "in_policy": "50000"}, follow=True
    )
    assert "政策范围内费用不能大于医疗总费用" in response.text
    assert not case.bills.exists()


def test_clerk_of_another_township_gets_404(client, clerk, outsider, person):
    client_for(client, clerk)
    client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    client_for(client, outsider)
    assert client.get(reverse("applications:case_detail", args=[case.pk])).status_code == 404
    assert client.post(reverse("applications:case_action", args=[case.pk, "withdraw"])).status_code == 404
    listing = client.get(reverse("applications:case_list")).text
    assert reverse("applications:case_detail", args=[case.pk]) not in listing


def test_reviewer_cannot_approve_through_the_page(client, clerk, reviewer, person):
    client_for(client, clerk)
    client.post(reverse("applications:case_new", args=[person.pk]))
    case = Case.objects.get()
    client.post(reverse("applications:case_add_bill", args=[case.pk]), BILL)
    client.post(reverse("applications:case_action", args=[case.pk, "accept"]))
    client.post(reverse("applications:case_action", args=[case.pk, "submit"]))
    client_for(client, reviewer)
    client.post(reverse("applications:case_action", args=[case.pk, "review"]))
    response = client.post(reverse("applications:case_action", args=[case.pk, "approve"]), follow=True)
    assert "权限" in response.text
    assert Case.objects.get().status == Case.Status.APPROVAL


def test_overdue_filter(reviewer_client, clerk, person):
    from applications.case_services import case_accept, case_add_bill, case_create

    case = case_create(person=person, user=clerk)
    from decimal import Decimal

    money = {k: Decimal(BILL[k]) for k in ("total", "in_policy", "basic", "critical")}
    case_add_bill(
        case=case,
        user=clerk,
        hospital=BILL["hospital"],
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        invoice_number="F0001",
        **money,
    )
    case_accept(case=case, user=clerk)
    Case.objects.filter(pk=case.pk).update(due_on=datetime.date(2025, 8, 29))
    url = reverse("applications:case_list")
    assert case.number in reviewer_client.get(url, {"due": "overdue"}).text
    assert case.number not in reviewer_client.get(url, {"due": "soon"}).text
