from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

# Years offered in the browser's filter: settlement extracts older than this are not kept online.
YEARS_BACK = 8


class SettlementUploadForm(forms.Form):
    file = forms.FileField(label="结算数据文件", help_text="Excel（.xlsx）或 CSV（UTF-8 / GB18030）；第一行为表头")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if name.endswith(".xls"):
            raise forms.ValidationError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise forms.ValidationError("文件类型不支持：只接受 .xlsx 或 .csv 文件")
        return upload


class SettlementFilterForm(forms.Form):
    """The browser's filters, read from the query string; anything unreadable is simply not applied."""

    hospital = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
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
            "year": self.cleaned_data.get("year"),
        }
