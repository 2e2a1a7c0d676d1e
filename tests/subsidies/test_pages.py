"""The 资助参保 pages: the list by role (a clerk their township, county roles their county, IDs masked, a full view
or download audited), the work list's contact log, the administrator's rule pages, the person page's panel."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from applications.models import PolicyVersion
from audit.models import AuditEvent
from subsidies.models import Enrolment, SubsidyContact, SubsidyEntry, SubsidyRuleSet
from subsidies.services import subsidy_rules_load_preset
from tests.conftest import client_for
from tests.factories import CountyFactory, IdentityFactory, PersonFactory, TownshipFactory, UserFactory

from .helpers import YEAR, built, rule_set

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def lists(township, other_township):
    """Two people of 石鼓镇 (one enrolled), one of 东岸镇, and one of another county, all on their lists."""
    people = {}
    for key, town in (("shigu", township), ("shigu2", township), ("dongan", other_township)):
        person = PersonFactory(township=town, name=f"{key}居民")
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2020, 1, 1))
        people[key] = person
    far = TownshipFactory(county=CountyFactory(name="化州市", code="440982"), name="化州镇")
    people["far"] = PersonFactory(township=far, name="far居民")
    IdentityFactory(person=people["far"], category="TK", valid_from=datetime.date(2020, 1, 1))
    built(rule_set(township.county))
    built(rule_set(far.county))
    Enrolment.objects.create(
        person=people["shigu2"], year=YEAR, status="enrolled", updated_at=datetime.datetime.now(datetime.UTC)
    )
    return people


def entry_of(person):
    return SubsidyEntry.objects.get(person=person, year=YEAR)


def test_clerk_sees_own_township_work_list(client, clerk, lists):
    response = client_for(client, clerk).get(reverse("subsidies:entry_list"))
    text = response.content.decode()
    assert "shigu居民" in text and "dongan居民" not in text and "far居民" not in text
    assert "shigu2居民" not in text  # enrolled: off the work list by default
    # The rate is the township's (one of its two enrolled), not that of the not-yet-enrolled shown (0%).
    assert "名单 2 人、已参保 <strong>1</strong> 人，资助参保率 <strong>50.00%</strong>" in text
    assert lists["shigu"].id_number not in text  # masked
    assert client.get(reverse("subsidies:entry_detail", args=[entry_of(lists["dongan"]).pk])).status_code == 404


def test_county_role_sees_county_and_the_rate(client, approver, lists):
    response = client_for(client, approver).get(reverse("subsidies:entry_list"), {"year": YEAR})
    text = response.content.decode()
    assert "shigu居民" in text and "dongan居民" in text and "far居民" not in text
    assert "资助参保率 <strong>33.33%</strong>" in text
    assert client.get(reverse("subsidies:entry_detail", args=[entry_of(lists["far"]).pk])).status_code == 404


def test_full_view_needs_the_permission_and_is_audited(client, approver, reviewer, lists):
    client_for(client, approver)
    assert client.post(reverse("subsidies:entry_reveal") + f"?year={YEAR}").status_code == 403
    client_for(client, reviewer)
    response = client.post(reverse("subsidies:entry_reveal") + f"?year={YEAR}")
    assert lists["shigu"].id_number in response.content.decode()
    assert AuditEvent.objects.filter(action="subsidy.pii_view", actor=reviewer).count() == 1


def test_export_masked_by_role_and_audited(client, approver, reviewer, lists):
    def cells(user):
        response = client_for(client, user).get(reverse("subsidies:entry_export"), {"year": YEAR})
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [[c.value for c in row] for row in sheet.iter_rows()]

    masked = cells(approver)
    assert masked[0][:6] == ["身份证号", "姓名", "乡镇（街道）", "村（社区）", "资助类别", "资助方式"]
    assert len(masked) == 4 and all("*" in row[0] for row in masked[1:])
    full = cells(reviewer)
    assert {row[0] for row in full[1:]} == {lists[k].id_number for k in ("shigu", "shigu2", "dongan")}
    assert full[1][5:9] == ["定额", 380, 250, 130]
    events = AuditEvent.objects.filter(action="subsidy.export").order_by("pk")
    assert [e.after["masked"] for e in events] == [True, False]


def test_clerk_records_a_contact(client, clerk, outsider, lists):
    entry = entry_of(lists["shigu"])
    data = {"contacted_on": "2026-02-20", "method": "phone", "outcome": "promised", "note": "本周缴费"}
    client_for(client, clerk).post(reverse("subsidies:entry_contact", args=[entry.pk]), data)
    contact = SubsidyContact.objects.get()
    assert (contact.person, contact.year, contact.outcome) == (lists["shigu"], YEAR, "promised")
    assert "同意参保" in client.get(reverse("subsidies:entry_list")).content.decode()
    client_for(client, outsider)
    assert client.post(reverse("subsidies:entry_contact", args=[entry.pk]), data).status_code == 404


def test_person_page_shows_subsidy_per_year(client, reviewer, lists):
    response = client_for(client, reviewer).get(reverse("recipients:person_detail", args=[lists["shigu2"].pk]))
    text = response.content.decode()
    assert 'data-testid="person-subsidies"' in text and "已参保" in text and "250.00" in text


@pytest.fixture
def admin_client(client, admin_user):
    return client_for(client, admin_user)


def test_admin_loads_confirms_and_activates(admin_client, township):
    response = admin_client.post(
        reverse("subsidies:rules_load"), {"preset": "maoming-2018", "year": "2027", "premium": "400"}, follow=True
    )
    rule_set = SubsidyRuleSet.objects.get()
    assert rule_set.status == "draft" and "待确认" in response.content.decode()
    # Nothing confirmed while a fixed amount is missing, and no activation while anything is open.
    admin_client.post(reverse("subsidies:rules_confirm", args=[rule_set.pk]))
    admin_client.post(reverse("subsidies:rules_activate", args=[rule_set.pk]))
    rule_set.refresh_from_db()
    assert rule_set.status == "draft" and rule_set.open_items()
    rows = {"TK": ("full", ""), "GE": ("full", ""), "DB": ("fixed", "300"), "JD": ("fixed", "300")}
    admin_client.post(reverse("subsidies:rules_edit", args=[rule_set.pk]), edit_data(rule_set, rows))
    admin_client.post(reverse("subsidies:rules_confirm", args=[rule_set.pk]))
    admin_client.post(reverse("subsidies:rules_activate", args=[rule_set.pk]))
    rule_set.refresh_from_db()
    assert rule_set.status == "active" and rule_set.open_items() == []
    assert list(rule_set.rules.filter(category="DB").values_list("amount", flat=True)) == [Decimal("300.00")]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "subsidy_rules.load_preset",
        "subsidy_rules.edit",
        "subsidy_rules.confirm",
        "subsidy_rules.activate",
    } <= actions


def edit_data(rule_set, rows: dict, **fields) -> dict:
    data = {
        "name": rule_set.name,
        "document_number": rule_set.document_number,
        "premium": str(rule_set.premium),
        "reference_date": rule_set.reference_date.isoformat(),
        "new_in_year": "on",
        "target_percent": "100",
        "notes": "",
        "rules-TOTAL_FORMS": str(len(rows)),
        "rules-INITIAL_FORMS": "0",
        **fields,
    }
    for n, (category, (mode, amount)) in enumerate(rows.items()):
        category = category.split("#")[0]
        data |= {f"rules-{n}-category": category, f"rules-{n}-mode": mode, f"rules-{n}-amount": amount}
    return data


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ({"DB": ("fixed", "250"), "DB#2": ("full", "")}, "最低生活保障对象（DB）列了不止一次"),
        ({"DB": ("fixed", "-5")}, "最低生活保障对象：定额资助金额不能为负数"),
        ({"DB": ("fixed", "500")}, "高于个人缴费标准"),
    ],
)
def test_bad_rules_are_not_saved(admin_client, township, rows, problem):
    rule_set = rule_set_draft(township.county)
    before = list(rule_set.rules.values_list("category", "mode", "amount"))
    response = admin_client.post(reverse("subsidies:rules_edit", args=[rule_set.pk]), edit_data(rule_set, rows))
    assert problem in response.content.decode()
    assert list(rule_set.rules.values_list("category", "mode", "amount")) == before


def rule_set_draft(county):
    rs, _ = subsidy_rules_load_preset(name="jiangmen-2022", county=county, year=2027, premium=Decimal("380"))
    return rs


def test_loading_rules_never_touches_the_assistance_policy(township):
    from applications.policy.services import policy_load_preset

    policy, _ = policy_load_preset(name="maoming-2018", county=township.county)
    before = (policy.first_round_rules.count(), policy.secondary_rules.count(), policy.status)
    rs = rule_set_draft(township.county)
    from subsidies.services import subsidy_rules_activate

    subsidy_rules_activate(rule_set=rs, user=None)
    policy = PolicyVersion.objects.get()
    assert (policy.first_round_rules.count(), policy.secondary_rules.count(), policy.status) == before


def test_other_county_rules_are_404(client, township):
    far = CountyFactory(name="化州市", code="440982")
    rs = rule_set_draft(far)
    user = UserFactory(username="adm", role=Role.ADMIN, county=township.county)
    assert client_for(client, user).get(reverse("subsidies:rules_detail", args=[rs.pk])).status_code == 404
    assert client.get(reverse("subsidies:rules_list")).status_code == 200


@pytest.mark.parametrize("role", [Role.CLERK, Role.REVIEWER, Role.APPROVER, Role.SUPERVISOR, Role.ADMIN, Role.FINANCE])
def test_every_page_renders_for_each_role(client, township, lists, role):
    user = UserFactory(username=f"u-{role}", role=role, township=township if role == Role.CLERK else None)
    client_for(client, user)
    rs = SubsidyRuleSet.objects.filter(county=township.county).get()
    entry = entry_of(lists["shigu"])
    pages = {
        "subsidies:entry_list": (user.has_perm("subsidies.view_subsidyentry"), []),
        "subsidies:entry_detail": (user.has_perm("subsidies.view_subsidyentry"), [entry.pk]),
        "subsidies:rules_list": (user.has_perm("subsidies.view_subsidyruleset"), []),
        "subsidies:rules_detail": (user.has_perm("subsidies.view_subsidyruleset"), [rs.pk]),
        "subsidies:import_list": (user.has_perm("subsidies.view_enrolmentimport"), []),
        "subsidies:import_upload": (user.has_perm("subsidies.import_enrolment"), []),
    }
    for name, (allowed, args) in pages.items():
        response = client.get(reverse(name, args=args))
        assert response.status_code == (200 if allowed else 403), (name, response.status_code)
    home = client.get(reverse("home")).content.decode()
    assert ("资助参保名单" in home) == user.has_perm("subsidies.view_subsidyentry")
    assert ("资助参保政策" in home) == user.has_perm("subsidies.view_subsidyruleset")


def test_draft_edit_page_renders(admin_client, township):
    rs = rule_set_draft(township.county)
    response = admin_client.get(reverse("subsidies:rules_edit", args=[rs.pk]))
    assert response.status_code == 200 and 'name="rules-0-category"' in response.content.decode()


def test_web_import_flow(client, reviewer, lists, django_capture_on_commit_callbacks, eager_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from subsidies.models import EnrolmentImport

    from .helpers import enrolled, result_csv

    content = result_csv([enrolled(lists["shigu"]), enrolled(lists["far"], pays="0")])
    client_for(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("subsidies:import_upload"),
            {"file": SimpleUploadedFile("参保结果.csv", content), "year": YEAR},
        )
    record = EnrolmentImport.objects.get()
    assert response.status_code == 302 and record.status == "valid", record.errors
    page = client.get(reverse("subsidies:import_detail", args=[record.pk])).content.decode()
    assert 'data-testid="unmatched"' in page and "不在 2026 年资助参保名单中" in page  # another county's person
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("subsidies:import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert (record.status, record.rows_added, record.rows_not_listed) == ("done", 1, 1)
    assert Enrolment.objects.get(person=lists["shigu"]).status == "enrolled"


def test_new_in_year_for_a_period(client, reviewer, township):
    for day, name in ((datetime.date(2026, 1, 20), "一月新增"), (datetime.date(2026, 2, 20), "二月新增")):
        person = PersonFactory(township=township, name=name)
        IdentityFactory(person=person, category="DB", valid_from=day)
    built(rule_set(township.county))
    client_for(client, reviewer)
    page = client.get(
        reverse("subsidies:entry_list"), {"year": YEAR, "kind": "added", "added_from": "2026-02-01"}
    ).content.decode()
    assert "二月新增" in page and "一月新增" not in page and "共 <strong>1</strong> 人" in page


def test_clerk_home_counts_the_work_list(client, clerk, lists):
    page = client_for(client, clerk).get(reverse("home")).content.decode()
    assert "2026 年未参保待跟进" in page
