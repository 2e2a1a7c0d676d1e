import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, Role
from audit.models import AuditEvent
from tests.factories import UserFactory

PASSWORD = "Correct-horse-2026"


@pytest.fixture
def alice(township):
    return UserFactory(username="alice", role=Role.CLERK, township=township, password=PASSWORD)


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_is_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "医疗救助经办管理系统" in response.text and "用户名" in response.text and "密码" in response.text


@pytest.mark.parametrize(
    "url", ["/", "/recipients/people/", "/recipients/imports/", "/recipients/imports/new/", "/audit/"]
)
def test_every_page_needs_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_and_logout_are_audited(client, alice):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")
    assert AuditEvent.objects.filter(action="auth.login", actor=alice).exists()
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=alice).exists()
    assert client.get("/").status_code == 302


def test_wrong_password_shows_chinese_error(client, alice):
    response = login(client, "alice", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert AuditEvent.objects.filter(action="auth.login_failed", object_repr="alice").exists()


def test_account_locks_after_repeated_failures(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong-password")
    # even the right password is refused now
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "账号已被暂时锁定" in response.text
    assert client.get("/").status_code == 302


def test_lock_expires_after_cooloff(client, alice):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login(client, "alice", "wrong-password")
        assert login(client, "alice", PASSWORD).status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1))
        assert login(client, "alice", PASSWORD).status_code == 302


def test_session_expires_after_idle_timeout(client, alice):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        assert login(client, "alice", PASSWORD).status_code == 302
        traveller.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1))
        assert client.get("/").status_code == 200  # activity renews the session
        traveller.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1))
        assert client.get("/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES + 1))
        response = client.get("/")
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_idle_timeout_is_thirty_minutes_by_default():
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST


def test_passwords_are_hashed_with_argon2(alice):
    assert alice.password.startswith("argon2")
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize("weak", ["12345678901", "password123", "short", "alice-alice"])
def test_weak_passwords_are_rejected(weak, db):
    with pytest.raises(ValidationError):
        validate_password(weak, user=User(username="alice-alice"))


def test_role_groups_carry_exactly_their_permissions(db):
    for role in Role:
        group = Group.objects.get(name=role.label)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert have == set(ROLE_PERMISSIONS[role]), role


def test_user_is_in_exactly_the_group_of_their_role(clerk):
    assert list(clerk.groups.values_list("name", flat=True)) == ["乡镇窗口经办"]
    clerk.role = Role.REVIEWER
    clerk.save()
    clerk.refresh_from_db()
    assert list(clerk.groups.values_list("name", flat=True)) == ["县局经办审核"]
    assert clerk.township is None  # county roles are not bound to a township


def test_clerk_without_township_is_refused_by_the_database(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(username="x", role=Role.CLERK)])


def test_only_unmask_roles_hold_the_pii_permission(clerk, reviewer, approver, finance, supervisor, admin_user):
    holders = {
        u.role
        for u in (clerk, reviewer, approver, finance, supervisor, admin_user)
        if u.has_perm("recipients.view_full_pii")
    }
    assert holders == {Role.CLERK, Role.REVIEWER, Role.FINANCE}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CLERK, ["乡镇窗口经办工作台", "本乡镇登记救助对象", "导入名册"]),
        (Role.REVIEWER, ["县局经办审核工作台", "全县登记救助对象", "导入名册"]),
        (Role.APPROVER, ["县局审批工作台", "全县登记救助对象"]),
        (Role.FINANCE, ["财务工作台", "全县登记救助对象"]),
        (Role.SUPERVISOR, ["领导督查工作台", "各乡镇救助对象", "审计日志"]),
        (Role.ADMIN, ["系统管理工作台", "在用账号", "用户与角色"]),
    ],
)
def test_each_role_has_its_home_page(client, township, role, expected):
    user = UserFactory(username=f"u-{role}", role=role, township=township)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    for text in expected:
        assert text in response.text, text


def test_nightly_job_clears_expired_sessions(client, alice):
    from django.contrib.sessions.models import Session

    from accounts.tasks import clear_expired_sessions

    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        login(client, "alice", PASSWORD)
        assert Session.objects.count() == 1
        traveller.shift(datetime.timedelta(hours=2))
        clear_expired_sessions()
        assert Session.objects.count() == 0


def test_admin_creates_a_clerk_only_with_a_township(client, admin_user, township):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_add")
    data = {
        "username": "newclerk",
        "full_name": "新经办",
        "role": Role.CLERK,
        "township": "",
        "password1": "Another-window-2026",
        "password2": "Another-window-2026",
        "usable_password": "true",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "乡镇窗口经办必须指定所属乡镇" in response.text
    assert not User.objects.filter(username="newclerk").exists()
    response = client.post(url, {**data, "township": township.pk})
    assert response.status_code == 302
    user = User.objects.get(username="newclerk")
    assert user.township == township and list(user.groups.values_list("name", flat=True)) == ["乡镇窗口经办"]
    assert user.password.startswith("argon2")
    assert AuditEvent.objects.filter(action="admin.add", object_id=str(user.pk)).exists()


def test_demoted_admin_loses_the_django_admin(admin_user, township):
    assert admin_user.is_staff
    admin_user.role = Role.CLERK
    admin_user.township = township
    admin_user.save()
    admin_user.refresh_from_db()
    assert not admin_user.is_staff
