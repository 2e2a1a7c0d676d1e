"""The monitoring pages and exports: scoping by county and township, masking, pushes recorded, commands."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from audit.models import AuditEvent
from monitoring.exports import HEADERS
from monitoring.models import Push
from monitoring.run import monitoring_now
from recipients.idnumber import mask_id_number
from tests.factories import CountyFactory, IdentityFactory, PersonFactory, TownshipFactory, UserFactory, settle

from .conftest import threshold

JUNE = datetime.date(2026, 6, 1)


@pytest.fixture
def two_townships(registered, other_township, thresholds):
    neighbour = PersonFactory(township=other_township)
    IdentityFactory(person=neighbour, category="TK", valid_from=datetime.date(2024, 1, 1))
    settle(registered, day=datetime.date(2026, 3, 10))
    settle(neighbour, day=datetime.date(2026, 4, 10))
    monitoring_now(month=JUNE)
    return registered, neighbour


def rows_of(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_clerk_sees_own_township_only(two_townships, clerk, outsider, client):
    mine, theirs = two_townships
    client.force_login(clerk)
    page = client.get(reverse("monitoring:listing_list")).content.decode()
    assert mine.name in page and theirs.name not in page
    assert mask_id_number(mine.id_number) in page and mine.id_number not in page
    client.force_login(outsider)
    page = client.get(reverse("monitoring:listing_list")).content.decode()
    assert theirs.name in page and mine.name not in page


def test_clerk_cannot_push_the_list(two_townships, clerk, client):
    client.force_login(clerk)
    assert client.get(reverse("monitoring:listing_export"), {"department": "MZ"}).status_code == 403


def test_reviewer_export_is_full_and_recorded_as_a_push(two_townships, reviewer, client):
    mine, theirs = two_townships
    client.force_login(reviewer)
    response = client.get(reverse("monitoring:listing_export"), {"month": "2026-06", "department": "XCZX"})
    rows = rows_of(response)
    assert rows[0] == HEADERS
    assert sorted(r[0] for r in rows[1:]) == sorted([mine.id_number, theirs.id_number])
    line = next(r for r in rows[1:] if r[0] == mine.id_number)
    assert line[3:] == ["最低生活保障对象", 16000, 16000, 10000, "2026-06", "是"]
    push = Push.objects.get()
    assert (push.department, push.rows, push.new_rows, push.masked, push.pushed_by) == ("XCZX", 2, 2, False, reviewer)
    assert AuditEvent.objects.filter(action="monitoring.push", actor=reviewer).exists()
    assert "乡村振兴" in client.get(reverse("monitoring:listing_list")).content.decode()


def test_export_is_masked_without_the_unmask_permission(two_townships, client):
    mine, _ = two_townships
    user = UserFactory(username="pusher", role=Role.SUPERVISOR)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="push_listing"))
    client.force_login(user)
    rows = rows_of(client.get(reverse("monitoring:listing_export"), {"department": "MZ", "month": "2026-06"}))
    assert mask_id_number(mine.id_number) in [r[0] for r in rows[1:]]
    assert mine.id_number not in [r[0] for r in rows[1:]]
    assert Push.objects.get().masked


def test_another_countys_roles_see_nothing(two_townships, client):
    other = CountyFactory(name="化州市", code="440982")
    TownshipFactory(county=other, name="河西街道")
    threshold(other)
    reviewer = UserFactory(username="huazhou", role=Role.REVIEWER, county=other)
    client.force_login(reviewer)
    page = client.get(reverse("monitoring:listing_list")).content.decode()
    assert two_townships[0].name not in page
    rows = rows_of(client.get(reverse("monitoring:listing_export"), {"department": "MZ", "month": "2026-06"}))
    assert rows == [HEADERS]
    city = UserFactory(username="city", role=Role.CITY_SUPERVISOR)
    client.force_login(city)
    assert two_townships[0].name in client.get(reverse("monitoring:listing_list")).content.decode()


def test_filters_new_this_month_and_population(two_townships, reviewer, client):
    client.force_login(reviewer)
    url = reverse("monitoring:listing_list")
    assert "共 <strong>2</strong> 人" in client.get(url, {"new": "1"}).content.decode()
    assert "共 <strong>0</strong> 人" in client.get(url, {"population": "general"}).content.decode()


def test_menu_dashboard_and_person_panel(two_townships, reviewer, admin_user, client):
    mine, _ = two_townships
    client.force_login(reviewer)
    home = client.get(reverse("home")).content.decode()
    assert "监测预警" in home and "因病致贫认定" in home
    dashboard = client.get(reverse("reports:dashboard"), {"year": 2026}).content.decode()
    assert 'data-testid="monitoring-kpis"' in dashboard
    person = client.get(reverse("recipients:person_detail", args=[mine.pk])).content.decode()
    assert 'data-testid="person-monitoring"' in person and "首次列入" in person
    client.force_login(admin_user)
    assert client.get(reverse("monitoring:listing_list")).status_code == 403
    assert "监测预警" not in client.get(reverse("home")).content.decode()


def test_run_on_demand_from_the_page(
    registered, thresholds, reviewer, clerk, client, django_capture_on_commit_callbacks, eager_tasks
):
    settle(registered, day=datetime.date(2026, 3, 10))
    client.force_login(clerk)
    assert client.post(reverse("monitoring:run_request"), {"month": "2026-06"}).status_code == 403
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("monitoring:run_request"), {"month": "2026-06"})
    assert registered.name in client.get(reverse("monitoring:listing_list")).content.decode()


def test_operator_commands(two_townships, tmp_path):
    out = io.StringIO()
    call_command("monitor", "--month", "2026-06", stdout=out)
    assert "计算 2 人，达到阈值 2 人，首次列入 0 人" in out.getvalue()
    out = io.StringIO()
    path = tmp_path / "监测名单.xlsx"
    call_command("export_monitoring", str(path), "--month", "2026-06", "--new-only", stdout=out)
    assert "2 人（新增 2 人）" in out.getvalue()
    rows = [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]
    assert two_townships[0].id_number in [r[0] for r in rows]
    assert Push.objects.get().department == "MZ"


def test_a_push_whose_file_cannot_be_written_is_not_recorded(two_townships, tmp_path, monkeypatch):
    import os

    call_command("monitor", "--month", "2026-06", stdout=io.StringIO())

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(CommandError, match="无法写入"):
        call_command("export_monitoring", str(tmp_path / "监测名单.xlsx"), "--month", "2026-06", stdout=io.StringIO())
    assert not Push.objects.exists() and list(tmp_path.iterdir()) == []


def test_household_lines_are_checked_and_incomes_read_as_amounts():
    from monitoring.forms import ZbOpenForm

    good = ZbOpenForm({"household_size": 3, "declared_income": "16800", "members": "梁秀珍 配偶 9,600\n李明 子女"})
    assert good.is_valid(), good.errors
    assert good.household() == [
        {"name": "梁秀珍", "relation": "配偶", "income": "9600"},
        {"name": "李明", "relation": "子女", "income": ""},
    ]
    bad = ZbOpenForm({"household_size": 3, "declared_income": "16800", "members": "梁秀珍 配偶 九千\n李明 子女 1 2"})
    assert not bad.is_valid()
    assert bad.errors["members"] == ["第 1 行的年收入“九千”不是金额；第 2 行多了内容（应为：姓名 关系 年收入）"]
