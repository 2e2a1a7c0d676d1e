"""Forms of 资助参保: the result upload, the list's filters, the contact log, the rule set's edit form."""

from django import forms
from django.utils import timezone

from accounts.forms import BootstrapFormMixin
from imports.forms import UploadForm
from lib.widgets import DateInput
from recipients.categories import Category
from recipients.fields import TownshipFilter

from .models import EnrolmentStatus, EntryKind, SubsidyContact


def _this_year() -> int:
    return timezone.localdate().year


class EnrolmentUploadForm(UploadForm):
    file_label = "参保结果文件"

    year = forms.IntegerField(
        label="参保年度",
        min_value=2000,
        max_value=2100,
        initial=_this_year,
        help_text="文件中每一行的“参保年度”都须为此年度",
    )


class EntryFilterForm(BootstrapFormMixin, TownshipFilter):
    q = forms.CharField(label="身份证号或姓名", required=False, max_length=50)
    year = forms.IntegerField(label="参保年度", required=False, min_value=2000, max_value=2100)
    category = forms.ChoiceField(label="资助类别", required=False, choices=[("", "全部类别"), *Category.choices])
    kind = forms.ChoiceField(label="名单", required=False, choices=[("", "全部"), *EntryKind.choices])
    status = forms.ChoiceField(
        label="参保状态",
        required=False,
        choices=[
            ("", "全部"),
            (EnrolmentStatus.ENROLLED, "已参保"),
            (EnrolmentStatus.NOT_ENROLLED, "未参保（含未回传）"),
        ],
    )
    added_from = forms.DateField(label="认定日期自", required=False, widget=DateInput())
    added_to = forms.DateField(label="认定日期至", required=False, widget=DateInput())
    field_order = ["q", "year", "township", "category", "kind", "status", "added_from", "added_to"]

    def clean(self):
        data = super().clean()
        if data.get("added_from") and data.get("added_to") and data["added_from"] > data["added_to"]:
            self.add_error("added_to", "截止日期不能早于起始日期")
        return data


class ContactForm(BootstrapFormMixin, forms.Form):
    contacted_on = forms.DateField(label="联系日期", widget=DateInput())
    method = forms.ChoiceField(label="联系方式", choices=SubsidyContact.Method.choices)
    outcome = forms.ChoiceField(label="联系结果", choices=SubsidyContact.Outcome.choices)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"contacted_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
