from crispy_forms.helper import FormHelper
from django import forms


class UploadForm(forms.Form):
    """The file every import asks for. A format's form adds its options: the fields other than `file` are
    handed to the format's `prepare`."""

    file_label = "文件"

    file = forms.FileField(help_text="Excel（.xlsx）或 CSV（UTF-8 / GB18030）；第一行为表头")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = self.file_label
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

    def options(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "file"}
