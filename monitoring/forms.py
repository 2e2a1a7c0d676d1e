from django import forms

from lib.tabular import CellError, cell_money

from .models import Push


class PushForm(forms.Form):
    department = forms.ChoiceField(label="推送部门", choices=Push.Department.choices)
    new_only = forms.BooleanField(label="仅本月新增", required=False)


class ZbOpenForm(forms.Form):
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    household_size = forms.IntegerField(label="家庭人口", min_value=1, max_value=30, initial=1)
    members = forms.CharField(
        label="家庭成员",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一人：姓名 关系 年收入（元），以空格分隔，如：李四 配偶 12000",
    )
    declared_income = forms.DecimalField(label="家庭年收入（申报，元）", min_value=0, max_digits=14, decimal_places=2)
    declared_assets = forms.CharField(
        label="家庭财产（申报）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="房产、车辆、存款等",
    )

    def clean_members(self):
        """Each line 姓名 关系 年收入: the income an amount when given; every bad line named."""
        text = self.cleaned_data.get("members") or ""
        problems = []
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            if len(parts) > 3:
                problems.append(f"第 {number} 行多了内容（应为：姓名 关系 年收入）")
            elif len(parts) == 3:
                try:
                    income = cell_money(parts[2])
                except CellError:
                    income = None
                if income is None or income < 0:
                    problems.append(f"第 {number} 行的年收入“{parts[2]}”不是金额")
        if problems:
            raise forms.ValidationError("；".join(problems))
        return text

    def household(self) -> list[dict]:
        rows = []
        for line in (self.cleaned_data.get("members") or "").splitlines():
            parts = line.split()
            if parts:
                income = str(cell_money(parts[2])) if len(parts) == 3 else ""
                rows.append({"name": parts[0], "relation": " ".join(parts[1:2]), "income": income})
        return rows


class ZbVerifyForm(forms.Form):
    visited_on = forms.DateField(label="入户核查日期", widget=forms.DateInput(attrs={"type": "date"}))
    staff = forms.CharField(label="核查人员", max_length=100)
    findings = forms.CharField(label="核查情况", widget=forms.Textarea(attrs={"rows": 4}))


class ZbScanForm(forms.Form):
    file = forms.FileField(label="扫描件（PDF、JPEG、PNG）")


class ZbDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="认定结果", choices=[("approve", "认定为因病致贫重病患者"), ("reject", "不予认定")]
    )
    decided_on = forms.DateField(
        label="认定日期", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="空为今天"
    )
    reason = forms.CharField(label="认定意见", widget=forms.Textarea(attrs={"rows": 3}))
