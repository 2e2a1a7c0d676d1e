from decimal import Decimal

from django import forms

from accounts.forms import BootstrapFormMixin
from payouts.models import PayoutBatch, PayoutLine
from recipients.forms import IdNumberField
from recipients.models import Township

from .calls import MAX_ATTEMPTS, Result
from .models import FollowupPlan, Receipt, Satisfaction, Ticket

M = FollowupPlan.Method


class PlanForm(BootstrapFormMixin, forms.Form):
    basis = forms.ChoiceField(label="回访范围", choices=FollowupPlan.Basis.choices, widget=forms.RadioSelect)
    batch = forms.ModelChoiceField(
        label="支付批次", queryset=PayoutBatch.objects.none(), required=False, empty_label="请选择已回盘的批次"
    )
    month = forms.CharField(
        label="发放月份",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text="银行回盘确认发放成功的月份",
    )
    method = forms.ChoiceField(label="抽取方式", choices=M.choices, widget=forms.RadioSelect, initial=M.COUNT)
    size = forms.IntegerField(label="抽取笔数 N", required=False, min_value=1, max_value=100000)
    share = forms.DecimalField(
        label="抽取比例（%）", required=False, min_value=Decimal("0.01"), max_value=Decimal("100"), decimal_places=2
    )
    per_township = forms.IntegerField(
        label="每个乡镇至少 K 笔",
        required=False,
        min_value=0,
        max_value=1000,
        help_text="随机或按比例抽取时，每个乡镇至少抽到的笔数（乡镇不足 K 笔时全部抽取）；“每个乡镇抽取 K 笔”时为每个乡镇的笔数",
    )
    seed = forms.IntegerField(
        label="随机种子（可空）",
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="留空由系统生成；种子会记录在计划中，同样的种子和范围抽到同样的回访对象",
    )
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        with_paid = PayoutLine.objects.filter(status=PayoutLine.Status.PAID).values("batch_id")
        batches = PayoutBatch.objects.filter(pk__in=with_paid).select_related("county")
        if not user.prefecture_wide:
            batches = batches.filter(county_id=user.scope_county_id)
        self.fields["batch"].queryset = batches.order_by("-created_at")

    def clean(self):
        data = super().clean()
        if data.get("basis") == FollowupPlan.Basis.BATCH and not data.get("batch"):
            self.add_error("batch", "请选择支付批次")
        if data.get("basis") == FollowupPlan.Basis.MONTH and not data.get("month"):
            self.add_error("month", "请填写发放月份")
        method = data.get("method")
        if method == M.COUNT and not data.get("size"):
            self.add_error("size", "请填写抽取笔数")
        if method == M.SHARE and not data.get("share"):
            self.add_error("share", "请填写抽取比例")
        if method == M.TOWNSHIP and not data.get("per_township"):
            self.add_error("per_township", "请填写每个乡镇抽取的笔数")
        return data

    def plan_options(self) -> dict:
        data = self.cleaned_data
        method = data["method"]
        return {
            "method": method,
            "size": data.get("size") if method == M.COUNT else None,
            "share": data["share"] / 100 if method == M.SHARE and data.get("share") else None,
            "per_township": (data.get("per_township") or 0) if method != M.ALL else 0,
            "seed": data.get("seed"),
            "note": data.get("note") or "",
        }


class CallForm(BootstrapFormMixin, forms.Form):
    receipt = forms.ChoiceField(label="到账情况", choices=Receipt.choices, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label="满意度", choices=[("", "未回答"), *Satisfaction.choices], required=False, widget=forms.RadioSelect
    )
    aware = forms.ChoiceField(
        label="是否知晓政策",
        choices=[("", "未回答"), ("yes", "是"), ("no", "否")],
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="备注", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("receipt"):
            for problem in self.result().problems():
                self.add_error(None, problem)
        return data

    def result(self) -> Result:
        data = self.cleaned_data
        aware = {"yes": True, "no": False}.get(data.get("aware") or "")
        return Result(
            receipt=data.get("receipt") or "",
            satisfaction=data.get("satisfaction") or "",
            aware=aware,
            note=data.get("note") or "",
        )


class TicketForm(BootstrapFormMixin, forms.Form):
    id_number = IdNumberField(label="当事人身份证号", required=False, help_text="从救助对象页面登记时已带出")
    kind = forms.ChoiceField(label="类型", choices=Ticket.Kind.choices)
    channel = forms.ChoiceField(
        label="渠道", choices=[c for c in Ticket.Channel.choices if c[0] != Ticket.Channel.FOLLOWUP]
    )
    category = forms.ChoiceField(label="问题分类", choices=Ticket.Category.choices)
    case_number = forms.CharField(label="相关案件编号（可空）", required=False, max_length=32)
    line_reference = forms.CharField(label="相关支付业务编号（可空）", required=False, max_length=30)
    content = forms.CharField(label="诉求内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ChoiceField(label="承办", choices=Ticket.Owner.choices, initial=Ticket.Owner.TOWNSHIP)

    def __init__(self, *args, user, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        if person is not None:
            del self.fields["id_number"]
        else:
            self.fields["id_number"].required = True
        if user.township_scoped:
            del self.fields["owner"]


class ReplyForm(BootstrapFormMixin, forms.Form):
    reply = forms.CharField(label="答复内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


class CloseForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label="办结说明（可空）", required=False, max_length=500)


class TicketFilterForm(BootstrapFormMixin, forms.Form):
    QUEUES = [
        ("", "全部"),
        ("mine", "待我答复"),
        ("open", "待答复"),
        ("overdue", "已超期"),
        ("escalated", "已升级县局"),
        ("replied", "已答复待办结"),
        ("closed", "已办结"),
    ]
    queue = forms.ChoiceField(label="队列", choices=QUEUES, required=False)
    category = forms.ChoiceField(label="问题分类", choices=[("", "全部"), *Ticket.Category.choices], required=False)
    channel = forms.ChoiceField(label="渠道", choices=[("", "全部"), *Ticket.Channel.choices], required=False)
    township = forms.ModelChoiceField(
        label="乡镇（街道）", queryset=Township.objects.none(), required=False, empty_label="全部乡镇"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.township_scoped:
            del self.fields["township"]
        else:
            self.fields["township"].queryset = Township.objects.visible_to(user)


ATTEMPTS_HELP = f"每记录一次联系不上，拨打次数加 1（最多 {MAX_ATTEMPTS} 次）"
