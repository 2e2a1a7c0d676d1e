"""A hostile insurer name is shown escaped on every insurer page and panel, and in the Excel statement as text."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from insurers.excel import statement_workbook
from insurers.models import InsurerTerms
from payouts.services import batch_create
from tests.factories import ApprovedCaseFactory
from tests.test_hostile_text import HANDLER, HOSTILE, SCRIPT_TAG

from .conftest import at, build, onestop

pytestmark = pytest.mark.django_db


def test_hostile_insurer_name_is_escaped(client, terms, county, finance, supervisor, admin_user, db_person):
    InsurerTerms.objects.filter(pk=terms.pk).update(insurer_name=f"保险{HOSTILE}", contract_number="=1+2")
    onestop(db_person, datetime.date(2026, 2, 1), "1000")
    ApprovedCaseFactory(person=db_person)
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        batch = batch_create(user=finance)
        for user, url in (
            (finance, reverse("insurers:statement_list")),
            (finance, reverse("insurers:statement_detail", args=[statement.pk])),
            (finance, reverse("payouts:batch_detail", args=[batch.pk])),
            (supervisor, reverse("reports:dashboard") + "?year=2026"),
            (admin_user, reverse("insurers:terms_list")),
        ):
            client.force_login(user)
            html = client.get(url).content.decode()
            assert "保险&lt;/script&gt;" in html, url
            assert HOSTILE not in html and "<img src=x>" not in html, url
            assert not SCRIPT_TAG.search(html) and HANDLER.search(html) is None, url
    sheet = load_workbook(io.BytesIO(statement_workbook(statement)))["结算单"]
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any(v.startswith("保险</script>") for v in values)
    assert not any(v.startswith("=") for v in values)
