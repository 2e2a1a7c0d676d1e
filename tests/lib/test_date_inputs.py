"""Every date input of every form renders its value as an ISO date, which is all a browser's date picker takes
(the lead's contact date came out as 2026/12/01 and the field showed empty)."""

import importlib
import inspect
import pkgutil

from django import forms
from django.utils import timezone

import accounts
import applications
import audit
import imports
import payouts
import recipients
import reports
import settlements
from lib.widgets import DateInput

PACKAGES = [accounts, applications, audit, imports, payouts, recipients, reports, settlements]


def form_classes():
    for package in PACKAGES:
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] not in ("forms", "filters"):
                continue
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    cls.__module__ == module.__name__
                    and hasattr(cls, "base_fields")
                    or cls.__module__ == module.__name__
                    and hasattr(cls, "base_filters")
                ):
                    yield cls


def date_widgets():
    for cls in form_classes():
        fields = getattr(cls, "base_fields", None) or {
            name: f.field for name, f in getattr(cls, "base_filters", {}).items()
        }
        for name, field in fields.items():
            if isinstance(field, forms.DateField):
                yield f"{cls.__module__}.{cls.__name__}.{name}", field.widget


def test_every_date_field_uses_the_iso_date_picker(db):
    found = list(date_widgets())
    assert len(found) >= 10
    wrong = [name for name, widget in found if not (isinstance(widget, DateInput) or widget.input_type != "date")]
    assert wrong == []
    pickers = [name for name, widget in found if widget.input_type == "date"]
    assert set(pickers) == {name for name, _ in found}, "a date field without the date picker"


def test_the_lead_contact_date_starts_as_today_in_iso(db):
    from applications.proactive.forms import ContactForm

    html = str(ContactForm()["contacted_on"])
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in html and 'type="date"' in html
