"""政策测算: first round and secondary assistance of a past year under a draft and under the policy in force,
on hand-computed Maoming examples (茂民规〔2018〕3号: DB 80 % first round; secondary (burden − 3,000) × 80 %)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import FirstRoundRule, PolicyVersion, SecondaryRule
from applications.policy.services import policy_copy_to_draft, policy_load_preset
from reports.models import ReportFile
from reports.whatif import percent_change, whatif
from tests.factories import CountyFactory, IdentityFactory, PersonFactory, TownshipFactory, settle

D = Decimal


def stay(person, day=datetime.date(2025, 6, 10), **money):
    """E = 12,000 − 2,000 = 10,000: 8,000 first round at 80 %, leaving 20,000 − 2,000 − 8,000 = 10,000."""
    values = {"total": D("20000"), "in_policy": D("12000"), "basic": D("2000"), "critical": D("0")}
    return settle(person, day=day, **{**values, **money})


@pytest.fixture
def maoming(township, admin_user):
    policy_load_preset(name="maoming-2018", county=township.county)
    draft = policy_copy_to_draft(version=PolicyVersion.objects.get(), user=admin_user)
    return draft


def person_with(township, category, since=datetime.date(2024, 1, 1)):
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category=category, valid_from=since)
    return person


def row(result, category):
    return next(r for r in result["by_category"] if r["category"] == category)


def test_changing_only_the_secondary_bands_changes_the_secondary_and_nothing_of_the_first_round(maoming, township):
    stay(person_with(township, "DB"))
    before = whatif(version=maoming, year=2025)
    SecondaryRule.objects.filter(version=maoming, category="DB").update(bands=[{"upto": None, "ratio": "0.9"}])
    after = whatif(version=maoming, year=2025)
    for result in (before, after):
        db = row(result, "DB")
        assert db["current"]["first"] == db["draft"]["first"] == "8000.00"
        assert db["current"]["secondary"] == "5600.00"  # (10,000 − 3,000) × 80 %
        assert (db["count"], db["people"]) == (1, 1)
    assert row(before, "DB")["draft"]["secondary"] == "5600.00" and before["difference"] == "0.00"
    assert row(after, "DB")["draft"]["secondary"] == "6300.00"  # (10,000 − 3,000) × 90 %
    total = after["total"]
    assert (total["count"], total["people"]) == (1, 1)
    assert total["current"] == {"first": "8000.00", "secondary": "5600.00", "total": "13600.00", "secondary_people": 1}
    assert total["draft"] == {"first": "8000.00", "secondary": "6300.00", "total": "14300.00", "secondary_people": 1}
    assert total["difference"] == after["difference"] == "700.00"
    assert total["percent"] == "0.0515"  # 700 ÷ 13,600


def test_progressive_bands_and_a_cap_of_the_draft(maoming, township):
    stay(person_with(township, "DB"))
    SecondaryRule.objects.filter(version=maoming, category="DB").update(
        bands=[{"upto": "5000", "ratio": "0.7"}, {"upto": None, "ratio": "0.9"}], cap=D("5000")
    )
    db = row(whatif(version=maoming, year=2025), "DB")
    # 7,000 over the deductible: 5,000 × 70 % + 2,000 × 90 % = 5,300, capped at 5,000
    assert db["draft"]["secondary"] == "5000.00" and db["current"]["secondary"] == "5600.00"
    assert db["percent"] == percent_change(D("13600"), D("13000")) == "-0.0441"


def test_a_first_round_change_moves_the_burden_and_so_the_secondary(maoming, township):
    stay(person_with(township, "DB"))
    FirstRoundRule.objects.filter(version=maoming, category="DB").update(ratio=D("0.9"))
    db = row(whatif(version=maoming, year=2025), "DB")
    # 9,000 first round leaves 9,000: (9,000 − 3,000) × 80 % = 4,800
    assert (db["draft"]["first"], db["draft"]["secondary"], db["draft"]["total"]) == ("9000.00", "4800.00", "13800.00")
    assert db["difference"] == "200.00"


def test_a_year_sums_each_persons_burden_and_the_total_row_counts_visits_and_people(maoming, township):
    db = person_with(township, "DB")
    stay(db, day=datetime.date(2025, 3, 1))
    stay(db, day=datetime.date(2025, 9, 1))  # burden 20,000: (20,000 − 3,000) × 80 % = 13,600
    dsr = person_with(township, "DSR")  # no first round under Maoming: the burden is all of T − B
    stay(dsr, total=D("5000"), in_policy=D("4000"), basic=D("1000"))  # (4,000 − 3,000) × 70 % = 700
    stray = PersonFactory(township=township)  # no identity: skipped
    stay(stray)
    elsewhere = person_with(TownshipFactory(name="别县镇", county=CountyFactory(name="信宜市", code="440983")), "DB")
    stay(elsewhere)  # another region's people are not run through this region's draft
    result = whatif(version=maoming, year=2025)
    assert row(result, "DB")["current"] == {
        "first": "16000.00",
        "secondary": "13600.00",
        "total": "29600.00",
        "secondary_people": 1,
    }
    assert row(result, "DSR")["current"] == {
        "first": "0.00",
        "secondary": "700.00",
        "total": "700.00",
        "secondary_people": 1,
    }
    assert [r["category"] for r in result["by_category"]] == ["DB", "DSR"]  # by precedence
    assert (result["total"]["count"], result["total"]["people"]) == (3, 2)
    assert result["examined"] == 4 and result["skipped"] == {"no_identity": 1, "invalid": 0}
    assert result["total"]["percent"] == "0.0000" and result["current_total"] == "30300.00"


def test_the_secondary_is_judged_on_every_identity_of_the_year(maoming, township):
    person = person_with(township, "QT")  # QT secondary: 70 %
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2025, 8, 1))
    stay(person, day=datetime.date(2025, 3, 1))  # QT only that day
    stay(person, day=datetime.date(2025, 9, 1))  # QT and DB: counted under DB
    result = whatif(version=maoming, year=2025)
    assert (row(result, "QT")["count"], row(result, "DB")["count"]) == (1, 1)
    assert (row(result, "QT")["people"], row(result, "DB")["people"], result["total"]["people"]) == (1, 1, 1)
    # burden 20,000 under DB's 80 % (the more favourable), counted in DB's row
    assert (
        row(result, "DB")["current"]["secondary"] == "13600.00" and row(result, "QT")["current"]["secondary"] == "0.00"
    )


def test_the_page_shows_secondary_and_a_total_row_with_count_and_percentage(
    client, maoming, township, supervisor, django_capture_on_commit_callbacks, eager_tasks
):
    stay(person_with(township, "DB"))
    SecondaryRule.objects.filter(version=maoming, category="DB").update(bands=[{"upto": None, "ratio": "0.9"}])
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:report_new"), {"year": 2025, "kind": "whatif", "policy": maoming.pk})
    report = ReportFile.objects.get(kind="whatif")
    text = client.get(reverse("reports:whatif", args=[report.pk])).content.decode()
    total = text.split('data-testid="whatif-total"')[1].split("</tfoot>")[0]
    assert "合计" in total and "6,300.00" in total and "14,300.00" in total and "+5.15%" in total
    assert '<td class="text-end">1</td><td class="text-end">1</td>' in total  # 人次, 人
    assert "二次救助" in text and "年度个人负担" in text
    listing = client.get(reverse("reports:report_status")).content.decode()
    assert "差额 700.00 元（+5.15%）" in listing


def test_a_result_of_the_first_round_only_kind_asks_for_a_new_run(client, maoming, supervisor):
    report = ReportFile.objects.create(
        kind="whatif",
        year=2025,
        policy=maoming,
        created_by=supervisor,
        status="done",
        result={"current_total": "8000.00", "draft_total": "9000.00", "difference": "1000.00", "by_category": []},
    )
    client.force_login(supervisor)
    text = client.get(reverse("reports:whatif", args=[report.pk])).content.decode()
    assert 'data-testid="whatif-old"' in text and "1,000.00" in text
