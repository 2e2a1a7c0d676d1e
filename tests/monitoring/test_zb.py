"""因病致贫重病患者 identification from the monitoring list, end to end."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Lead, RegionIncome
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now
from audit.models import AuditEvent
from monitoring.models import Listing, ZbApplication
from monitoring.run import monitoring_now
from monitoring.services import watch_assign
from monitoring.zb import ZbRefused, zb_attach, zb_decide, zb_open, zb_verify
from recipients.demo import blank_scan_png
from recipients.models import Identity, Person
from tests.factories import settle, valid_id_number

D = Decimal


@pytest.fixture
def listed(township, thresholds):
    """Someone in no registry whose stays of February and May are above the general threshold; two more stays
    came after (imported before anyone identified them)."""
    number = valid_id_number(datetime.date(1958, 8, 8))
    early = [settle(number, day=datetime.date(2026, 2, 1)), settle(number, day=datetime.date(2026, 5, 1))]
    monitoring_now(month=datetime.date(2026, 6, 1))
    return Listing.objects.get(watch__id_number=number), early


def test_zb_identification_end_to_end(listed, clerk, reviewer, approver, township):
    listing, early = listed
    with pytest.raises(ZbRefused, match="先由县局分派"):
        zb_open(listing=listing, user=clerk, declared_income=D("18000"))
    watch_assign(watch=listing.watch, township=township, user=reviewer)
    listing.refresh_from_db()
    application = zb_open(
        listing=listing,
        user=clerk,
        declared_income=D("18000"),
        household=[{"name": "李四", "relation": "配偶", "income": "12000"}],
        household_size=3,
        declared_assets="自住房一套",
    )
    assert application.status == ZbApplication.Status.OPEN
    assert (application.medical_rolling, application.household_size) == (D("32000.00"), 3)
    with pytest.raises(ZbRefused, match="正在办理"):
        zb_open(listing=listing, user=clerk, declared_income=D("1"))
    with pytest.raises(ZbRefused, match="状态"):
        zb_decide(application=application, user=approver, approve=True, reason="x")
    zb_verify(
        application=application, user=clerk, visited_on=datetime.date(2026, 6, 15), staff="王五、赵六", findings="属实"
    )
    zb_attach(application=application, user=clerk, name="核查表.png", content=blank_scan_png())
    # Separation of duties: whoever opened or verified it cannot decide, even holding the permission.
    clerk.user_permissions.add(Permission.objects.get(codename="decide_zbapplication"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    with pytest.raises(ZbRefused, match="审批分离"):
        zb_decide(application=application, user=clerk, approve=True, reason="符合")
    with pytest.raises(ZbRefused, match="认定意见"):
        zb_decide(application=application, user=approver, approve=True, reason=" ")
    decided = zb_decide(
        application=application,
        user=approver,
        approve=True,
        reason="医疗支出远超家庭收入",
        decided_on=datetime.date(2026, 6, 15),
    )
    assert decided.status == ZbApplication.Status.APPROVED
    identity = Identity.objects.get(person__id_number=listing.watch.id_number)
    assert (identity.category, identity.source, identity.valid_from, identity.valid_to) == (
        "ZB",
        "YB",
        datetime.date(2026, 6, 15),
        datetime.date(2027, 6, 14),
    )
    person = Person.objects.get(id_number=listing.watch.id_number)
    assert person.township == township and person.birth_date == datetime.date(1958, 8, 8)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "zb.open",
        "zb.verify",
        "zb.attach",
        "zb.approve",
        "recipient.identity_grant",
        "monitoring.assign",
    } <= actions
    listing.watch.refresh_from_db()
    assert listing.watch.person == person


def test_the_cross_check_finds_the_new_identitys_settlements(listed, clerk, reviewer, approver, township):
    listing, early = listed
    policy_load_preset(name="national-2021", county=township.county)  # ZB: 60 % above 25 % of the income
    RegionIncome.objects.create(county=township.county, year=2025, amount=D("40000"))
    later = settle(listing.watch.id_number, day=datetime.date(2026, 6, 12))  # imported before the decision
    watch_assign(watch=listing.watch, township=township, user=reviewer)
    with time_machine.travel(datetime.datetime(2026, 6, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        application = zb_open(listing=listing, user=clerk, declared_income=D("9000"))
        zb_verify(
            application=application, user=clerk, visited_on=datetime.date(2026, 6, 8), staff="王五", findings="属实"
        )
    assert crosscheck_now().created == 0
    # Decided on the 10th at the county's meeting, entered on the 15th: the stay of the 12th is in the window.
    zb_decide(
        application=application, user=approver, approve=True, reason="符合", decided_on=datetime.date(2026, 6, 10)
    )
    crosscheck_now()
    lead = Lead.objects.get()
    assert lead.category == "ZB" and lead.township == township
    assert list(lead.items.values_list("settlement_number", flat=True)) == [later.number]
    # E = 12,000; deductible 25 % × 40,000 = 10,000; 60 % of the 2,000 beyond it.
    assert lead.estimate == D("1200.00")


def test_a_rejection_gives_no_identity(listed, clerk, reviewer, approver, township):
    listing, _ = listed
    watch_assign(watch=listing.watch, township=township, user=reviewer)
    application = zb_open(listing=listing, user=clerk, declared_income=D("90000"))
    zb_verify(
        application=application, user=clerk, visited_on=datetime.date(2026, 6, 15), staff="王五", findings="有房产"
    )
    done = zb_decide(application=application, user=approver, approve=False, reason="家庭收入较高")
    assert done.status == ZbApplication.Status.REJECTED and not Identity.objects.exists()


def test_a_person_holding_an_identity_needs_no_zb(registered, thresholds, clerk):
    settle(registered, day=datetime.date(2026, 3, 10))
    monitoring_now(month=datetime.date(2026, 6, 1))
    with pytest.raises(ZbRefused, match="已有有效救助身份"):
        zb_open(listing=Listing.objects.get(), user=clerk, declared_income=D("1"))


def test_the_pages_walk_the_application(listed, clerk, reviewer, approver, outsider, township, client):
    listing, _ = listed
    client.force_login(reviewer)
    response = client.post(reverse("monitoring:watch_assign", args=[listing.watch.pk]), {"township": township.pk})
    assert response.status_code == 302
    client.force_login(outsider)
    assert client.get(reverse("monitoring:zb_new", args=[listing.pk])).status_code == 404
    client.force_login(clerk)
    page = client.get(reverse("monitoring:listing_list"))
    assert "受理因病致贫认定" in page.content.decode()
    response = client.post(
        reverse("monitoring:zb_new", args=[listing.pk]),
        {"household_size": 2, "members": "李四 配偶 12000", "declared_income": "18000", "declared_assets": ""},
    )
    application = ZbApplication.objects.get()
    assert response.status_code == 302 and application.household == [
        {"name": "李四", "relation": "配偶", "income": "12000"}
    ]
    detail = reverse("monitoring:zb_detail", args=[application.pk])
    client.post(detail, {"step": "verify", "visited_on": "2026-06-15", "staff": "王五", "findings": "属实"})
    client.force_login(approver)
    assert "提交认定" in client.get(detail).content.decode()
    client.post(detail, {"step": "decide", "decision": "approve", "reason": "符合", "decided_on": ""})
    application.refresh_from_db()
    assert application.status == ZbApplication.Status.APPROVED
    client.force_login(outsider)
    assert client.get(detail).status_code == 404


def test_scans_are_served_only_to_who_may_see_the_application(listed, clerk, reviewer, outsider, township, client):
    listing, _ = listed
    watch_assign(watch=listing.watch, township=township, user=reviewer)
    application = zb_open(listing=listing, user=clerk, declared_income=D("1000"))
    client.force_login(clerk)
    detail = reverse("monitoring:zb_detail", args=[application.pk])
    upload = SimpleUploadedFile("核查.png", blank_scan_png(), content_type="image/png")
    client.post(detail, {"step": "scan", "file": upload})
    scan = application.scans.get()
    assert client.get(reverse("monitoring:zb_scan", args=[scan.pk])).status_code == 200
    fake = SimpleUploadedFile("核查.pdf", blank_scan_png(), content_type="application/pdf")
    client.post(detail, {"step": "scan", "file": fake})
    assert application.scans.count() == 1  # content and name disagree: refused
    client.force_login(outsider)
    assert client.get(reverse("monitoring:zb_scan", args=[scan.pk])).status_code == 404
