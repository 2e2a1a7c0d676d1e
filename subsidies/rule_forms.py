"""The administrator's forms of premium-subsidy rules: a draft's values and its rule rows, a preset to load, a copy
for another year. The rules themselves are checked by the service (subsidies.rules.rule_errors): a category
listed twice or a negative amount saves nothing."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from accounts.forms import BootstrapFormMixin
from lib.widgets import DateInput
from recipients.categories import Category
from recipients.models import County

from .models import Mode, SubsidyRuleSet
from .presets import PRESET_NAMES

HUNDRED = Decimal("100")


class RuleSetForm(BootstrapFormMixin, forms.ModelForm):
    target_percent = forms.DecimalField(
        label="资助参保率目标（%）", min_value=0, max_value=100, decimal_places=2, initial=100
    )

    class Meta:
        model = SubsidyRuleSet
        fields = ["name", "document_number", "premium", "premium_to_confirm", "reference_date", "new_in_year", "notes"]
        widgets = {"reference_date": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["target_percent"].initial = self.instance.target * HUNDRED
        self.fields["premium"].min_value = 0
        self.fields["premium"].widget.attrs["min"] = "0"

    def clean_premium(self):
        premium = self.cleaned_data.get("premium")
        if premium is not None and premium < 0:
            raise forms.ValidationError("个人缴费标准不能为负数")
        return premium

    def values(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["target"] = (self.cleaned_data["target_percent"] / HUNDRED).quantize(Decimal("0.0001"))
        return data


class RuleForm(BootstrapFormMixin, forms.Form):
    category = forms.ChoiceField(label="救助类别", required=False, choices=[("", "（不填）"), *Category.choices])
    mode = forms.ChoiceField(label="资助方式", choices=Mode.choices, initial=Mode.NONE)
    amount = forms.DecimalField(label="定额（元）", required=False, decimal_places=2, max_digits=14)
    to_confirm = forms.BooleanField(label="待确认", required=False)
    note = forms.CharField(label="依据或说明", required=False, max_length=200)


RuleFormSet = forms.formset_factory(RuleForm, extra=3)


def rule_rows(formset) -> list[dict]:
    """The filled rows of a valid formset (a row without a category is left out)."""
    return [
        {key: form.cleaned_data.get(key) for key in ("category", "mode", "amount", "to_confirm", "note")}
        for form in formset.forms
        if form.cleaned_data.get("category")
    ]


class PresetForm(BootstrapFormMixin, forms.Form):
    preset = forms.ChoiceField(label="预置方案", choices=list(PRESET_NAMES.items()))
    year = forms.IntegerField(label="参保年度", min_value=2000, max_value=2100)
    premium = forms.DecimalField(label="个人缴费标准（元）", required=False, min_value=0, decimal_places=2)
    county = forms.ModelChoiceField(label="县（区）", queryset=County.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"year": timezone.localdate().year + 1})
        super().__init__(*args, **kwargs)
        if user.prefecture_wide:
            self.fields["county"].queryset = County.objects.order_by("code")
            self.fields["county"].required = True
        else:
            del self.fields["county"]


class CopyForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(label="复制到参保年度", min_value=2000, max_value=2100)
