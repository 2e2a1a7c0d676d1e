"""One user per role, plus Charlie: a clerk of another township (the outsider)."""

import contextlib
import os

import pytest
from django.conf import settings
from django.urls import reverse
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from accounts.roles import Role
from applications.cases.materials import materials_listed

from .browser import browser_page, stray_connections  # noqa: F401  (fixtures of the browser tests)
from .factories import TownshipFactory, UserFactory, VillageFactory


@pytest.fixture(autouse=True)
def fresh_cache():
    """Figures kept in the cache (lib.cached) belong to the test that computed them: every test starts empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def township(db):
    return TownshipFactory(name="石鼓镇")


@pytest.fixture
def village(township):
    return VillageFactory(township=township, name="石鼓村")


@pytest.fixture
def other_township(db):
    return TownshipFactory(name="东岸镇")


@pytest.fixture
def other_village(other_township):
    return VillageFactory(township=other_township, name="东岸村")


@pytest.fixture
def clerk(township):
    return UserFactory(username="alice", role=Role.CLERK, township=township)


@pytest.fixture
def outsider(other_township):
    return UserFactory(username="charlie", role=Role.CLERK, township=other_township)


@pytest.fixture
def reviewer(db):
    return UserFactory(username="bob", role=Role.REVIEWER)


@pytest.fixture
def approver(db):
    return UserFactory(username="approver", role=Role.APPROVER)


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", role=Role.FINANCE)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", role=Role.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="sysadmin", role=Role.ADMIN)


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def clerk_client(client, clerk):
    return client_for(client, clerk)


@pytest.fixture
def reviewer_client(client, reviewer):
    return client_for(client, reviewer)


@pytest.fixture
def task_worker(transactional_db):
    """Run Celery tasks for the test: in-process without a broker, a real worker with REDIS_URL.

    With a broker the worker runs in a thread of this process and sees only committed data,
    so tests using this fixture are transactional.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process for this test even when a broker is configured."""
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@contextlib.contextmanager
def env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def db_examples(max_examples: int):
    """Hypothesis settings for a property over the database.

    Each example builds its data inside `lib.bench.rolled_back()` (a savepoint rolled back at its end) on top of
    what the test's fixtures set up once, so the fixtures are shared by the examples on purpose; no deadline,
    since database round trips vary. Keep `max_examples` small (each example runs real services: a few seconds
    a test on PostgreSQL); DB_EXAMPLES_SCALE=20 searches twenty times longer, e.g. before a release.
    """
    return hypothesis_settings(
        max_examples=max(1, round(max_examples * float(os.environ.get("DB_EXAMPLES_SCALE", "1")))),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        # No explain phase: it re-runs a failing example under a tracer, minutes over real services.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )


@pytest.fixture
def second_approver(db):
    return UserFactory(username="approver2", role=Role.APPROVER)


def accept_with_every_material(client, case):
    """受理 through the case page's checklist with every listed material ticked as received."""
    listed, _ = materials_listed(case)
    return client.post(
        reverse("applications:case_materials", args=[case.pk]), {"supplied": listed, "do": "accept"}, follow=True
    )
