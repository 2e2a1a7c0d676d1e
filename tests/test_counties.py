"""A prefecture on one instance (DOMAIN §12.6): every county role sees only its county, by list and by guessed
URL; a clerk only their township; the prefecture roles every county. Checked page by page for each role."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PREFECTURE_ROLES, Role
from applications.models import Lead, YearlyBurden
from applications.policy.services import policy_load_preset
from audit.services import audit_record
from followups.models import Ticket
from followups.plans import plan_create, plan_scope
from monitoring.models import Listing, Watch, ZbApplication
from payouts.models import PayoutBatch
from recipients.models import Person, RosterImport
from reports.models import FundEntry
from subsidies.listing import build_list
from subsidies.models import EnrolmentImport, SubsidyEntry
from supervision.models import AuditSample, Suggestion
from supervision.recoveries import recovery_create
from tests.conftest import client_for
from tests.factories import (
    ApprovedCaseFactory,
    CaseFactory,
    CountyFactory,
    IdentityFactory,
    PersonFactory,
    TownshipFactory,
    UserFactory,
)
from tests.subsidies.helpers import rule_set as subsidy_rule_set

pytestmark = pytest.mark.django_db
COUNTY_ROLES = [Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN]


def _county(name, code, township_name):
    county = CountyFactory(name=name, code=code)
    township = TownshipFactory(county=county, name=township_name)
    person = PersonFactory(township=township, name=f"{name}居民")
    case = CaseFactory(person=person, number=f"LX-{code}")
    paid = ApprovedCaseFactory(person=PersonFactory(township=township), number=f"PAY-{code}")
    lead = Lead.objects.create(number=f"XS-{code}", person=person, township=township, year=2026, estimate=100)
    YearlyBurden.objects.create(
        person=person,
        township=township,
        year=2026,
        burden=Decimal("9000"),
        threshold=Decimal("9500"),
        computed_at=timezone.now(),
    )
    maker = UserFactory(username=f"finance-{code}", role=Role.FINANCE, county=county)
    batch = PayoutBatch.objects.create(number=f"ZF{code}", county=county, created_by=maker)
    batch.lines.create(
        case=paid,
        reference=f"ZF{code}-00001",
        township=township,
        source="window",
        payee_name="收款人",
        payee_account="6228480000123456789",
        payee_bank="农行",
        id_number=paid.person.id_number,
        amount=Decimal("100.00"),
    )
    line = batch.lines.get()
    line.status, line.resolved_at = "paid", timezone.now()
    line.save()
    plan = plan_create(user=None, scope=plan_scope(user=None, batch=batch), method="all")
    call = plan.calls.get()
    ticket = Ticket.objects.create(
        number=f"TS-{code}",
        county=county,
        township=township,
        kind="complaint",
        channel="phone",
        category="time",
        person=person,
        content="办理太慢",
        opened_on=timezone.localdate(),
        time_limit=5,
        due_on=timezone.localdate(),
    )
    policy, _ = policy_load_preset(name="maoming-2018", county=county)
    roster = RosterImport.objects.create(  # a clerk's upload: their county's roles see it too
        county=county,
        township=township,
        file_name=f"{name}名册.csv",
        file_hash="0" * 64,
        file_size=1,
        source="MZ",
        status="done",
    )
    FundEntry.objects.create(county=county, year=2026, source="grant", amount=Decimal("1000"))
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2020, 1, 1))
    subsidy_rules = subsidy_rule_set(county)
    build_list(subsidy_rules)
    entry = SubsidyEntry.objects.get(person=person)
    enrolment = EnrolmentImport.objects.create(
        county=county, year=2026, file_name=f"{name}参保结果.csv", file_hash="0" * 64, file_size=1, status="done"
    )
    audit_record(actor=None, action="case.create", obj=case)
    refunded = ApprovedCaseFactory(person=PersonFactory(township=township), number=f"ZH-{code}", status="paid")
    recovery = recovery_create(
        case=refunded,
        user=UserFactory(username=f"reviewer-{code}", role=Role.REVIEWER, county=county),
        reason="identity",
        amount=Decimal("100"),
        note=f"{name}追回",
    )
    suggestion = Suggestion.objects.create(
        case=refunded, person=refunded.person, township=township, rule="duplicate", amount=Decimal("50"), key="1"
    )
    sample = AuditSample.objects.create(
        county=county, month=datetime.date(2026, 11, 1), seed=int(code), share=Decimal("0.05"), minimum=2
    )
    watch = Watch.objects.create(
        id_number=person.id_number,
        name=person.name,
        person=person,
        county=county,
        township=township,
        first_warned=datetime.date(2026, 6, 1),
        last_listed=datetime.date(2026, 6, 1),
        last_figure=Decimal("30000"),
    )
    listing = Listing.objects.create(
        watch=watch,
        month=datetime.date(2026, 6, 1),
        reason="new",
        population="general",
        rolling=Decimal("30000"),
        year_to_date=Decimal("30000"),
        threshold=Decimal("26000"),
        basis="calendar",
    )
    window = UserFactory(username=f"clerk-{code}", role=Role.CLERK, township=township)
    zb = ZbApplication.objects.create(
        number=f"ZB-{code}",
        listing=listing,
        watch=watch,
        id_number=person.id_number,
        name=person.name,
        township=township,
        declared_income=Decimal("1000"),
        medical_rolling=Decimal("30000"),
        medical_year=Decimal("30000"),
        opened_by=window,
    )
    return {
        "county": county,
        "township": township,
        "objects": {
            "person": reverse("recipients:person_detail", args=[person.pk]),
            "case": reverse("applications:case_detail", args=[case.pk]),
            "lead": reverse("applications:lead_detail", args=[lead.pk]),
            "batch": reverse("payouts:batch_detail", args=[batch.pk]),
            "policy": reverse("applications:policy_detail", args=[policy.pk]),
            "roster import": reverse("recipients:import_detail", args=[roster.pk]),
            "subsidy rules": reverse("subsidies:rules_detail", args=[subsidy_rules.pk]),
            "subsidy entry": reverse("subsidies:entry_detail", args=[entry.pk]),
            "enrolment import": reverse("subsidies:import_detail", args=[enrolment.pk]),
            "recovery": reverse("supervision:recovery_detail", args=[recovery.pk]),
            "suggestion": reverse("supervision:suggestion_detail", args=[suggestion.pk]),
            "sample": reverse("supervision:sample_detail", args=[sample.pk]),
            "follow-up plan": reverse("followups:plan_detail", args=[plan.pk]),
            "call list": reverse("followups:call_list", args=[plan.pk, township.pk]),
            "call": reverse("followups:call_detail", args=[call.pk]),
            "ticket": reverse("followups:ticket_detail", args=[ticket.pk]),
            "zb application": reverse("monitoring:zb_detail", args=[zb.pk]),
        },
        # What each list shows of the county: a text found only in its own rows.
        "marks": {
            "recipients:person_list": person.name,
            "applications:case_list": case.number,
            "applications:lead_list": lead.number,
            "applications:warning_list": person.name,
            "payouts:batch_list": batch.number,
            "applications:policy_list": name,
            "recipients:import_list": f"{name}名册.csv",
            "audit:event_list": case.number,
            "subsidies:entry_list": person.name,
            "subsidies:rules_list": name,
            "subsidies:import_list": f"{name}参保结果.csv",
            "supervision:recovery_list": recovery.number,
            "supervision:suggestion_list": refunded.number,
            "supervision:sample_list": str(sample.seed),
            "followups:plan_list": plan.number,
            "followups:ticket_list": ticket.number,
            "monitoring:listing_list": person.name,
            "monitoring:zb_list": f"ZB-{code}",
        },
    }


@pytest.fixture
def two_counties():
    return _county("甲县", "440901", "甲镇"), _county("乙县", "440902", "乙镇")


def _may(user, path: str) -> bool:
    """Whether the role reaches the page at all (by permission): those it cannot are not about counties."""
    perms = {
        "recipients": "recipients.view_person",
        "cases": "applications.view_case",
        "leads": "applications.view_lead",
        "payouts": "payouts.view_payoutbatch",
        "policies": "applications.view_policyversion",
        "imports": "recipients.view_rosterimport",
        "secondary": "applications.view_yearlyburden",
        "warnings": "applications.view_yearlyburden",
        "audit": "audit.view_auditevent",
        "recoveries": "supervision.view_recovery",
        "suggestions": "supervision.view_suggestion",
        "samples": "supervision.view_auditsample",
        "followups": "followups.view_followupplan",
        "monitoring": "monitoring.view_listing",
        "zb": "monitoring.view_zbapplication",
    }
    part = next((p for p in perms if f"/{p}/" in path), None)
    if part == "recipients" and "/imports/" in path:
        part = "imports"
    if path.startswith("/subsidies/"):
        needs = "subsidies.view_subsidyentry"
        if "/rules/" in path:
            needs = "subsidies.view_subsidyruleset"
        elif "/imports/" in path:
            needs = "subsidies.view_enrolmentimport"
        return user.has_perm(needs)
    if part == "monitoring" and "/zb/" in path:
        part = "zb"
    return part is None or user.has_perm(perms[part])


@pytest.mark.parametrize("role", [Role.CLERK, *COUNTY_ROLES])
def test_a_county_role_sees_its_county_and_not_the_other(client, two_counties, role):
    own, other = two_counties
    user = UserFactory(
        username=f"u-{role}",
        role=role,
        township=own["township"] if role == Role.CLERK else None,
        county=own["county"],
    )
    client_for(client, user)
    for what, path in other["objects"].items():
        response = client.get(path)
        assert response.status_code in (403, 404), f"{role} reached the other county's {what}: {path}"
    for what, path in own["objects"].items():
        if _may(user, path):
            assert client.get(path).status_code == 200, f"{role} cannot open its own {what}: {path}"
    for name, mark in other["marks"].items():
        url = reverse(name)
        response = client.get(url, {"year": 2026}) if "warning" in name else client.get(url)
        if response.status_code == 200:
            assert mark not in response.text, f"{role} sees the other county's row on {url}"
    for name, mark in own["marks"].items():
        url = reverse(name)
        response = client.get(url, {"year": 2026}) if "warning" in name else client.get(url)
        if response.status_code == 200 and _may(user, url) and name != "audit:event_list":
            assert mark in response.text, f"{role} misses its own row on {url}"


@pytest.mark.parametrize("role", sorted(PREFECTURE_ROLES))
def test_the_prefecture_roles_see_every_county(client, two_counties, role):
    user = UserFactory(username=f"p-{role}", role=role)
    assert user.county_id is None
    client_for(client, user)
    for place in two_counties:
        for what, path in place["objects"].items():
            if _may(user, path):
                assert client.get(path).status_code == 200, f"{role} cannot open {what}: {path}"
    page = client.get(reverse("reports:dashboard"), {"year": 2026}) if user.has_perm("reports.view_dashboard") else None
    if page is not None:
        assert "全市" in page.text and "甲县" in page.text and "乙县" in page.text
    # Township names may repeat across counties: every list names the county beside the township, and beside
    # each county-level record (a batch, a plan, an import).
    shown = 0
    for name in two_counties[0]["marks"]:
        url = reverse(name)
        if name in WITHOUT_PLACE or not _may(user, url):
            continue
        page = client.get(url, {"year": 2026}) if "warning" in name else client.get(url)
        assert page.status_code == 200, url
        wanted = ("甲县", "乙县") if name in COUNTY_LEVEL else ("甲县 · 甲镇", "乙县 · 乙镇")
        assert all(w in page.text for w in wanted), f"{role}: {url} does not name the counties"
        shown += 1
    assert shown == (14 if role == Role.CITY_SUPERVISOR else 2)  # 市级管理 configures: imports only


# The lists whose rows are a county's records (the county under the number), and those that name no place (policy
# and rule lists name their county anyway; the audit log names the object).
COUNTY_LEVEL = {"payouts:batch_list", "followups:plan_list", "recipients:import_list", "subsidies:import_list"}
WITHOUT_PLACE = {"applications:policy_list", "subsidies:rules_list", "audit:event_list", "supervision:sample_list"}


def test_a_county_role_sees_townships_alone(client, two_counties):
    own, _ = two_counties
    user = UserFactory(username="rev", role=Role.REVIEWER, county=own["county"])
    client_for(client, user)
    for name in ("applications:case_list", "recipients:person_list", "applications:lead_list"):
        text = client.get(reverse(name)).text
        assert "甲镇" in text and "甲县 · 甲镇" not in text


def test_a_county_role_without_a_county_sees_nothing(client, two_counties):
    user = UserFactory(username="lost", role=Role.REVIEWER, county=None)
    client_for(client, user)
    for path in two_counties[0]["objects"].values():
        assert client.get(path).status_code in (403, 404)


def test_the_dashboard_and_fund_are_the_countys(client, two_counties):
    own, other = two_counties
    user = UserFactory(username="sup", role=Role.SUPERVISOR, county=own["county"])
    client_for(client, user)
    page = client.get(reverse("reports:dashboard"), {"year": 2026, "county": other["county"].pk}).text
    assert "甲县" in page and "乙县" not in page  # a county role cannot pick another county
    from reports.selectors import dashboard

    assert dashboard(year=2026, county=own["county"])["fund"]["raised"] == Decimal("1000")
    assert dashboard(year=2026)["fund"]["raised"] == Decimal("2000")  # the prefecture's roll-up


def test_a_batch_is_made_of_one_countys_cases(two_counties):
    from payouts import services

    own, other = two_counties
    finance = UserFactory(username="fin", role=Role.FINANCE, county=own["county"])
    ApprovedCaseFactory(person=PersonFactory(township=own["township"]), number="OWN-1")
    ApprovedCaseFactory(person=PersonFactory(township=other["township"]), number="OTHER-1")
    batch = services.batch_create(user=finance)
    assert batch.county == own["county"]
    assert set(batch.lines.values_list("case__number", flat=True)) == {"OWN-1"}
    with pytest.raises(services.PayoutRefused, match="本县"):
        services.batch_create(user=finance, township=other["township"])
    city = UserFactory(username="cityfin", role=Role.CITY_ADMIN)
    with pytest.raises(services.PayoutRefused):
        services.batch_create(user=city)


def test_a_roster_naming_another_countys_township_is_refused(two_counties):
    from recipients.roster import validate_roster
    from tests.factories import valid_id_number

    own, other = two_counties
    header = "身份证号,姓名,救助类别,认定日期,乡镇（街道）\n"
    number = valid_id_number(datetime.date(1960, 1, 1))
    content = (header + f"{number},张三,低保,2024-01-01,乙镇\n").encode()
    check = validate_roster(content, "r.csv", default_source="MZ", county=own["county"])
    assert [e["reason"] for e in check.errors] == ["不属于甲县：只能导入本县（区）的人员"]
    # A prefecture's roster goes to the county of each township it names.
    check = validate_roster(content, "r.csv", default_source="MZ")
    assert check.ok and check.rows[0].township_id == other["township"].pk


def test_a_county_administrator_manages_only_their_countys_users_and_regions(client, two_counties):
    own, other = two_counties
    admin = UserFactory(username="cadmin", role=Role.ADMIN, county=own["county"])
    UserFactory(username="other-reviewer", role=Role.REVIEWER, county=other["county"])
    UserFactory(username="own-reviewer", role=Role.REVIEWER, county=own["county"])
    client_for(client, admin)
    users = client.get(reverse("admin:accounts_user_changelist")).text
    assert "own-reviewer" in users and "other-reviewer" not in users
    townships = client.get(reverse("admin:recipients_township_changelist")).text
    assert "甲镇" in townships and "乙镇" not in townships
    form = client.get(reverse("admin:accounts_user_add")).text
    assert Role.CITY_ADMIN.label not in form and "乙县" not in form and "乙镇" not in form
    other_user = type(admin).objects.get(username="other-reviewer")
    assert client.get(reverse("admin:accounts_user_change", args=[other_user.pk])).status_code in (302, 404)


def test_settlements_are_the_county_of_the_person_they_name(client, two_counties):
    """A county's file naming another county's resident: that settlement is the other county's; one of a person in
    no registry is the importing county's until the person is registered."""
    from settlements.models import Settlement, SettlementImport
    from tests.factories import valid_id_number

    (a, b) = two_counties
    a_person = Person.objects.filter(township=a["township"]).first()
    b_person = Person.objects.filter(township=b["township"]).first()
    unregistered = valid_id_number(datetime.date(1960, 5, 5))
    record = SettlementImport.objects.create(
        county=a["county"], file_name="甲县结算.csv", file_hash="2" * 64, file_size=1, status="done"
    )
    day = datetime.date(2026, 3, 1)
    for number, id_number in [("JS-A", a_person.id_number), ("JS-B", b_person.id_number), ("JS-U", unregistered)]:
        Settlement.objects.create(
            number=number,
            id_number=id_number,
            name="某人",
            hospital="人民医院",
            visit_type="住院",
            visit_on=day,
            service_date=day,
            settled_on=day,
            total=Decimal("100"),
            in_policy=Decimal("80"),
            basic=Decimal("40"),
            last_import=record,
        )
    seen = {}
    for side, code in [("a", "440901"), ("b", "440902")]:
        reviewer = UserFactory(username=f"rev-{code}", role=Role.REVIEWER, county=(a if side == "a" else b)["county"])
        seen[side] = set(Settlement.objects.visible_to(reviewer).values_list("number", flat=True))
        client_for(client, reviewer)
        page = client.get(reverse("settlements:settlement_list"), {"hospital": "人民医院"}).text
        assert all((n in page) == (n in seen[side]) for n in ["JS-A", "JS-B", "JS-U"])
        imports = client.get(reverse("settlements:import_list")).text
        assert ("甲县结算.csv" in imports) == (side == "a")
        detail = client.get(reverse("settlements:import_detail", args=[record.pk]))
        assert detail.status_code == (200 if side == "a" else 404)
    assert seen == {"a": {"JS-A", "JS-U"}, "b": {"JS-B"}}
    city = UserFactory(username="city-sup", role=Role.CITY_SUPERVISOR, county=None)
    assert set(Settlement.objects.visible_to(city).values_list("number", flat=True)) == {"JS-A", "JS-B", "JS-U"}
    PersonFactory(township=b["township"], id_number=unregistered)  # registered later, in the other county
    assert set(
        Settlement.objects.visible_to(UserFactory(role=Role.REVIEWER, county=a["county"])).values_list(
            "number", flat=True
        )
    ) == {"JS-A"}


def test_a_countys_job_is_hidden_from_the_other_county(client, two_counties):
    from applications.models import Job

    (a, b) = two_counties
    own = Job.objects.create(kind=Job.Kind.CROSSCHECK, county=a["county"], status=Job.Status.FAILED, message="甲县失败")
    every = Job.objects.create(kind=Job.Kind.CROSSCHECK, county=None, status=Job.Status.DONE)
    for county, sees_own in [(a["county"], True), (b["county"], False)]:
        reviewer = UserFactory(role=Role.REVIEWER, county=county)
        assert (own in Job.objects.visible_to(reviewer)) == sees_own
        assert every in Job.objects.visible_to(reviewer)
        client_for(client, reviewer)
        response = client.post(reverse("applications:job_retry", args=[own.pk]))
        assert (response.status_code == 404) == (not sees_own)


def test_a_run_over_every_county_shows_its_head_counts_to_the_prefecture_only(client, two_counties):
    from monitoring.models import MonitoringRun

    own, _ = two_counties
    MonitoringRun.objects.create(month=datetime.date(2026, 6, 1), status="done", people=26071, above=3762)
    MonitoringRun.objects.create(
        month=datetime.date(2026, 5, 1), county=own["county"], status="done", people=11113, above=222
    )
    url = reverse("monitoring:listing_list")
    city = UserFactory(username="city-m", role=Role.CITY_SUPERVISOR)
    assert "26,071" in client_for(client, city).get(url).text
    for user in (
        UserFactory(username="rev-m", role=Role.REVIEWER, county=own["county"]),
        UserFactory(username="clerk-m", role=Role.CLERK, township=own["township"], county=own["county"]),
    ):
        page = client_for(client, user).get(url).text
        assert "26,071" not in page and "3,762" not in page and "人数不单列" in page
        assert ("11,113" in page) is (user.role == Role.REVIEWER)  # the county's own run; a window sees none


def test_the_prefectures_figures_by_township_name_each_county(two_counties):
    from reports.models import AssistanceFact
    from reports.selectors import dashboard

    own, other = two_counties
    twin = TownshipFactory(county=other["county"], name="甲镇")  # the same name in the other county
    for town, amount in ((own["township"], "100"), (twin, "200"), (other["township"], "300")):
        AssistanceFact.objects.create(
            year=2026, month=3, township=town, benefit="住院", channel="manual", visits=1, assisted=Decimal(amount)
        )
    rows = {row["label"]: row["amount"] for row in dashboard(year=2026)["by_township"]}
    assert rows == {"甲县 · 甲镇": Decimal("100"), "乙县 · 乙镇": Decimal("300"), "乙县 · 甲镇": Decimal("200")}
    assert [row["label"] for row in dashboard(year=2026, county=own["county"])["by_township"]] == ["甲镇"]
