"""Payout batches (DOMAIN §9): approved amounts to the bank file and back. A case is paid at most once."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from recipients.models import scoped_to_user

MONEY = {"max_digits": 14, "decimal_places": 2}


class BatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's batches to its county's roles; every county's to the prefecture roles."""
        return scoped_to_user(self, user, "payouts.view_payoutbatch", township=None, county="county")


class LineQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "payouts.view_payoutline", township=None, county="batch__county")


class PayoutBatch(models.Model):
    """草稿 → 已锁定 → 已复核 (a second finance user) → 已导出 → 已回盘 → 已完成; a draft or locked batch can be cancelled."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        LOCKED = "locked", "已锁定"
        REVIEWED = "reviewed", "已复核"
        EXPORTED = "exported", "已导出"
        RETURNED = "returned", "已回盘"
        CLOSED = "closed", "已完成"
        CANCELLED = "cancelled", "已作废"

    number = models.CharField("批次号", max_length=20, unique=True)
    county = models.ForeignKey(
        "recipients.County", verbose_name="所属县（区）", on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    purpose = models.CharField("摘要", max_length=50, default="医疗救助金")
    filters = models.JSONField("选取条件", default=dict, blank=True)
    line_count = models.PositiveIntegerField("笔数", default=0)
    total = models.DecimalField("金额合计", **MONEY, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制单人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("制单时间", auto_now_add=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="锁定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    exported_at = models.DateTimeField("首次导出时间", null=True, blank=True)
    export_count = models.PositiveIntegerField("导出次数", default=0)
    content_hash = models.CharField("代发文件 SHA-256", max_length=64, blank=True)
    returned_at = models.DateTimeField("回盘时间", null=True, blank=True)
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    note = models.TextField("备注", blank=True)
    # Funds before payouts (DOMAIN §12.2): an administrator may let a batch be locked past the available funds,
    # with a reason, for the batch's total as it stood (a batch changed since needs a new decision).
    funds_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="资金不足放行人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    funds_override_at = models.DateTimeField("资金不足放行时间", null=True, blank=True)
    funds_override_reason = models.CharField("资金不足放行原因", max_length=200, blank=True)
    funds_override_total = models.DecimalField("放行时批次金额", **MONEY, null=True, blank=True)
    # Where a county contracts an insurer to run assistance (DOMAIN §12.5), the insurer pays 零星 amounts from its
    # settlement reserve: the batch's bank file goes to the insurer, and the county reimburses it by statement.
    payer_name = models.CharField(
        "付款单位（承办保险机构）", max_length=100, blank=True, help_text="空：医保局（救助资金专户）支付"
    )

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = "支付批次"
        verbose_name_plural = "支付批次"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("manage_payoutbatch", "制作、锁定、导出支付批次，导入银行回盘"),
            ("review_payoutbatch", "复核支付批次"),
            ("override_funds", "可用资金不足时放行锁定支付批次"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.CANCELLED

    @property
    def paid_by_insurer(self) -> bool:
        return bool(self.payer_name)


class PayoutLine(models.Model):
    """One payment to one payee for one case. While `live`, the case is in this batch and no other: a
    database constraint. A paid line stays live (the case is paid, once); a failed or removed one does not."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发放"
        PAID = "paid", "发放成功"
        FAILED = "failed", "发放失败"
        REMOVED = "removed", "已移出"

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines")
    case = models.ForeignKey(
        "applications.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="payout_lines"
    )
    reference = models.CharField("业务编号", max_length=30, unique=True)
    township = models.ForeignKey("recipients.Township", on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=10)
    payee_name = models.CharField("户名", max_length=50)
    payee_account = models.CharField("银行账号", max_length=40)
    payee_bank = models.CharField("开户银行", max_length=100)
    id_number = models.CharField("身份证号", max_length=18)
    amount = models.DecimalField("金额（元）", **MONEY, help_text="实发：案件批准金额减去抵扣")
    # 抵扣 (DOMAIN §12.2): a recovery the payee owes, kept back from this payment; the case's grant is amount +
    # offset. A line offset in full (amount 0) sends nothing to the bank.
    offset = models.DecimalField("抵扣追回款", **MONEY, default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    live = models.BooleanField("在批次中", default=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    resolved_at = models.DateTimeField("回盘时间", null=True, blank=True)

    objects = LineQuerySet.as_manager()

    class Meta:
        verbose_name = "支付明细"
        verbose_name_plural = "支付明细"
        ordering = ["batch", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(live=True), name="one_live_payout_line_per_case"),
            models.UniqueConstraint(fields=["case"], condition=Q(status="paid"), name="one_paid_line_per_case"),
            models.CheckConstraint(
                name="payout_amount_positive", condition=Q(amount__gt=0) | (Q(amount=0) & Q(offset__gt=0))
            ),
            models.CheckConstraint(name="payout_offset_nonnegative", condition=Q(offset__gte=0)),
        ]
        # Failed payments by case: whether an approved case waits for its payee to be corrected (a lookup per
        # approved case on the batch list and the home page).
        indexes = [models.Index(fields=["case"], condition=Q(status="failed"), name="payout_line_failed")]

    def __str__(self):
        return self.reference

    @property
    def gross(self):
        """The case's grant this line pays: what goes to the bank plus what was kept back as an offset."""
        return self.amount + self.offset


class BankReturn(models.Model):
    """One bank return file as imported: what it matched, and what it changed."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="returns")
    file_name = models.CharField("文件名", max_length=255)
    file_hash = models.CharField("文件 SHA-256", max_length=64)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数", default=0)
    paid = models.PositiveIntegerField("新确认成功", default=0)
    failed = models.PositiveIntegerField("新确认失败", default=0)
    unchanged = models.PositiveIntegerField("已处理过", default=0)

    class Meta:
        verbose_name = "银行回盘"
        verbose_name_plural = "银行回盘"
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"{self.batch} {self.file_name}"
