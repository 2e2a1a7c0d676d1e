from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone

from imports.forms import UploadForm
from lib.widgets import DateInput

from .categories import Source
from .fields import TownshipFilter
from .idnumber import IdNumberError, parse_id_number


class IdNumberField(forms.CharField):
    """A resident ID checked with GB 11643 and normalised (upper-case X, full-width digits read as ASCII)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value).strip()
        if not value:
            return ""
        try:
            return parse_id_number(value).number
        except IdNumberError as exc:
            raise forms.ValidationError(str(exc)) from None


class PersonSearchForm(TownshipFilter):
    q = forms.CharField(
        label="身份证号或姓名",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "完整身份证号、前 6 位以上、后 4 位，或姓名"}),
    )
    field_order = ["q", "township"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"  # the search text stays out of the URL (lib.searches)
        columns = [Column("q", css_class="col-md-6")]
        if "township" in self.fields:
            columns.append(Column("township", css_class="col-md-4"))
        columns.append(Column(Submit("", "查询", css_class="mt-md-4"), css_class="col-md-2"))
        self.helper.layout = Layout(Row(*columns))


class RosterUploadForm(UploadForm):
    file_label = "名册文件"

    source = forms.ChoiceField(
        label="数据来源",
        choices=Source.choices,
        initial=Source.MZ,
        help_text="文件中“数据来源”列为空时使用此来源",
    )
    snapshot_date = forms.DateField(
        label="快照日期（全量名册时填写）",
        required=False,
        widget=DateInput(),
        help_text="填写后按全量快照处理：该来源下文件中没有的有效身份，将在快照日期前一天终止。增量名册请留空。",
    )

    def clean_snapshot_date(self):
        snapshot_date = self.cleaned_data.get("snapshot_date")
        if snapshot_date and snapshot_date > timezone.localdate():
            raise forms.ValidationError("快照日期不能晚于今天")
        return snapshot_date
