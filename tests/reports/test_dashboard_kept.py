"""The dashboard's figures are kept (reports.services.dashboard_figures): a view within a minute reads them again
without the queries over the year's cases and leads; once a minute old they are still shown while a worker computes
them again, and the next view has the new ones; a summary refresh shows at once."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Lead
from reports.facts import refresh_facts
from tests.conftest import client_for
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2025, 9, 29, 2, 0, tzinfo=datetime.UTC)


def found(client):
    return client.get(reverse("reports:dashboard"), {"year": 2025}).context["d"]["funnel"]["found"]


def lead(township, number):
    Lead.objects.create(number=number, person=PersonFactory(township=township), township=township, year=2025)


def test_kept_figures_are_shown_then_computed_again_by_a_worker_once_a_minute_old(
    client, supervisor, township, eager_tasks
):
    refresh_facts(year=2025)
    client_for(client, supervisor)
    with time_machine.travel(NOW, tick=False) as clock:
        lead(township, "XS1")
        assert found(client) == 1
        lead(township, "XS2")
        with CaptureQueriesContext(connection) as queries:
            assert found(client) == 1  # kept
        assert not [q for q in queries if "applications_lead" in q["sql"]]
        clock.shift(61)
        assert found(client) == 1  # still shown while the refresh (in-process here) computes them again
        assert found(client) == 2
        lead(township, "XS3")
        refresh_facts(year=2025)
        assert found(client) == 3  # a summary refresh shows at once
