"""Assistance policy as versioned data (DOMAIN §5), the person-year ledger the calculator reads, and the
working-day calendar corrections."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from recipients.categories import Category
from recipients.models import scoped_to_user
from settlements.visits import Pool, VisitType

MONEY = {"max_digits": 14, "decimal_places": 2}
RATIO = {
    "max_digits": 5,
    "decimal_places": 4,
    "validators": [MinValueValidator(0), MaxValueValidator(1)],
}


class PolicyVersionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's versions to its county's roles; every county's to the prefecture roles."""
        return scoped_to_user(self, user, "applications.view_policyversion", township=None, county="county")


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "生效"
        RETIRED = "retired", "已废止"

    county = models.ForeignKey("recipients.County", verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=200)
    document_number = models.CharField("文号", max_length=100, blank=True)
    preset = models.CharField("预置方案", max_length=40, blank=True)
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True, help_text="含当日；空表示长期有效")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField("说明", blank=True)
    key_categories = models.JSONField("重点救助对象类别", default=list, blank=True)
    major_disease_codes = models.JSONField(
        "重特大疾病诊断编码（前缀）",
        default=list,
        blank=True,
        help_text="ICD-10 编码前缀；结算数据标记为重特大疾病的也计入",
    )
    time_limit_working_days = models.PositiveSmallIntegerField("办理时限（工作日）", default=30)
    key_ratio_target = models.DecimalField(
        "重点救助对象住院救助比例目标", max_digits=5, decimal_places=4, default=Decimal("0.70")
    )
    major_share_target = models.DecimalField(
        "重特大疾病救助人次占比目标", max_digits=5, decimal_places=4, default=Decimal("0.28")
    )
    claim_deadline_days = models.PositiveSmallIntegerField("申请期限（出院后天数）", null=True, blank=True)
    # 基金监管 (DOMAIN §12.2).
    second_approval_threshold = models.DecimalField(
        "二级审批金额标准",
        **MONEY,
        null=True,
        blank=True,
        help_text="批准金额达到此数（含）的案件须另一名审批人二级审批；空表示不分级",
    )
    sample_share = models.DecimalField(
        "每月抽查比例", **RATIO, default=Decimal("0.05"), help_text="当月批准的零星报销案件按此比例随机抽查，如 0.05"
    )
    sample_minimum = models.PositiveSmallIntegerField(
        "每乡镇至少抽查件数", default=2, help_text="乡镇当月批准案件不足此数时全部抽查"
    )
    public_notice_required = models.BooleanField("需要公示", default=False)
    materials = models.JSONField("申请材料清单", default=list, blank=True)
    key_materials = models.JSONField(
        "关键材料", default=list, blank=True, help_text="清单中缺少时不能受理（也不能容缺受理）的材料"
    )
    to_confirm = models.JSONField(
        "待确认的参数", default=list, blank=True, help_text="来源文件未给出、需管理员确认的参数说明"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    activated_at = models.DateTimeField("生效操作时间", null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="生效操作人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "救助政策版本"
        verbose_name_plural = "救助政策版本"
        ordering = ["county", "-effective_from"]
        permissions = [("activate_policyversion", "使救助政策版本生效")]
        constraints = [
            models.CheckConstraint(
                name="policy_window_ordered",
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                violation_error_message="失效日期不能早于生效日期",
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.document_number}）" if self.document_number else self.name


class FirstRoundRule(models.Model):
    """First-round assistance of one category for one visit type under one policy version."""

    class DeductibleKind(models.TextChoices):
        NONE = "none", "无起付线"
        FIXED = "fixed", "固定金额"
        INCOME_SHARE = "income_share", "上年人均可支配收入的百分比"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="first_round_rules")
    category = models.CharField("救助类别", max_length=4, choices=Category.choices)
    visit_type = models.CharField("就诊类型", max_length=10, choices=VisitType.choices)
    eligible = models.BooleanField("享受第一轮救助", default=True)
    ratio = models.DecimalField("救助比例", **RATIO, default=0)
    deductible_kind = models.CharField("起付线方式", max_length=16, choices=DeductibleKind.choices, default="none")
    deductible_value = models.DecimalField(
        "起付线数值", max_digits=14, decimal_places=4, default=0, help_text="固定金额填元；百分比填小数，如 0.10"
    )
    cap = models.DecimalField("年度封顶线", **MONEY, null=True, blank=True, help_text="空表示不封顶")
    pool = models.CharField("封顶线额度", max_length=10, choices=Pool.choices)

    class Meta:
        verbose_name = "第一轮救助规则"
        verbose_name_plural = "第一轮救助规则"
        constraints = [
            models.UniqueConstraint(fields=["version", "category", "visit_type"], name="first_round_rule_unique"),
            models.CheckConstraint(name="first_round_ratio_range", condition=Q(ratio__gte=0, ratio__lte=1)),
            models.CheckConstraint(name="first_round_cap_nonnegative", condition=Q(cap__isnull=True) | Q(cap__gte=0)),
        ]

    def __str__(self):
        return f"{self.get_category_display()} {self.visit_type}"


class SecondaryRule(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="secondary_rules")
    category = models.CharField("救助类别", max_length=4, choices=Category.choices)
    trigger = models.DecimalField("启动标准（年度个人负担）", **MONEY, default=0)
    deductible = models.DecimalField("起付线", **MONEY, default=0)
    bands = models.JSONField(
        "分段比例", default=list, help_text='[{"upto": "10000", "ratio": "0.7"}, {"upto": null, "ratio": "0.8"}]'
    )
    cap = models.DecimalField("年度封顶线", **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = "二次救助规则"
        verbose_name_plural = "二次救助规则"
        constraints = [models.UniqueConstraint(fields=["version", "category"], name="secondary_rule_unique")]

    def __str__(self):
        return f"{self.get_category_display()} 二次救助"


class RegionIncome(models.Model):
    """上年人均可支配收入 of a region and year, the base of percentage deductibles."""

    county = models.ForeignKey("recipients.County", verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField("人均可支配收入（元）", **MONEY)

    class Meta:
        verbose_name = "人均可支配收入"
        verbose_name_plural = "人均可支配收入"
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="region_income_unique")]

    def __str__(self):
        return f"{self.county} {self.year} 年 {self.amount} 元"


class LedgerEntry(models.Model):
    """A person's running totals for one year and one cap pool (or 二次救助).

    Posted to only with the row locked (select_for_update), so concurrent approvals can never push
    a person past a cap.
    """

    SECONDARY = "二次救助"

    person = models.ForeignKey("recipients.Person", on_delete=models.PROTECT, related_name="ledger_entries")
    year = models.PositiveSmallIntegerField("年度")
    pool = models.CharField("额度", max_length=10)
    deductible_used = models.DecimalField("已计入起付线", **MONEY, default=0)
    granted = models.DecimalField("已救助金额", **MONEY, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "救助台账"
        verbose_name_plural = "救助台账"
        constraints = [
            models.UniqueConstraint(fields=["person", "year", "pool"], name="ledger_unique"),
            models.CheckConstraint(name="ledger_nonnegative", condition=Q(deductible_used__gte=0, granted__gte=0)),
        ]

    def __str__(self):
        return f"{self.person} {self.year} {self.pool}"


class CalendarOverride(models.Model):
    """A day whose working status the admin sets: years chinesecalendar does not cover yet, or corrections."""

    day = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("工作日")
    note = models.CharField("说明", max_length=100, blank=True, help_text="如：春节、调休上班")

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {'上班' if self.is_workday else '休息'} {self.note}"
