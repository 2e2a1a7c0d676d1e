"""The format registry: the formats found at start-up, and the mistakes it refuses."""

import dataclasses

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from audit.actions import ACTION_LABELS
from imports.registry import all_formats, format_for_model, get_format, register
from recipients.models import RosterImport
from settlements.models import SettlementImport

STEPS = ["upload", "validate", "confirm", "apply", "cancel", "fail"]
PAGES = ["import_list", "import_upload", "import_template"]
RECORD_PAGES = ["import_detail", "import_confirm", "import_cancel", "import_errors_download"]


def test_both_formats_are_found_at_start_up():
    assert {f.kind for f in all_formats()} >= {"roster", "settlement"}
    assert format_for_model(RosterImport) is get_format("roster")
    assert format_for_model(SettlementImport) is get_format("settlement")


@pytest.mark.parametrize("kind", ["roster", "settlement", "enrolment"])
def test_each_format_has_its_pages_and_labelled_audit_actions(kind):
    fmt = get_format(kind)
    for name in PAGES:
        assert reverse(f"{fmt.namespace}:{name}")
    for name in RECORD_PAGES:
        assert reverse(f"{fmt.namespace}:{name}", args=[1])
    for step in STEPS:
        assert f"{fmt.audit_prefix}.{step}" in ACTION_LABELS


def test_an_unknown_format_is_a_lookup_error():
    with pytest.raises(LookupError):
        get_format("no_such_format")
    with pytest.raises(LookupError):
        format_for_model(dict)


def test_a_kind_or_a_model_cannot_be_registered_twice():
    roster = get_format("roster")
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        register(dataclasses.replace(roster, label="另一个"))
    with pytest.raises(ImproperlyConfigured, match="already records"):
        register(dataclasses.replace(roster, kind="roster2"))
    assert get_format("roster") is roster
    with pytest.raises(LookupError):
        get_format("roster2")


def test_the_view_permission_is_the_models_unless_the_format_names_another(override_format, clerk):
    assert get_format("roster").view_permission == "recipients.view_rosterimport"
    assert get_format("settlement").view_permission == "settlements.view_settlementimport"
    SettlementImport.objects.create(file_name="x.csv", file_hash="0" * 64, file_size=1, county=clerk.township.county)
    assert not SettlementImport.objects.visible_to(clerk).exists()
    override_format("settlement", view_permission="settlements.view_settlement")  # a clerk holds this one
    assert SettlementImport.objects.visible_to(clerk).count() == 1
