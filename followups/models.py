"""回访 and complaints (DOMAIN §12.3): follow-up plans that sample paid payout lines into call lists for the
township windows, the calls, complaint tickets with their working-day time limits, and the county's parameters
(time limits per category, KPI targets)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from imports.models import ImportQuerySet, ImportRecord
from recipients.models import scoped_to_user

MONEY = {"max_digits": 14, "decimal_places": 2}
RATIO = {"max_digits": 5, "decimal_places": 4, "validators": [MinValueValidator(0), MaxValueValidator(1)]}


class Receipt(models.TextChoices):
    RECEIVED = "received", "已到账"
    MISSING = "missing", "未到账"
    MISMATCH = "mismatch", "金额不符"
    UNREACHABLE = "unreachable", "联系不上"


REACHED = [Receipt.RECEIVED, Receipt.MISSING, Receipt.MISMATCH]
# What a call finds that opens a complaint ticket by itself, and the ticket's category.
TICKET_ON = {Receipt.MISSING: "not_received", Receipt.MISMATCH: "amount"}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    FAIR = "fair", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


SATISFIED = [Satisfaction.SATISFIED, Satisfaction.FAIR]


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's plans to its county's roles; to a clerk, the plans that call people of their township."""
        plans = scoped_to_user(self, user, "followups.view_followupplan", township=None, county="county")
        if user.is_authenticated and user.township_scoped:
            plans = plans.filter(pk__in=FollowupCall.objects.filter(township_id=user.township_id).values("plan_id"))
        return plans


class FollowupPlan(models.Model):
    """The paid lines of a payout batch or of a month drawn for calling: all, N at random, a share, or a number per
    township, with at least `per_township` of each township when asked. The seed is kept, so the same population
    and seed give the same calls (followups.sampling)."""

    class Basis(models.TextChoices):
        BATCH = "batch", "按支付批次"
        MONTH = "month", "按发放月份"

    class Status(models.TextChoices):
        ACTIVE = "active", "进行中"
        CANCELLED = "cancelled", "已作废"

    class Method(models.TextChoices):
        ALL = "all", "全部回访"
        COUNT = "count", "随机抽取 N 笔"
        SHARE = "share", "按比例随机抽取"
        TOWNSHIP = "township", "每个乡镇抽取 K 笔"

    number = models.CharField("计划编号", max_length=20, unique=True)
    county = models.ForeignKey(
        "recipients.County", verbose_name="所属县（区）", on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField("范围", max_length=10, choices=Basis.choices)
    batch = models.ForeignKey(
        "payouts.PayoutBatch",
        verbose_name="支付批次",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    period_start = models.DateField("发放日期起", null=True, blank=True)
    period_end = models.DateField("发放日期止", null=True, blank=True)
    method = models.CharField("抽取方式", max_length=10, choices=Method.choices)
    sample_size = models.PositiveIntegerField("抽取笔数", null=True, blank=True)
    share = models.DecimalField("抽取比例", **RATIO, null=True, blank=True)
    per_township = models.PositiveSmallIntegerField("每个乡镇至少", default=0)
    seed = models.PositiveBigIntegerField("随机种子")
    population = models.PositiveIntegerField("发放成功笔数（总体）", default=0)
    call_count = models.PositiveIntegerField("回访笔数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制订人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("制订时间", auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)
    # A plan drawn by mistake is cancelled before any of its calls is recorded (followups.plans.plan_cancel).
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField("作废时间", null=True, blank=True)
    cancel_reason = models.CharField("作废原因", max_length=200, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = "回访计划"
        verbose_name_plural = "回访计划"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="followup_plan_cancelled_when",
                condition=Q(status="active", cancelled_at__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False),
            )
        ]
        permissions = [
            ("manage_followupplan", "制订回访计划"),
            ("record_followupcall", "记录回访结果、导入回访清单"),
        ]

    def __str__(self):
        return self.number

    @property
    def cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def scope_text(self) -> str:
        if self.basis == self.Basis.BATCH:
            return f"支付批次 {self.batch.number}" if self.batch_id else "支付批次"
        if self.period_start and self.period_end:
            if self.period_start.day == 1 and self.period_start.month == self.period_end.month:
                return f"{self.period_start.year}年{self.period_start.month}月发放"
            return f"{self.period_start:%Y-%m-%d} 至 {self.period_end:%Y-%m-%d} 发放"
        return ""

    @property
    def method_text(self) -> str:
        if self.method == self.Method.ALL:
            text = "全部回访"
        elif self.method == self.Method.COUNT:
            text = f"随机抽取 {self.sample_size:,} 笔"
        elif self.method == self.Method.SHARE:
            text = f"按 {self.share * 100:.2f}% 随机抽取".replace(".00%", "%")
        else:
            text = f"每个乡镇抽取 {self.per_township} 笔"
        if self.per_township and self.method in (self.Method.COUNT, self.Method.SHARE):
            text += f"，每个乡镇至少 {self.per_township} 笔"
        return text


class CallQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "followups.view_followupplan", county="township__county")

    def done(self):
        return self.exclude(receipt="")


class FollowupCall(models.Model):
    """One paid line to call: what the call list shows (snapshotted when drawn, so a filled list is checked against
    what was sent), and what the call found."""

    plan = models.ForeignKey(FollowupPlan, verbose_name="回访计划", on_delete=models.PROTECT, related_name="calls")
    number = models.CharField("回访编号", max_length=30, unique=True)
    line = models.ForeignKey(
        "payouts.PayoutLine", verbose_name="支付明细", on_delete=models.PROTECT, related_name="followup_calls"
    )
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "recipients.Person", verbose_name="救助对象", on_delete=models.PROTECT, related_name="followup_calls"
    )
    name = models.CharField("姓名", max_length=50)
    kind = models.CharField("救助类型", max_length=30)
    amount = models.DecimalField("发放金额", **MONEY)
    paid_on = models.DateField("发放日期")
    receipt = models.CharField("到账情况", max_length=12, choices=Receipt.choices, blank=True)
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    aware = models.BooleanField("是否知晓政策", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField("拨打次数", default=0)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回访人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    called_at = models.DateTimeField("回访时间", null=True, blank=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = "回访记录"
        verbose_name_plural = "回访记录"
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "line"], name="followup_call_once_per_plan"),
            # Not reached: nothing was asked.
            models.CheckConstraint(
                name="followup_unreachable_asks_nothing",
                condition=~Q(receipt="unreachable") | (Q(satisfaction="") & Q(aware__isnull=True)),
            ),
        ]
        indexes = [models.Index(fields=["plan", "township"]), models.Index(fields=["called_at"])]

    def __str__(self):
        return self.number

    @property
    def reached(self) -> bool:
        return self.receipt in REACHED


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A clerk's township's tickets (also those escalated to the county), a county role's county's."""
        return scoped_to_user(self, user, "followups.view_ticket", county="county")

    def overdue(self, day):
        return self.filter(status=Ticket.Status.OPEN, due_on__lt=day)


class Ticket(models.Model):
    """A complaint, enquiry or petition (投诉 / 咨询 / 信访) about a person, their case or a payout line: owned by
    the township or the county, answered within the category's working days, escalated to the county when overdue."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", "投诉"
        ENQUIRY = "enquiry", "咨询"
        PETITION = "petition", "信访"

    class Channel(models.TextChoices):
        WINDOW = "window", "窗口"
        PHONE = "phone", "电话"
        HOTLINE = "12345", "12345"
        PETITION = "petition", "信访"
        FOLLOWUP = "followup", "回访"

    class Category(models.TextChoices):
        NOT_RECEIVED = "not_received", "待遇未到账"
        AMOUNT = "amount", "金额异议"
        TIME = "time", "办理时限"
        ATTITUDE = "attitude", "服务态度"
        POLICY = "policy", "政策咨询"
        IDENTITY = "identity", "身份认定"
        OTHER = "other", "其他"

    class Owner(models.TextChoices):
        TOWNSHIP = "township", "乡镇（街道）"
        COUNTY = "county", "县局"

    class Status(models.TextChoices):
        OPEN = "open", "待答复"
        REPLIED = "replied", "已答复"
        CLOSED = "closed", "已办结"

    number = models.CharField("工单编号", max_length=20, unique=True)
    county = models.ForeignKey(
        "recipients.County", verbose_name="所属县（区）", on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    category = models.CharField("问题分类", max_length=15, choices=Category.choices)
    person = models.ForeignKey(
        "recipients.Person", verbose_name="当事人", on_delete=models.PROTECT, related_name="tickets"
    )
    case = models.ForeignKey(
        "applications.Case", verbose_name="案件", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line = models.ForeignKey(
        "payouts.PayoutLine", verbose_name="支付明细", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    call = models.OneToOneField(
        FollowupCall, verbose_name="回访记录", on_delete=models.PROTECT, null=True, blank=True, related_name="ticket"
    )
    content = models.TextField("诉求内容")
    owner = models.CharField("承办", max_length=10, choices=Owner.choices, default=Owner.TOWNSHIP)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    opened_at = models.DateTimeField("登记时间", auto_now_add=True)
    opened_on = models.DateField("登记日期")
    time_limit = models.PositiveSmallIntegerField("答复时限（工作日）")
    due_on = models.DateField("答复期限", db_index=True)
    reply = models.TextField("答复内容", blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答复人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    replied_on = models.DateField("答复日期", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办结人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closing_note = models.CharField("办结说明", max_length=500, blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True, help_text="超期未答复，转县局承办")

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = "投诉工单"
        verbose_name_plural = "投诉工单"
        ordering = ["-opened_at", "-id"]
        permissions = [("handle_ticket", "登记、答复、办结投诉工单")]
        constraints = [
            models.CheckConstraint(
                name="ticket_replied_has_reply",
                condition=Q(status="open") | (Q(replied_on__isnull=False) & ~Q(reply="")),
            ),
        ]

    def __str__(self):
        return self.number

    def is_overdue(self, day) -> bool:
        return self.status == self.Status.OPEN and self.due_on < day

    @property
    def answered_on_time(self) -> bool | None:
        return None if self.replied_on is None else self.replied_on <= self.due_on


class FollowupPolicy(models.Model):
    """A county's 回访 and complaint parameters: the KPI targets and, in its rows, the time limit of each ticket
    category in working days. A county without one uses the defaults (followups.rules)."""

    county = models.OneToOneField(
        "recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, related_name="+"
    )
    satisfaction_target = models.DecimalField("满意度目标", **RATIO, default=Decimal("0.85"))
    awareness_target = models.DecimalField("政策知晓率目标", **RATIO, null=True, blank=True, help_text="空表示不设目标")
    receipt_target = models.DecimalField("到账确认率目标", **RATIO, null=True, blank=True, help_text="空表示不设目标")
    on_time_target = models.DecimalField(
        "工单按时答复率目标", **RATIO, null=True, blank=True, help_text="空表示不设目标"
    )

    class Meta:
        verbose_name = "回访与投诉参数"
        verbose_name_plural = "回访与投诉参数"
        ordering = ["county"]

    def __str__(self):
        return f"{self.county} 回访与投诉参数"


class TicketTimeLimit(models.Model):
    policy = models.ForeignKey(FollowupPolicy, on_delete=models.CASCADE, related_name="time_limits")
    category = models.CharField("问题分类", max_length=15, choices=Ticket.Category.choices)
    working_days = models.PositiveSmallIntegerField(
        "答复时限（工作日）", validators=[MinValueValidator(1), MaxValueValidator(120)]
    )

    class Meta:
        verbose_name = "工单答复时限"
        verbose_name_plural = "工单答复时限"
        ordering = ["policy", "category"]
        constraints = [models.UniqueConstraint(fields=["policy", "category"], name="ticket_time_limit_once")]

    def __str__(self):
        return f"{self.get_category_display()} {self.working_days} 个工作日"


class FollowupImportQuerySet(ImportQuerySet):
    def visible_to(self, user):
        """The county's uploads to its county's roles; a clerk's uploads to the clerk's township."""
        records = super().visible_to(user)
        if user.is_authenticated and user.township_scoped:
            records = records.filter(township_id=user.township_id)
        return records


class FollowupImport(ImportRecord):
    """A filled call list (DATA-FORMATS §11) imported back: every row checked against the plan, then the calls
    recorded and the tickets they open written in one transaction."""

    plan = models.ForeignKey(
        FollowupPlan, verbose_name="回访计划", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    township = models.ForeignKey(
        "recipients.Township",
        verbose_name="限定乡镇",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="乡镇窗口上传的清单只能包含本乡镇的回访",
    )
    rows_recorded = models.PositiveIntegerField("记录回访", default=0)
    rows_unchanged = models.PositiveIntegerField("无变化", default=0)
    rows_blank = models.PositiveIntegerField("未填写", default=0)
    tickets_opened = models.PositiveIntegerField("生成工单", default=0)

    objects = FollowupImportQuerySet.as_manager()

    class Meta(ImportRecord.Meta):
        verbose_name = "回访清单导入"
        verbose_name_plural = "回访清单导入记录"
