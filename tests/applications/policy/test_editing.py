import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import PolicyVersion
from applications.policy.engine import INPATIENT, Amounts, PoolState, first_round, secondary
from applications.policy.selectors import engine_policy
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from tests.conftest import client_for
from tests.factories import CountyFactory

D = Decimal


@pytest.fixture
def maoming(db):
    version, _ = policy_load_preset(name="maoming-2018", county=CountyFactory())
    return version


@pytest.fixture
def admin_client(client, admin_user):
    return client_for(client, admin_user)


def post_data(response, changes=None):
    """The edit form as the page shows it, with some fields changed."""
    data = {}
    form = response.context["form"]
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "key_categories":
            data[name] = list(value or [])
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    for formset in (response.context["first_set"], response.context["second_set"]):
        count = str(len(formset.forms))
        data.update({f"{formset.prefix}-TOTAL_FORMS": count, f"{formset.prefix}-INITIAL_FORMS": count})
        for i, f in enumerate(formset.forms):
            for name, value in f.initial.items():
                key = f"{formset.prefix}-{i}-{name}"
                if isinstance(value, bool):
                    if value:
                        data[key] = "on"
                elif value is not None:
                    data[key] = str(value)
    for key, value in (changes or {}).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def row_index(response, category, visit_type=None):
    prefix = "first" if visit_type else "second"
    formset = response.context[f"{prefix}_set"]
    for i, f in enumerate(formset.forms):
        if f.initial["category"] == category and (visit_type is None or f.initial["visit_type"] == visit_type):
            return f"{prefix}-{i}-"
    raise KeyError(category)


def test_copy_edit_and_activate_a_revision(admin_client, admin_user, maoming):
    response = admin_client.post(reverse("applications:policy_copy", args=[maoming.pk]))
    draft = PolicyVersion.objects.get(status="draft")
    assert response.url == reverse("applications:policy_edit", args=[draft.pk])
    assert draft.first_round_rules.count() == maoming.first_round_rules.count()

    page = admin_client.get(response.url)
    db_in = row_index(page, "DB", INPATIENT)
    db_2 = row_index(page, "DB")
    data = post_data(
        page,
        {
            "effective_from": "2026-01-01",
            f"{db_in}ratio_percent": "90",
            f"{db_2}bands_text": "10000以内70%；其余80%",
            "major_disease_codes_text": "c, I21，N18.5",
        },
    )
    saved = admin_client.post(response.url, data)
    assert saved.status_code == 302, saved.context and [f.errors for f in saved.context["first_set"]]
    draft.refresh_from_db()
    policy = engine_policy(draft, year=2026)
    amounts = Amounts(total=D("20000"), in_policy=D("10000"))
    assert first_round(policy, "DB", INPATIENT, amounts, PoolState()).amount == D("9000.00")
    assert secondary(policy, "DB", D("18000"), D("0")).due == D("7000") + D("4000")  # 15,000 over the deductible
    assert AuditEvent.objects.filter(action="policy.edit", object_id=str(draft.pk)).exists()
    assert draft.major_disease_codes == ["C", "I21", "N18.5"]
    assert draft.materials == maoming.materials  # kept as it was

    # activating the revision ends the open-ended old version the day before the revision starts
    admin_client.post(reverse("applications:policy_activate", args=[draft.pk]))
    draft.refresh_from_db()
    maoming.refresh_from_db()
    assert draft.status == "active" and draft.activated_by == admin_user
    assert maoming.effective_to == datetime.date(2025, 12, 31)

    compare = admin_client.get(reverse("applications:policy_compare"), {"a": maoming.pk, "b": draft.pk}).text
    assert "table-warning" in compare and "90%" in compare and "80%" in compare


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ratio_percent", "120", "100"),
        ("cap", "-1", "0"),
    ],
)
def test_invalid_first_round_values_save_nothing(admin_client, maoming, field, value, message):
    admin_client.post(reverse("applications:policy_copy", args=[maoming.pk]))
    draft = PolicyVersion.objects.get(status="draft")
    url = reverse("applications:policy_edit", args=[draft.pk])
    page = admin_client.get(url)
    prefix = row_index(page, "DB", INPATIENT)
    response = admin_client.post(url, post_data(page, {f"{prefix}{field}": value}))
    assert response.status_code == 200
    assert message in response.text
    assert not AuditEvent.objects.filter(action="policy.edit").exists()
    rule = draft.first_round_rules.get(category="DB", visit_type=INPATIENT)
    assert rule.ratio == D("0.8") and rule.cap == D("60000")


def test_bands_must_ascend(admin_client, maoming):
    admin_client.post(reverse("applications:policy_copy", args=[maoming.pk]))
    draft = PolicyVersion.objects.get(status="draft")
    url = reverse("applications:policy_edit", args=[draft.pk])
    page = admin_client.get(url)
    prefix = row_index(page, "DB")
    response = admin_client.post(url, post_data(page, {f"{prefix}bands_text": "10000以内70%；5000以内80%；其余90%"}))
    assert "从小到大" in response.text
    assert draft.secondary_rules.get(category="DB").bands == [{"upto": None, "ratio": "0.8"}]


def test_active_version_cannot_be_edited(admin_client, maoming):
    response = admin_client.get(reverse("applications:policy_edit", args=[maoming.pk]), follow=True)
    assert "只有草稿可以修改" in response.text


def test_only_admin_changes_policy(client, reviewer, maoming):
    client_for(client, reviewer)
    assert client.post(reverse("applications:policy_copy", args=[maoming.pk])).status_code == 403
    assert client.post(reverse("applications:policy_activate", args=[maoming.pk])).status_code == 403
    assert client.get(reverse("applications:policy_edit", args=[maoming.pk])).status_code == 403
    assert PolicyVersion.objects.count() == 1


def test_admin_records_the_income_standard(admin_client):
    county = CountyFactory()
    response = admin_client.post(
        reverse("admin:applications_regionincome_add"), {"county": county.pk, "year": 2024, "amount": "30850.00"}
    )
    assert response.status_code == 302
    from applications.models import RegionIncome

    assert RegionIncome.objects.get().amount == D("30850.00")
    assert AuditEvent.objects.filter(action="admin.add", object_type="applications.regionincome").exists()
