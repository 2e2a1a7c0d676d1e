import re
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.forms import formset_factory

from lib.widgets import DateInput
from recipients.categories import Category
from settlements.visits import Pool, VisitType

from ..models import FirstRoundRule, PolicyVersion

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class CalculatorForm(forms.Form):
    id_number = forms.CharField(
        label="身份证号", required=False, max_length=18, help_text="填写则按此人在就诊日期有效的身份计算"
    )
    category = forms.ChoiceField(
        label="或直接选择救助类别", required=False, choices=[("", "—")] + list(Category.choices)
    )
    service_date = forms.DateField(label="就诊（出院）日期", widget=DateInput(), help_text="住院填出院日期")
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


PERCENT = {"max_digits": 7, "decimal_places": 4, "min_value": Decimal("0"), "max_value": Decimal("100")}
_BAND_RE = re.compile(
    r"^(?:(?P<upto>\d+(?:\.\d{1,2})?)\s*(?:元)?以内|其余|全部)?\s*(?:按)?\s*(?P<ratio>\d+(?:\.\d+)?)\s*%$"
)


def parse_bands(text: str) -> list[dict]:
    """'10000以内70%；其余80%' or '80%' → [{"upto": "10000", "ratio": "0.7"}, {"upto": None, "ratio": "0.8"}]."""
    parts = [p.strip() for p in re.split(r"[；;\n]", text) if p.strip()]
    if not parts:
        raise forms.ValidationError("请填写救助比例，如“80%”或“10000以内70%；其余80%”")
    bands, last = [], Decimal("0")
    for index, part in enumerate(parts):
        match = _BAND_RE.match(part.replace(",", "").replace("，", ""))
        if not match:
            raise forms.ValidationError(f"无法识别“{part}”，应写作“10000以内70%”或“其余80%”")
        ratio = Decimal(match["ratio"])
        if ratio > 100:
            raise forms.ValidationError("比例不能超过 100%")
        upto = match["upto"]
        is_last = index == len(parts) - 1
        if upto is None and not is_last:
            raise forms.ValidationError("只有最后一段可以不写上限")
        if upto is not None:
            if Decimal(upto) <= last:
                raise forms.ValidationError("分段上限必须从小到大排列")
            last = Decimal(upto)
        bands.append({"upto": upto, "ratio": str((ratio / 100).normalize())})
    if bands[-1]["upto"] is not None:
        bands.append({"upto": None, "ratio": bands[-1]["ratio"]})
    return bands


def format_bands(bands: list[dict]) -> str:
    if len(bands) == 1 and bands[0]["upto"] is None:
        return f"{(Decimal(bands[0]['ratio']) * 100).normalize():f}%"
    return "；".join(
        (f"{b['upto']}以内" if b["upto"] is not None else "其余") + f"{(Decimal(b['ratio']) * 100).normalize():f}%"
        for b in bands
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class PolicyVersionForm(forms.ModelForm):
    key_categories = forms.MultipleChoiceField(
        label="重点救助对象类别", choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    to_confirm_text = forms.CharField(
        label="待确认的参数（每行一项）", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    materials_text = forms.CharField(
        label="申请材料清单（每行一项）", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    key_materials_text = forms.CharField(
        label="关键材料（每行一项，须在清单中）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="缺少时不能受理，也不能容缺受理；清单中其余材料可容缺受理、限期补齐",
    )
    major_disease_codes_text = forms.CharField(
        label="重特大疾病诊断编码（ICD-10 前缀，逗号分隔）",
        required=False,
        help_text="如 C00-C97 写作 C；结算数据标记为重特大疾病的也计入",
    )

    class Meta:
        model = PolicyVersion
        fields = [
            "name",
            "document_number",
            "effective_from",
            "effective_to",
            "time_limit_working_days",
            "claim_deadline_days",
            "public_notice_required",
            "second_approval_threshold",
            "sample_share",
            "sample_minimum",
            "notes",
        ]
        widgets = {
            "effective_from": DateInput(),
            "effective_to": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample_share"].required = self.fields["sample_minimum"].required = False
        if self.instance.pk and not self.is_bound:
            self.initial["key_categories"] = self.instance.key_categories
            self.initial["to_confirm_text"] = "\n".join(self.instance.to_confirm)
            self.initial["materials_text"] = "\n".join(self.instance.materials)
            self.initial["key_materials_text"] = "\n".join(self.instance.key_materials)
            self.initial["major_disease_codes_text"] = ", ".join(self.instance.major_disease_codes)

    def clean_sample_share(self):
        # Left empty: the model's default share (a form posted without the 基金监管 fields keeps working).
        value = self.cleaned_data.get("sample_share")
        return PolicyVersion._meta.get_field("sample_share").default if value is None else value

    def clean_sample_minimum(self):
        value = self.cleaned_data.get("sample_minimum")
        return PolicyVersion._meta.get_field("sample_minimum").default if value is None else value

    def clean_major_disease_codes_text(self):
        codes = [
            c.strip().upper()
            for c in re.split(r"[,，、\s]+", self.cleaned_data["major_disease_codes_text"])
            if c.strip()
        ]
        for code in codes:
            if not re.match(r"^[A-Z][0-9A-Z.]{0,6}$", code):
                raise forms.ValidationError(f"“{code}”不是有效的 ICD-10 编码前缀")
        return codes

    def clean_materials_text(self):
        names = _lines(self.cleaned_data["materials_text"])
        too_long = [name for name in names if len(name) > 100]
        if too_long:
            raise forms.ValidationError(f"材料名称不能超过 100 个字：{too_long[0][:20]}…")
        if len(set(names)) != len(names):
            raise forms.ValidationError("材料清单中有重复的名称")
        return "\n".join(names)

    def clean(self):
        data = super().clean()
        if "materials_text" in data and "key_materials_text" in data:
            listed = _lines(data["materials_text"])
            key = _lines(data["key_materials_text"])
            unknown = [name for name in key if name not in listed]
            if unknown:
                self.add_error("key_materials_text", f"不在申请材料清单中：{'、'.join(unknown)}")
            else:
                data["key_materials_text"] = [name for name in listed if name in key]
        return data

    def extra_fields(self) -> dict:
        return {
            "key_categories": self.cleaned_data["key_categories"],
            "to_confirm": _lines(self.cleaned_data["to_confirm_text"]),
            "materials": _lines(self.cleaned_data["materials_text"]),
            "major_disease_codes": self.cleaned_data["major_disease_codes_text"],
            "key_materials": self.cleaned_data["key_materials_text"],
        }


class FirstRoundRowForm(forms.Form):
    category = forms.CharField(widget=forms.HiddenInput)
    visit_type = forms.CharField(widget=forms.HiddenInput)
    eligible = forms.BooleanField(label="享受", required=False)
    ratio_percent = forms.DecimalField(label="比例（%）", required=False, **PERCENT)
    deductible_kind = forms.ChoiceField(label="起付线方式", choices=FirstRoundRule.DeductibleKind.choices)
    deductible_value = forms.DecimalField(
        label="起付线", required=False, min_value=Decimal("0"), max_digits=14, decimal_places=4
    )
    cap = forms.DecimalField(label="年度封顶（空为不封顶）", required=False, **MONEY_FIELD)
    pool = forms.ChoiceField(label="封顶额度", choices=Pool.choices)

    def clean(self):
        data = super().clean()
        if data.get("eligible") and data.get("ratio_percent") is None and "ratio_percent" not in self.errors:
            self.add_error("ratio_percent", "享受第一轮救助时必须填写比例")
        kind = data.get("deductible_kind")
        value = data.get("deductible_value") or Decimal("0")
        if kind == FirstRoundRule.DeductibleKind.INCOME_SHARE and value > 1:
            self.add_error("deductible_value", "按收入百分比时填小数，如 0.10 表示 10%")
        data["deductible_value"] = value
        return data

    def to_row(self) -> dict:
        d = self.cleaned_data
        return {
            "category": d["category"],
            "visit_type": d["visit_type"],
            "eligible": d["eligible"],
            "ratio": (d["ratio_percent"] or Decimal("0")) / 100,
            "deductible_kind": d["deductible_kind"],
            "deductible_value": d["deductible_value"],
            "cap": d["cap"],
            "pool": d["pool"],
        }


class SecondaryRowForm(forms.Form):
    category = forms.CharField(widget=forms.HiddenInput)
    enabled = forms.BooleanField(label="享受", required=False)
    trigger = forms.DecimalField(label="启动标准", required=False, **MONEY_FIELD)
    deductible = forms.DecimalField(label="起付线", required=False, **MONEY_FIELD)
    bands_text = forms.CharField(label="比例或分段", required=False)
    cap = forms.DecimalField(label="年度封顶（空为不封顶）", required=False, **MONEY_FIELD)

    def clean(self):
        data = super().clean()
        if data.get("enabled"):
            try:
                data["bands"] = parse_bands(data.get("bands_text") or "")
            except forms.ValidationError as exc:
                self.add_error("bands_text", exc)
        return data

    def to_row(self) -> dict | None:
        d = self.cleaned_data
        if not d.get("enabled"):
            return None
        return {
            "category": d["category"],
            "trigger": d.get("trigger") or Decimal("0"),
            "deductible": d.get("deductible") or Decimal("0"),
            "bands": d["bands"],
            "cap": d.get("cap"),
        }


class RuleFormSet(forms.BaseFormSet):
    """One form per category (× visit type), every one validated even if left unchanged."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "empty_permitted": False}


FirstRoundFormSet = formset_factory(FirstRoundRowForm, formset=RuleFormSet, extra=0)
SecondaryFormSet = formset_factory(SecondaryRowForm, formset=RuleFormSet, extra=0)
