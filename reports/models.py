"""Supervision: the assistance summary the dashboard reads, the fund ledger, report files and what-if runs."""

from django.conf import settings
from django.db import models

from recipients.categories import Category

MONEY = {"max_digits": 16, "decimal_places": 2}


class Channel(models.TextChoices):
    ONESTOP = "onestop", "一站式结算"
    MANUAL = "manual", "零星报销"
    SECONDARY = "secondary", "二次救助"
    NONE = "none", "未获救助"  # only the in-policy self-pay of stays nobody assisted (the key-recipient ratio)


class Benefit(models.TextChoices):
    OUTPATIENT = "门诊", "门诊"
    CHRONIC = "门诊慢特病", "门诊慢特病"
    INPATIENT = "住院", "住院"
    SECONDARY = "二次救助", "二次救助"


class AssistanceFact(models.Model):
    """Direct assistance summed by year, month, township, category, benefit and channel (refreshed by a job).

    Each one-stop settlement with assistance, each approved bill and each approved secondary case is one
    人次. `self_pay` is the in-policy self-pay E of the assisted settlements and bills (for the key-recipient
    inpatient ratio of DOMAIN §10).
    """

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    township = models.ForeignKey("recipients.Township", on_delete=models.CASCADE, related_name="+")
    category = models.CharField("救助类别", max_length=4, choices=Category.choices, blank=True)
    benefit = models.CharField("救助类型", max_length=10, choices=Benefit.choices)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    key = models.BooleanField("重点救助对象", default=False)
    major = models.BooleanField("重特大疾病", default=False)
    visits = models.PositiveIntegerField("人次", default=0)
    assisted = models.DecimalField("救助金额", **MONEY, default=0)
    self_pay = models.DecimalField("政策范围内个人自付", **MONEY, default=0)

    class Meta:
        verbose_name = "救助统计"
        verbose_name_plural = "救助统计"
        indexes = [models.Index(fields=["year", "township"], name="fact_year_township")]
        permissions = [("view_dashboard", "查看统计看板和下载报表")]

    def __str__(self):
        return f"{self.year}-{self.month:02d} {self.channel} {self.benefit} {self.visits}"


class FactRefresh(models.Model):
    """A year's summary: when it was last rebuilt, and whether a rebuild is queued or running.

    At most one rebuild of a year is queued (requested_at, set by a conditional update when a change commits)
    and one runs (started_at, while a worker holds the year's lock): a burst of approvals asks once.
    """

    year = models.PositiveSmallIntegerField("年度", unique=True)
    refreshed_at = models.DateTimeField("刷新时间", null=True, blank=True)
    rows = models.PositiveIntegerField("汇总行数", default=0)
    requested_at = models.DateTimeField("排队时间", null=True, blank=True)
    started_at = models.DateTimeField("开始刷新时间", null=True, blank=True)

    class Meta:
        verbose_name = "统计刷新"
        verbose_name_plural = "统计刷新"

    def __str__(self):
        when = f"{self.refreshed_at:%Y-%m-%d %H:%M}" if self.refreshed_at else "尚未汇总"
        return f"{self.year} {when}"

    @property
    def summarised(self) -> bool:
        return self.refreshed_at is not None

    @property
    def pending(self) -> bool:
        """A rebuild is queued or running."""
        return self.requested_at is not None or self.started_at is not None


class FundEntry(models.Model):
    """Funds received for medical assistance in a year, by source (DOMAIN §10)."""

    class Source(models.TextChoices):
        GRANT = "grant", "中央/省补助"
        LOTTERY = "lottery", "本级彩票公益金"
        CARRYOVER = "carryover", "上年结转"
        BUDGET = "budget", "本级财政"
        OTHER = "other", "其他"

    county = models.ForeignKey(
        "recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, null=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    amount = models.DecimalField("金额（元）", **MONEY)
    received_on = models.DateField("到账日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "救助资金到账"
        verbose_name_plural = "救助资金到账"
        ordering = ["-year", "source"]

    def __str__(self):
        return f"{self.year} {self.get_source_display()} {self.amount}"


class FundOutlay(models.Model):
    """Money the fund pays out other than through payout batches and one-stop settlement (DOMAIN §12.5): what
    went to the insurer that runs assistance (the half-yearly instalments and the March clearing) and what it
    returned. `fee` is the part of the amount that is the insurer's service fee (spending of its own); the rest
    reimburses assistance already counted as spent where it was paid."""

    class Kind(models.TextChoices):
        INSURER = "insurer", "拨付承办保险机构"
        INSURER_REFUND = "insurer_refund", "承办保险机构退回"

    county = models.ForeignKey("recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("所属年度")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    amount = models.DecimalField("金额（元）", **MONEY)
    fee = models.DecimalField(
        "确认的服务费（元）", **MONEY, default=0, help_text="本笔结清时确认的承办机构服务费，计入当年支出"
    )
    paid_on = models.DateField("支付日期")
    reference = models.CharField("依据", max_length=100, blank=True, help_text="结算单编号")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "救助资金拨付"
        verbose_name_plural = "救助资金拨付"
        ordering = ["-year", "paid_on", "pk"]
        constraints = [
            # Zero: a clearing with nothing left to pay still confirms the year's fee.
            models.CheckConstraint(
                name="fund_outlay_amounts_nonnegative", condition=models.Q(amount__gte=0, fee__gte=0)
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_kind_display()} {self.amount}"

    @property
    def signed_amount(self):
        return -self.amount if self.kind == self.Kind.INSURER_REFUND else self.amount


class ReportFile(models.Model):
    """A downloadable report, produced by a background job and kept for a configurable number of days."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    class Kind(models.TextChoices):
        YEAR = "year", "年度统计报表"
        WHATIF = "whatif", "政策测算"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.YEAR)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    year = models.PositiveSmallIntegerField("年度")
    township = models.ForeignKey(
        "recipients.Township", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="县（区）",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="空：全市（各县汇总）",
    )
    policy = models.ForeignKey(
        "applications.PolicyVersion",
        verbose_name="测算政策",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    masked = models.BooleanField("身份证号脱敏", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("保留至", null=True, blank=True)
    phase = models.CharField("进度", max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    file_name = models.CharField("文件名", max_length=100, blank=True)
    content = models.BinaryField("文件", blank=True, null=True)
    result = models.JSONField("结果", null=True, blank=True)
    message = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "报表"
        verbose_name_plural = "报表"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
