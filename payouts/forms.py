from django import forms

from accounts.forms import BootstrapFormMixin
from applications.models import Case
from lib.widgets import DateInput
from recipients.fields import NewAccountFields
from recipients.models import Township


class BatchFilterForm(BootstrapFormMixin, forms.Form):
    township = forms.ModelChoiceField(
        label="乡镇（街道）", queryset=Township.objects.all(), required=False, empty_label="全部乡镇"
    )
    benefit = forms.ChoiceField(
        label="救助类型", required=False, choices=[("", "全部"), ("first", "第一轮救助"), ("secondary", "二次救助")]
    )
    source = forms.ChoiceField(label="来源", required=False, choices=[("", "全部来源"), *Case.Source.choices])
    approved_from = forms.DateField(label="批准日期起", required=False, widget=DateInput())
    approved_to = forms.DateField(label="批准日期止", required=False, widget=DateInput())
    purpose = forms.CharField(label="摘要（代发文件）", max_length=50, initial="医疗救助金", required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:  # the townships of the user's county
            self.fields["township"].queryset = Township.objects.visible_to(user)

    def clean(self):
        data = super().clean()
        if data.get("approved_from") and data.get("approved_to") and data["approved_from"] > data["approved_to"]:
            raise forms.ValidationError("批准日期起不能晚于批准日期止")
        return data


class ReturnUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label="银行回盘文件（.xlsx 或 .csv）")


class PayeeForm(BootstrapFormMixin, NewAccountFields, forms.Form):
    """The payee of a case whose payment failed: the account typed anew, twice (the current one is shown masked)."""

    payee_name = forms.CharField(label="户名", max_length=50)
    payee_bank = forms.CharField(label="开户银行", max_length=100)
    reason = forms.CharField(label="更正原因", max_length=200)
    account_required = True
    field_order = ["payee_name", "payee_bank", "new_account", "new_account_again", "reason"]

    def payee(self) -> dict:
        data = self.cleaned_data
        return {
            "payee_name": data["payee_name"],
            "payee_bank": data["payee_bank"],
            "payee_account": data["new_account"],
            "reason": data["reason"],
        }


class NoticeForm(forms.Form):
    """Options of the 公示名单 download: the notice date (the 公示期 starts that day) and one sheet per township."""

    date = forms.DateField(label="公示日期", required=False, widget=DateInput())
    by_township = forms.BooleanField(label="按乡镇分表", required=False)
