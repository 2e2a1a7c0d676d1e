from django import forms
from django.utils import timezone

from imports.forms import UploadForm

# Years offered in the browser's filter: settlement extracts older than this are not kept online.
YEARS_BACK = 8


class SettlementUploadForm(UploadForm):
    file_label = "结算数据文件"


class SettlementFilterForm(forms.Form):
    """The browser's filters, read from the query string; anything unreadable is simply not applied."""

    hospital = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    q = forms.CharField(
        label="结算单号",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "结算单号（可只输前几位）"}),
    )
    year = forms.TypedChoiceField(
        label="服务年度",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [("", "全部年度")] + [
            (y, f"{y} 年") for y in range(this_year, this_year - YEARS_BACK, -1)
        ]

    def filters(self) -> dict:
        self.is_valid()  # fills cleaned_data with the fields that are valid
        return {
            "hospital": (self.cleaned_data.get("hospital") or "").strip(),
            "q": (self.cleaned_data.get("q") or "").strip(),
            "year": self.cleaned_data.get("year"),
        }
