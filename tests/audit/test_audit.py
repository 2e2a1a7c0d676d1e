import pytest
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record
from recipients.models import Township
from tests.conftest import client_for


def test_audit_row_rolls_back_with_the_change(reviewer, township):
    with pytest.raises(RuntimeError), transaction.atomic():
        township.name = "改名镇"
        township.save()
        audit_record(actor=reviewer, action="admin.change", obj=township)
        raise RuntimeError("the change fails")
    assert not AuditEvent.objects.exists()
    assert Township.objects.get(pk=township.pk).name == "石鼓镇"


def test_audit_page_filters_by_action_and_actor(client, supervisor, reviewer, clerk):
    audit_record(
        actor=reviewer,
        action="recipient.pii_view",
        object_type="recipients.person",
        object_id="7",
        object_repr="王秀英",
    )
    audit_record(
        actor=clerk,
        action="roster_import.upload",
        object_type="recipients.rosterimport",
        object_id="3",
        object_repr="名册.csv",
    )
    client_for(client, supervisor)
    page = client.get(reverse("audit:event_list"), {"action": "recipient.pii_view"})
    assert page.status_code == 200
    assert "王秀英" in page.text and "名册.csv" not in page.text
    page = client.get(reverse("audit:event_list"), {"actor_name": "alice"})
    assert "名册.csv" in page.text and "王秀英" not in page.text


def test_audit_page_is_not_for_operational_roles(client, clerk, reviewer):
    for user in (clerk, reviewer):
        client_for(client, user)
        assert client.get(reverse("audit:event_list")).status_code == 403


def test_admin_changes_to_townships_are_audited(client, admin_user, township):
    client_for(client, admin_user)
    url = reverse("admin:recipients_township_change", args=[township.pk])
    data = {
        "county": township.county_id,
        "name": "石鼓镇（新）",
        "code": "440981001",
        "villages-TOTAL_FORMS": "0",
        "villages-INITIAL_FORMS": "0",
        "villages-MIN_NUM_FORMS": "0",
        "villages-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.text[:2000]
    event = AuditEvent.objects.get(action="admin.change")
    assert event.before["name"] == "石鼓镇" and event.after["name"] == "石鼓镇（新）"
    assert event.actor == admin_user


def test_audit_events_cannot_be_edited_in_admin(client, admin_user, reviewer):
    event = audit_record(actor=reviewer, action="auth.login", obj=reviewer)
    client_for(client, admin_user)
    response = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "x"})
    assert response.status_code in (403, 200)
    event.refresh_from_db()
    assert event.action == "auth.login"
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
