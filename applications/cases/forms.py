from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms

from accounts.forms import BootstrapFormMixin
from lib.widgets import DateInput
from recipients.fields import NewAccountFields, TownshipFilter
from recipients.forms import IdNumberField

from ..models import Bill, Case
from .selectors import DUE_CHOICES, QUEUE_SORTS, WINDOW_CHOICE
from .services import EDITABLE_FIELDS

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class CaseFilterForm(BootstrapFormMixin, TownshipFilter):
    q = forms.CharField(label="案件编号、身份证号或姓名", required=False)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Case.Status.choices])
    source = forms.ChoiceField(label="来源", required=False, choices=[("", "全部来源"), *Case.Source.choices])
    due = forms.ChoiceField(label="办理时限", required=False, choices=DUE_CHOICES)
    accepted_from = forms.DateField(label="受理日期起", required=False, widget=DateInput())
    accepted_to = forms.DateField(label="受理日期止", required=False, widget=DateInput())

    field_order = ["q", "status", "township", "source", "due", "accepted_from", "accepted_to"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user.has_perm("applications.receive_case"):
            self.fields["due"].choices = [*DUE_CHOICES, WINDOW_CHOICE]


class ApprovalQueueFilterForm(BootstrapFormMixin, TownshipFilter):
    """The approval queue's filters and order, all in the URL (nothing personal is typed here)."""

    source = forms.ChoiceField(label="来源", required=False, choices=[("", "全部来源"), *Case.Source.choices])
    amount_from = forms.DecimalField(label="金额起（元）", required=False, **MONEY_FIELD)
    amount_to = forms.DecimalField(label="金额止（元）", required=False, **MONEY_FIELD)
    due = forms.ChoiceField(label="办理时限", required=False, choices=DUE_CHOICES)
    sort = forms.ChoiceField(
        label="排序", required=False, choices=[(key, label) for key, (label, _) in QUEUE_SORTS.items()]
    )
    order = forms.ChoiceField(label="顺序", required=False, choices=[("asc", "升序"), ("desc", "降序")])

    field_order = ["township", "source", "amount_from", "amount_to", "due", "sort", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount_from", "amount_to"):
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01", "inputmode": "decimal"})

    def clean(self):
        data = super().clean()
        low, high = data.get("amount_from"), data.get("amount_to")
        if low is not None and high is not None and low > high:
            self.add_error("amount_to", "金额止不能小于金额起")
        return data

    def filters(self) -> dict:
        """The filters for `approval_queue_cases`: those entered correctly (the others are shown with their
        error and left out)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "township": data.get("township"),
            "source": data.get("source") or "",
            "amount_from": data.get("amount_from"),
            "amount_to": data.get("amount_to"),
            "due": data.get("due") or "",
            "sort": data.get("sort") or "due",
            "descending": data.get("order") == "desc",
        }


class BillForm(forms.ModelForm):
    class Meta:
        model = Bill
        fields = [
            "hospital",
            "visit_type",
            "admitted_on",
            "discharged_on",
            "visit_on",
            "invoice_number",
            "settlement_number",
            "total",
            "in_policy",
            "basic",
            "critical",
            "other",
            "donation",
            "diagnosis",
            "major_disease",
        ]
        widgets = {
            "admitted_on": DateInput(),
            "discharged_on": DateInput(),
            "visit_on": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("total", "in_policy", "basic", "critical", "other", "donation"):
            self.fields[name].min_value = Decimal("0")
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01", "inputmode": "decimal"})
        for name in ("basic", "critical", "other", "donation"):
            self.fields[name].required = False
            self.fields[name].initial = 0

    def clean(self):
        data = super().clean()
        for name in ("basic", "critical", "other", "donation"):
            if data.get(name) is None:
                data[name] = Decimal("0")
        return data


class DecisionForm(forms.Form):
    comment = forms.CharField(label="意见 / 原因", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    accept_zero = forms.BooleanField(label="确认以 0 元批准", required=False)
    # The amount the reviewer saw before confirming 审核通过; the review is refused if it has changed since.
    expected_amount = forms.DecimalField(required=False, max_digits=14, decimal_places=2, widget=forms.HiddenInput)


class CaseEditForm(NewAccountFields, forms.ModelForm):
    """The case's own fields. The payee account is never shown back in full: a new one is typed twice."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    agent_id_number = IdNumberField(label="代办人身份证号", required=False)

    class Meta:
        model = Case
        fields = [name for name in EDITABLE_FIELDS if name != "payee_account"]
        labels = {"commitment_signed": "申请人已签署承诺书（承诺制：以承诺代替政策允许免交的证明）"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_current_account(self.instance.payee_account)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def changes(self) -> dict:
        """The fields to save: the new account only when one was typed."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if self.cleaned_data.get("new_account"):
            data["payee_account"] = self.cleaned_data["new_account"]
        return data


class NewApplicantForm(NewAccountFields, forms.Form):
    id_number = IdNumberField(label="身份证号")
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    bank_name = forms.CharField(label="开户银行", max_length=100, required=False)

    field_order = ["id_number", "name", "phone", "bank_name", "new_account", "new_account_again"]

    def applicant(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("id_number", "name", "phone", "bank_name")}
        return {**data, "bank_account": self.cleaned_data.get("new_account", "")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new person has no account on file: the account is theirs to give now, or later on the case.
        self.fields["new_account"].label = "银行账号"
        self.fields["new_account"].help_text = "12 至 30 位数字；可暂不填写，批准后发放前补录"
        self.fields["new_account_again"].label = "再次输入银行账号"
        self.helper = FormHelper()
        self.helper.form_tag = False
