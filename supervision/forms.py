from decimal import Decimal

from django import forms
from django.utils import timezone

from accounts.forms import BootstrapFormMixin
from lib import months
from lib.widgets import DateInput
from recipients.models import Township

from .models import Reason, Recovery, SampleItem, Suggestion

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


class RecoveryForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(label="追回原因", choices=[("", "请选择"), *Reason.choices])
    amount = forms.DecimalField(
        label="应追回金额（元）", **MONEY, help_text="不能超过该案件已发放金额（扣除已登记的追回）"
    )
    note = forms.CharField(
        label="情况说明",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="发现经过和依据，如：民政 2026-11 名册退出日期更正为 2026-05-31",
    )
    offset_next = forms.BooleanField(label="从此人下次发放中抵扣", required=False)
    evidence = forms.FileField(label="证据扫描件（PDF、JPEG 或 PNG，可稍后补传）", required=False)


class RepaymentForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(label="退回金额（元）", **MONEY)
    received_on = forms.DateField(label="到账日期", widget=DateInput(), initial=timezone.localdate)
    reference = forms.CharField(label="银行回单或缴款书号", max_length=60)
    note = forms.CharField(label="说明", max_length=200, required=False)


class OffsetForm(BootstrapFormMixin, forms.Form):
    line = forms.TypedChoiceField(label="抵扣的发放（草稿批次中的明细）", coerce=int)
    amount = forms.DecimalField(label="抵扣金额（元）", **MONEY)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (line.pk, f"{line.batch.number} · {line.reference} · 案件 {line.case.number} · 实发 {line.amount:,.2f} 元")
            for line in lines
        ]


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class RecoveryFilterForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Recovery.Status.choices])
    reason = forms.ChoiceField(label="原因", required=False, choices=[("", "全部原因"), *Reason.choices])
    township = forms.ModelChoiceField(
        label="乡镇（街道）", queryset=Township.objects.all(), required=False, empty_label="全部乡镇"
    )
    writeoff = forms.BooleanField(label="核销待审批", required=False)
    q = forms.CharField(label="追回编号、案件编号或姓名", required=False, max_length=50)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["township"].queryset = Township.objects.visible_to(user)


class SuggestionFilterForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("open", "待确认"), ("confirmed", "已登记追回"), ("dismissed", "不予追回"), ("all", "全部")],
    )
    rule = forms.ChoiceField(label="依据", required=False, choices=[("", "全部依据"), *Suggestion.Rule.choices])


class ConfirmSuggestionForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(label="追回金额（元）", **MONEY)
    note = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 3}))
    offset_next = forms.BooleanField(label="从此人下次发放中抵扣", required=False)


class DrawForm(BootstrapFormMixin, forms.Form):
    month = forms.CharField(label="月份", max_length=10, widget=forms.TextInput(attrs={"type": "month"}))

    def clean_month(self):
        try:
            return months.not_after(months.parse_month(self.cleaned_data["month"]), timezone.localdate())
        except months.MonthError as exc:
            raise forms.ValidationError(str(exc)) from None


class CheckForm(BootstrapFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="复核结论", choices=[(SampleItem.Outcome.CORRECT, "无误"), (SampleItem.Outcome.WRONG, "有误")]
    )
    note = forms.CharField(label="复核意见", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    follow_up = forms.ChoiceField(
        label="有误时的处理",
        required=False,
        choices=[
            ("", "—"),
            (SampleItem.FollowUp.CORRECTION, "更正"),
            (SampleItem.FollowUp.RECOVERY, "追回（已发放的案件）"),
        ],
    )
    correction = forms.CharField(label="更正内容", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    reason = forms.ChoiceField(label="追回原因", required=False, choices=[("", "—"), *Reason.choices])
    amount = forms.DecimalField(label="追回金额（元）", required=False, **MONEY)
