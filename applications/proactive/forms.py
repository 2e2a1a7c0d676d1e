from django import forms
from django.utils import timezone

from accounts.forms import BootstrapFormMixin
from lib.widgets import DateInput
from recipients.fields import TownshipFilter

from ..models import Lead, LeadContact


class LeadFilterForm(BootstrapFormMixin, TownshipFilter):
    q = forms.CharField(label="线索编号、身份证号或姓名", required=False)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *Lead.Status.choices], initial=Lead.Status.OPEN
    )
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    field_order = ["q", "status", "year", "township"]


class ContactForm(BootstrapFormMixin, forms.Form):
    contacted_on = forms.DateField(label="联系日期", widget=DateInput())
    method = forms.ChoiceField(label="联系方式", choices=LeadContact.Method.choices)
    outcome = forms.ChoiceField(label="联系结果", choices=LeadContact.Outcome.choices)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"contacted_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class CloseForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(
        label="关闭原因", choices=[c for c in Lead.CloseReason.choices if c[0] != Lead.CloseReason.RESOLVED]
    )
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=500)
