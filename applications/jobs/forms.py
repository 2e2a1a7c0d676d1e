from django import forms

from accounts.forms import BootstrapFormMixin
from recipients.models import County


class RunForm(BootstrapFormMixin, forms.Form):
    county = forms.ModelChoiceField(
        label="县（区）", queryset=County.objects.none(), required=False, empty_label="全部县（区）"
    )
    year = forms.IntegerField(label="年度（空为全部）", required=False, min_value=2000, max_value=2100)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        counties = County.objects.filter(townships__isnull=False).distinct()
        if user is not None and not user.prefecture_wide:
            # A county's roles run their county's jobs (the form is left out: the view sets the county).
            del self.fields["county"]
        elif counties.count() > 1:  # one county: its jobs are everybody's
            self.fields["county"].queryset = counties
        else:
            del self.fields["county"]


class ScheduleForm(BootstrapFormMixin, forms.Form):
    enabled = forms.BooleanField(label="启用每晚自动比对", required=False)
    hour = forms.IntegerField(label="时", min_value=0, max_value=23)
    minute = forms.IntegerField(label="分", min_value=0, max_value=59)
