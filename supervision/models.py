"""基金监管 (DOMAIN §12.2): recoveries of money paid in error and their repayments, the recoveries the imports
suggest, and the monthly sample audit of approved 零星 cases.

Nothing here is ever deleted: a recovery ends 已追回 or 已核销, a repayment that did not happen (an offset whose
payment failed) is 已撤销, a suggestion is confirmed or dismissed, a sample is kept with its seed.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from lib.scans import ScannedFile, scan_path
from recipients.models import scoped_to_user

MONEY = {"max_digits": 14, "decimal_places": 2}


class Reason(models.TextChoices):
    IDENTITY = "identity", "身份不符"
    DUPLICATE = "duplicate", "重复享受"
    CALCULATION = "calculation", "计算错误"
    FRAUD = "fraud", "欺诈骗保"
    DEATH = "death", "死亡"
    OTHER = "other", "其他"


# Reasons that say the bills should never have counted: once the whole case has come back, its bills leave the
# yearly burden of the 二次救助 trigger (their settlements, if any, still count on their own).
DISALLOWING = {Reason.IDENTITY, Reason.DUPLICATE, Reason.FRAUD}


class RecoveryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "supervision.view_recovery")


class Recovery(models.Model):
    """A paid amount found wrong, owed back to the fund: 待追回 → 部分追回 → 已追回, or 已核销 (the rest written
    off with a second person's approval)."""

    Reason = Reason

    class Status(models.TextChoices):
        PENDING = "pending", "待追回"
        PARTIAL = "partial", "部分追回"
        RECOVERED = "recovered", "已追回"
        WRITTEN_OFF = "written_off", "已核销"

    number = models.CharField("追回编号", max_length=20, unique=True)
    case = models.ForeignKey(
        "applications.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="recoveries"
    )
    person = models.ForeignKey("recipients.Person", verbose_name="追回对象", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("追回原因", max_length=12, choices=Reason.choices)
    amount = models.DecimalField("应追回金额", **MONEY)
    note = models.TextField("情况说明")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    recovered = models.DecimalField("已追回", **MONEY, default=0)
    offset_pending = models.DecimalField("抵扣待发放确认", **MONEY, default=0)
    written_off = models.DecimalField("已核销", **MONEY, default=0)
    offset_next = models.BooleanField(
        "从下次发放中抵扣", default=False, help_text="此人下次进入支付批次的发放先抵扣尚欠金额"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    writeoff_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核销申请人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    writeoff_requested_at = models.DateTimeField("核销申请时间", null=True, blank=True)
    writeoff_reason = models.TextField("核销理由", blank=True)
    writeoff_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核销审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    writeoff_decided_at = models.DateTimeField("核销审批时间", null=True, blank=True)

    objects = RecoveryQuerySet.as_manager()

    class Meta:
        verbose_name = "追回"
        verbose_name_plural = "追回"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("manage_recovery", "登记追回、处理追回建议"),
            ("record_repayment", "登记追回款退回和抵扣"),
            ("request_writeoff", "申请核销追回款"),
            ("approve_writeoff", "审批核销追回款"),
        ]
        constraints = [
            models.CheckConstraint(name="recovery_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="recovery_parts_nonnegative",
                condition=Q(recovered__gte=0, offset_pending__gte=0, written_off__gte=0),
            ),
            models.CheckConstraint(
                name="recovery_parts_within_amount",
                condition=Q(amount__gte=F("recovered") + F("offset_pending") + F("written_off")),
                violation_error_message="追回、抵扣和核销合计不能超过应追回金额",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def due(self):
        """Still owed and not yet on its way back (offsets waiting for their payment are on their way)."""
        return self.amount - self.recovered - self.offset_pending - self.written_off

    @property
    def writeoff_pending(self) -> bool:
        return self.writeoff_requested_by_id is not None and self.status != self.Status.WRITTEN_OFF


class Repayment(models.Model):
    """Money of a recovery coming back: returned to the fund account, or kept back from a later payout (抵扣),
    which counts once that payout is paid."""

    class Kind(models.TextChoices):
        RETURNED = "returned", "退回基金账户"
        OFFSET = "offset", "抵扣"

    class Status(models.TextChoices):
        PENDING = "pending", "抵扣待发放确认"
        DONE = "done", "已入账"
        RELEASED = "released", "已撤销"

    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="repayments")
    kind = models.CharField("方式", max_length=10, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    amount = models.DecimalField("金额", **MONEY)
    received_on = models.DateField("到账日期", null=True, blank=True)
    reference = models.CharField(
        "凭证号", max_length=60, blank=True, help_text="退回：银行回单或缴款书号；抵扣：业务编号"
    )
    line = models.ForeignKey(
        "payouts.PayoutLine",
        verbose_name="抵扣的发放",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    settled_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "追回款"
        verbose_name_plural = "追回款"
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(name="repayment_amount_positive", condition=Q(amount__gt=0)),
            models.UniqueConstraint(
                fields=["recovery", "line"],
                condition=Q(status__in=["pending", "done"]),
                name="one_live_offset_per_recovery_line",
            ),
        ]

    def __str__(self):
        return f"{self.recovery} {self.get_kind_display()} {self.amount}"


def evidence_path(instance, filename):
    return scan_path(f"recoveries/{instance.recovery_id}", instance)


class Evidence(ScannedFile):
    """A scan behind a recovery (a death certificate, the later roster, the hospital's settlement; lib.scans)."""

    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_path)

    class Meta:
        verbose_name = "追回证据"
        verbose_name_plural = "追回证据"
        ordering = ["uploaded_at", "id"]


class SuggestionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "supervision.view_suggestion")


class Suggestion(models.Model):
    """A recovery an import points to, waiting for a reviewer: nothing is recovered until one confirms it."""

    class Rule(models.TextChoices):
        IDENTITY = "identity", "身份已不覆盖就诊日期"
        DUPLICATE = "duplicate", "已一站式救助"

    class Status(models.TextChoices):
        OPEN = "open", "待确认"
        CONFIRMED = "confirmed", "已登记追回"
        DISMISSED = "dismissed", "不予追回"

    case = models.ForeignKey("applications.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("recipients.Person", verbose_name="追回对象", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField("依据", max_length=10, choices=Rule.choices)
    amount = models.DecimalField("建议追回金额", **MONEY)
    evidence = models.JSONField("证据", default=list)
    key = models.CharField("证据标识", max_length=200, help_text="涉及的就诊记录和结算单：同一证据不重复提示")
    found_by = models.CharField("发现途径", max_length=100, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decision_note = models.TextField("处理意见", blank=True)
    recovery = models.OneToOneField(
        Recovery, verbose_name="登记的追回", on_delete=models.PROTECT, null=True, blank=True, related_name="suggestion"
    )

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        verbose_name = "追回建议"
        verbose_name_plural = "追回建议"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "rule", "key"], name="suggestion_once_per_evidence"),
            models.UniqueConstraint(
                fields=["case", "rule"], condition=Q(status="open"), name="one_open_suggestion_per_case_rule"
            ),
        ]

    def __str__(self):
        return f"{self.case} {self.get_rule_display()}"

    @property
    def reason(self) -> str:
        return Reason.IDENTITY if self.rule == self.Rule.IDENTITY else Reason.DUPLICATE


class SampleQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "supervision.view_auditsample", township=None, county="county")


class AuditSample(models.Model):
    """A month's random sample of a county's approved 零星 cases (抽查), with what it was drawn from and the seed,
    so that the same draw can be made again."""

    county = models.ForeignKey("recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, related_name="+")
    month = models.DateField("月份", help_text="当月第一天")
    seed = models.BigIntegerField("随机种子")
    share = models.DecimalField("抽查比例", max_digits=5, decimal_places=4)
    minimum = models.PositiveSmallIntegerField("每乡镇至少")
    population = models.JSONField("总体（案件 id，按乡镇）", default=dict)
    population_count = models.PositiveIntegerField("总体件数", default=0)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)

    objects = SampleQuerySet.as_manager()

    class Meta:
        verbose_name = "抽查样本"
        verbose_name_plural = "抽查样本"
        ordering = ["-month", "county"]
        permissions = [("draw_auditsample", "抽取抽查样本"), ("check_auditsample", "抽查复核")]
        constraints = [models.UniqueConstraint(fields=["county", "month"], name="one_sample_per_county_month")]

    def __str__(self):
        return f"{self.county} {self.month:%Y年%m月}抽查"


class SampleItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", "待复核"
        CORRECT = "correct", "无误"
        WRONG = "wrong", "有误"

    class FollowUp(models.TextChoices):
        NONE = "", "—"
        CORRECTION = "correction", "更正"
        RECOVERY = "recovery", "追回"

    sample = models.ForeignKey(AuditSample, on_delete=models.PROTECT, related_name="items")
    case = models.ForeignKey("applications.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("recipients.Township", on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField("结论", max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.TextField("复核意见", blank=True)
    checked_at = models.DateTimeField("复核时间", null=True, blank=True)
    follow_up = models.CharField("处理", max_length=12, choices=FollowUp.choices, blank=True, default="")
    correction = models.TextField("更正内容", blank=True)
    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = "抽查案件"
        verbose_name_plural = "抽查案件"
        ordering = ["sample", "township__name", "case__number"]
        constraints = [models.UniqueConstraint(fields=["sample", "case"], name="sample_case_once")]

    def __str__(self):
        return f"{self.sample} {self.case}"
