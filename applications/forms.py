from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms

from recipients.categories import Category
from recipients.idnumber import IdNumberError, parse_id_number

from .models import VisitType

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class CalculatorForm(forms.Form):
    id_number = forms.CharField(
        label="身份证号", required=False, max_length=18, help_text="填写则按此人在就诊日期有效的身份计算"
    )
    category = forms.ChoiceField(
        label="或直接选择救助类别", required=False, choices=[("", "—")] + list(Category.choices)
    )
    service_date = forms.DateField(
        label="就诊（出院）日期", widget=forms.DateInput(attrs={"type": "date"}), help_text="住院填出院日期"
    )
    visit_type = forms.ChoiceField(label="就诊类型", choices=VisitType.choices, initial=VisitType.INPATIENT)
    total = forms.DecimalField(label="医疗总费用", **MONEY_FIELD)
    in_policy = forms.DecimalField(label="政策范围内费用", **MONEY_FIELD)
    basic = forms.DecimalField(label="基本医保统筹支付", initial=0, **MONEY_FIELD)
    critical = forms.DecimalField(label="大病保险支付", initial=0, required=False, **MONEY_FIELD)
    other = forms.DecimalField(label="其他保险支付", initial=0, required=False, **MONEY_FIELD)
    donation = forms.DecimalField(label="社会捐赠", initial=0, required=False, **MONEY_FIELD)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        if not value:
            return ""
        try:
            return parse_id_number(value).number
        except IdNumberError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        for name in ("critical", "other", "donation"):
            if data.get(name) is None:
                data[name] = Decimal("0")
        if not data.get("id_number") and not data.get("category"):
            raise forms.ValidationError("请填写身份证号，或选择一个救助类别")
        total, in_policy = data.get("total"), data.get("in_policy")
        if total is not None and in_policy is not None:
            if in_policy > total:
                self.add_error("in_policy", "政策范围内费用不能大于医疗总费用")
            paid = sum(data.get(n) or Decimal("0") for n in ("basic", "critical", "other"))
            if paid > total:
                self.add_error("basic", "各项保险支付之和不能大于医疗总费用")
        return data
