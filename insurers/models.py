"""承办保险机构 (DOMAIN §12.5, 茂名 plan §二(四)(五)): the insurer a county contracts to run assistance, as terms of a
policy version (so versioned, drafted, activated and audited with it); its half-yearly and clearing statements;
the payments made on them."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from recipients.models import scoped_to_user

MONEY = {"max_digits": 14, "decimal_places": 2}


class FeeBase(models.TextChoices):
    ALL = "all", "年度实际支出的医疗救助资金总额（含门诊）"
    REIMBURSED = "reimbursed", "年度住院救助和二次救助（拨付承办机构的部分）"


class InsurerTermsQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "insurers.view_insurerterms", township=None, county="version__county")


# The fields the administrator edits (the form) and the audit records (before and after).
TERMS_FIELDS = [
    "enabled",
    "insurer_name",
    "contract_number",
    "contract_start",
    "contract_end",
    "fee_rate",
    "fee_cap",
    "fee_base",
    "first_due_month",
    "first_due_day",
    "second_due_month",
    "second_due_day",
    "clearing_month",
    "pays_manual",
]


class InsurerTerms(models.Model):
    """The insurer part of one policy version: whether an insurer runs assistance in the county, who, for which
    contract period, and how it is paid. Edited only while the version is a draft, like the rest of the policy."""

    version = models.OneToOneField(
        "applications.PolicyVersion", verbose_name="政策版本", on_delete=models.CASCADE, related_name="insurer_terms"
    )
    enabled = models.BooleanField("委托承办保险机构经办医疗救助", default=True)
    insurer_name = models.CharField("承办保险机构", max_length=100)
    contract_number = models.CharField("合同编号", max_length=100, blank=True)
    contract_start = models.DateField("合同起始日期")
    contract_end = models.DateField("合同终止日期", help_text="含当日")
    fee_rate = models.DecimalField(
        "服务费比例",
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.0080"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="小数，如 0.008 表示 0.8%",
    )
    fee_cap = models.DecimalField(
        "每年服务费上限（元）", **MONEY, null=True, blank=True, default=Decimal("100000"), help_text="空表示不设上限"
    )
    fee_base = models.CharField("服务费计费基数", max_length=12, choices=FeeBase.choices, default=FeeBase.ALL)
    first_due_month = models.PositiveSmallIntegerField("上半年拨付截止月", default=7)
    first_due_day = models.PositiveSmallIntegerField("上半年拨付截止日", default=31)
    second_due_month = models.PositiveSmallIntegerField("下半年拨付截止月", default=12)
    second_due_day = models.PositiveSmallIntegerField("下半年拨付截止日", default=31)
    clearing_month = models.PositiveSmallIntegerField("清算月份（次年）", default=3)
    pays_manual = models.BooleanField("零星报销由承办机构支付", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = InsurerTermsQuerySet.as_manager()

    class Meta:
        verbose_name = "承办保险机构"
        verbose_name_plural = "承办保险机构"
        constraints = [
            models.CheckConstraint(
                name="insurer_contract_ordered", condition=Q(contract_end__gte=models.F("contract_start"))
            ),
            models.CheckConstraint(name="insurer_fee_rate_range", condition=Q(fee_rate__gte=0, fee_rate__lte=1)),
            models.CheckConstraint(
                name="insurer_fee_cap_nonnegative", condition=Q(fee_cap__isnull=True) | Q(fee_cap__gte=0)
            ),
            models.CheckConstraint(
                name="insurer_months_valid",
                condition=Q(first_due_month__gte=1, first_due_month__lte=12, second_due_month__gte=1)
                & Q(second_due_month__lte=12, clearing_month__gte=1, clearing_month__lte=12)
                & Q(first_due_day__gte=1, first_due_day__lte=31, second_due_day__gte=1, second_due_day__lte=31),
            ),
        ]

    def __str__(self):
        return f"{self.insurer_name}（{self.contract_start}—{self.contract_end}）"

    def snapshot(self) -> dict:
        """The terms as a statement keeps them (a later policy version does not change a statement)."""
        return {
            "version": self.version_id,
            "insurer_name": self.insurer_name,
            "contract_number": self.contract_number,
            "contract_start": self.contract_start.isoformat(),
            "contract_end": self.contract_end.isoformat(),
            "fee_rate": str(self.fee_rate),
            "fee_cap": None if self.fee_cap is None else str(self.fee_cap),
            "fee_base": self.fee_base,
            "first_due": [self.first_due_month, self.first_due_day],
            "second_due": [self.second_due_month, self.second_due_day],
            "clearing_month": self.clearing_month,
        }


class StatementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's statements to its county's roles; every county's to the prefecture roles."""
        return scoped_to_user(self, user, "insurers.view_insurerstatement", township=None, county="county")


class InsurerStatement(models.Model):
    """A half-year statement (the instalment) or the March clearing of a year, as one revision.

    排队中 → 生成中 → 待复核 → 已复核 (a second finance user: maker-checker) → 已结清 (paid, or nothing due);
    复核退回, 已重新生成 (a newer revision replaced it) and 生成失败 end a revision. Rebuilding a period makes a new
    revision that shows the difference to the previous one, and what is due after what was already paid.
    """

    class Kind(models.TextChoices):
        HALF = "half", "半年结算"
        CLEARING = "clearing", "年度清算"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        BUILT = "built", "待复核"
        REVIEWED = "reviewed", "已复核"
        SETTLED = "settled", "已结清"
        REJECTED = "rejected", "复核退回"
        SUPERSEDED = "superseded", "已重新生成"
        FAILED = "failed", "生成失败"

    OPEN = (Status.QUEUED, Status.RUNNING, Status.BUILT, Status.REVIEWED)

    number = models.CharField("结算单编号", max_length=30, unique=True)
    county = models.ForeignKey("recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("年度")
    half = models.PositiveSmallIntegerField("半年", null=True, blank=True, help_text="1：1—6 月；2：7—12 月；清算为空")
    revision = models.PositiveSmallIntegerField("版本", default=1)
    previous = models.ForeignKey(
        "self", verbose_name="上一版本", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    terms = models.JSONField("承办条款", default=dict)
    figures = models.JSONField("明细", default=dict, blank=True)
    as_of = models.DateField("数据截至", null=True, blank=True)
    inpatient_visits = models.PositiveIntegerField("住院救助人次", default=0)
    inpatient_amount = models.DecimalField("住院救助金额", **MONEY, default=0)
    secondary_visits = models.PositiveIntegerField("二次救助人次", default=0)
    secondary_amount = models.DecimalField("二次救助金额", **MONEY, default=0)
    assistance = models.DecimalField("实际救助合计", **MONEY, default=0)
    fee_base_amount = models.DecimalField("服务费计费基数", **MONEY, default=0)
    fee_uncapped = models.DecimalField("按比例计算的服务费", **MONEY, default=0)
    fee = models.DecimalField("服务费", **MONEY, default=0)
    fee_capped = models.BooleanField("服务费按上限计", default=False)
    instalments = models.DecimalField("已拨付的半年结算款", **MONEY, default=0)
    gross = models.DecimalField(
        "本期应结算", **MONEY, default=0, help_text="半年：实际救助；清算：实际救助 + 服务费 − 已拨付"
    )
    previously_paid = models.DecimalField("以前版本已结算", **MONEY, default=0)
    amount_due = models.DecimalField("本次应结算", **MONEY, default=0, help_text="正数付给承办机构，负数由承办机构退回")
    difference = models.DecimalField("较上一版本增减", **MONEY, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制单人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    built_at = models.DateTimeField("生成时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    settled_at = models.DateTimeField("结清时间", null=True, blank=True)
    phase = models.CharField("进度", max_length=100, blank=True)
    message = models.TextField("说明", blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = "承办机构结算单"
        verbose_name_plural = "承办机构结算单"
        ordering = ["-year", "-created_at", "-pk"]
        permissions = [
            ("manage_insurerstatement", "生成承办机构结算单、登记拨付"),
            ("review_insurerstatement", "复核承办机构结算单"),
        ]
        constraints = [
            # One open revision per period (a clearing has no half: its own constraint, NULLs being distinct).
            models.UniqueConstraint(
                fields=["county", "year", "half"],
                condition=Q(kind="half", status__in=["queued", "running", "built", "reviewed"]),
                name="one_open_insurer_half_statement",
            ),
            models.UniqueConstraint(
                fields=["county", "year"],
                condition=Q(kind="clearing", status__in=["queued", "running", "built", "reviewed"]),
                name="one_open_insurer_clearing",
            ),
            models.CheckConstraint(
                name="insurer_statement_half",
                condition=Q(kind="half", half__in=[1, 2]) | Q(kind="clearing", half__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.kind == self.Kind.CLEARING:
            return f"{self.year} 年度清算"
        return f"{self.year} 年{'上' if self.half == 1 else '下'}半年（{'1—6' if self.half == 1 else '7—12'} 月）"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def insurer_name(self) -> str:
        return self.terms.get("insurer_name", "")


class InsurerPayment(models.Model):
    """Money moved on a reviewed statement: paid to the insurer, or returned by it (多退少补). A clearing that
    settles confirms the year's service fee on its last payment (a payment of 0 when nothing was left to pay)."""

    class Direction(models.TextChoices):
        TO_INSURER = "to_insurer", "拨付承办机构"
        FROM_INSURER = "from_insurer", "承办机构退回"

    statement = models.ForeignKey(InsurerStatement, on_delete=models.PROTECT, related_name="payments")
    direction = models.CharField("方向", max_length=12, choices=Direction.choices)
    amount = models.DecimalField("金额（元）", **MONEY)
    fee = models.DecimalField("确认的服务费（元）", **MONEY, default=0, help_text="结清年度清算时确认")
    paid_on = models.DateField("支付日期")
    reference = models.CharField("凭证号", max_length=100, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "承办机构拨付"
        verbose_name_plural = "承办机构拨付"
        ordering = ["paid_on", "pk"]
        constraints = [
            models.CheckConstraint(name="insurer_payment_amounts_nonnegative", condition=Q(amount__gte=0, fee__gte=0)),
        ]

    def __str__(self):
        return f"{self.statement.number} {self.get_direction_display()} {self.amount}"

    @property
    def signed(self) -> Decimal:
        return self.amount if self.direction == self.Direction.TO_INSURER else -self.amount
