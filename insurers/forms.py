import datetime

from django import forms
from django.utils import timezone

from .models import TERMS_FIELDS, InsurerStatement, InsurerTerms


class StatementRequestForm(forms.Form):
    PERIODS = [("H1", "上半年（1—6 月）"), ("H2", "下半年（7—12 月）"), ("clearing", "年度清算（次年 3 月）")]

    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    period = forms.ChoiceField(label="结算期间", choices=PERIODS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year

    def request(self) -> dict:
        period = self.cleaned_data["period"]
        if period == "clearing":
            return {"kind": InsurerStatement.Kind.CLEARING, "year": self.cleaned_data["year"], "half": None}
        return {"kind": InsurerStatement.Kind.HALF, "year": self.cleaned_data["year"], "half": int(period[1])}


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label="金额（元）", max_digits=14, decimal_places=2, min_value=0)
    paid_on = forms.DateField(label="支付日期", widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label="凭证号", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class TermsForm(forms.ModelForm):
    class Meta:
        model = InsurerTerms
        fields = TERMS_FIELDS
        widgets = {
            "contract_start": forms.DateInput(attrs={"type": "date"}),
            "contract_end": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and version is not None:
            start = version.effective_from
            self.initial.setdefault("contract_start", start)
            self.initial.setdefault("contract_end", datetime.date(start.year, 12, 31))

    def clean(self):
        data = super().clean()
        for month, day, label in (
            ("first_due_month", "first_due_day", "上半年"),
            ("second_due_month", "second_due_day", "下半年"),
        ):
            if data.get(month) and not 1 <= data[month] <= 12:
                self.add_error(month, f"{label}拨付截止月应为 1—12")
            if data.get(day) and not 1 <= data[day] <= 31:
                self.add_error(day, f"{label}拨付截止日应为 1—31")
        if data.get("clearing_month") and not 1 <= data["clearing_month"] <= 12:
            self.add_error("clearing_month", "清算月份应为 1—12")
        return data
