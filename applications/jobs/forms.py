from django import forms

from accounts.forms import BootstrapFormMixin


class RunForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(label="年度（空为全部）", required=False, min_value=2000, max_value=2100)


class ScheduleForm(BootstrapFormMixin, forms.Form):
    enabled = forms.BooleanField(label="启用每晚自动比对", required=False)
    hour = forms.IntegerField(label="时", min_value=0, max_value=23)
    minute = forms.IntegerField(label="分", min_value=0, max_value=59)
