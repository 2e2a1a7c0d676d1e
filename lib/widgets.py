"""Form widgets the portal's pages share."""

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. It takes only ISO dates (2026-12-01): any other rendering of the value (the
    locale's 2026/12/01) is silently dropped by the browser, and the field shows empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
