"""资助参保 (DOMAIN §12.1): the premium-subsidy rules of a county and insurance year as versioned data, the list
of people they subsidise (资助参保名单, built set-based from the registry), the enrolment result the collecting
department sends back (参保结果), and the townships' contact log for the people not yet enrolled.

The rules are separate from the assistance policy (applications.PolicyVersion): loading or changing them never
touches the assistance rules, and they are read by insurance year, not by service date."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from imports.models import ImportQuerySet, ImportRecord
from recipients.categories import Category
from recipients.models import scoped_to_user

from .presets import PRESET_NAMES

MONEY = {"max_digits": 14, "decimal_places": 2}


class Mode(models.TextChoices):
    FULL = "full", "全额资助"
    FIXED = "fixed", "定额资助"
    NONE = "none", "不资助"


# The 资助方式 column of the list (DATA-FORMATS §9) names a mode by its short name.
MODE_SHORT = {Mode.FULL: "全额", Mode.FIXED: "定额", Mode.NONE: "不资助"}


def default_reference_date(year: int) -> datetime.date:
    """The reference date of an insurance year unless the rules say otherwise: 31 December of the year before
    (the end of the collection period for the year's premium)."""
    return datetime.date(year - 1, 12, 31)


class RuleSetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's rule sets to its county's roles (a clerk: their township's county); every county's to the
        prefecture roles."""
        return scoped_to_user(self, user, "subsidies.view_subsidyruleset", township=None, county="county")


class SubsidyRuleSet(models.Model):
    """The premium-subsidy rules of one county for one insurance year; versioned (草稿 → 生效 → 已废止) and
    audited like the assistance policy. At most one version of a county-year is in force."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "生效"
        RETIRED = "retired", "已废止"

    county = models.ForeignKey("recipients.County", verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("参保年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField("名称", max_length=200)
    document_number = models.CharField("依据文号", max_length=100, blank=True)
    preset = models.CharField("预置方案", max_length=40, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    premium = models.DecimalField(
        "个人缴费标准（元）", **MONEY, null=True, blank=True, help_text="当年城乡居民医保个人缴费标准，如 380"
    )
    premium_to_confirm = models.BooleanField("缴费标准待确认", default=False)
    reference_date = models.DateField("参保时点", help_text="在此日有效身份的人员列入名单；默认上年 12 月 31 日")
    new_in_year = models.BooleanField(
        "资助当年新增", default=True, help_text="参保时点之后、当年内新认定身份的人员也予资助（或缴费后退还）"
    )
    target = models.DecimalField(
        "资助参保率目标",
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    notes = models.TextField("说明", blank=True)
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
    list_built_at = models.DateTimeField("名单生成时间", null=True, blank=True)

    objects = RuleSetQuerySet.as_manager()

    class Meta:
        verbose_name = "资助参保政策"
        verbose_name_plural = "资助参保政策"
        ordering = ["county", "-year", "-created_at", "-id"]
        permissions = [("activate_subsidyruleset", "使资助参保政策生效")]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year"], condition=Q(status="active"), name="one_active_subsidy_rules"
            ),
            models.CheckConstraint(
                name="subsidy_premium_nonnegative", condition=Q(premium__isnull=True) | Q(premium__gte=0)
            ),
            models.CheckConstraint(name="subsidy_target_range", condition=Q(target__gte=0, target__lte=1)),
        ]

    def __str__(self):
        return f"{self.year} 年资助参保（{self.name}）"

    @property
    def preset_name(self) -> str:
        """The preset as the pages name it."""
        return PRESET_NAMES.get(self.preset, self.preset)

    def open_items(self) -> list[str]:
        """What the administrator still has to confirm (待确认) before the rules can be put in force."""
        items = []
        if self.premium is None:
            items.append("个人缴费标准（未填写）")
        elif self.premium_to_confirm:
            items.append("个人缴费标准")
        for rule in self.rules.all():
            if rule.to_confirm:
                items.append(f"{rule.get_category_display()}的资助方式")
            elif rule.mode == Mode.FIXED and rule.amount is None:
                items.append(f"{rule.get_category_display()}的定额资助金额（未填写）")
        return items


class SubsidyRule(models.Model):
    """How one category is subsidised under a rule set: in full, by a fixed amount, or not. A category without a
    row is not subsidised."""

    rule_set = models.ForeignKey(SubsidyRuleSet, on_delete=models.CASCADE, related_name="rules")
    category = models.CharField("救助类别", max_length=4, choices=Category.choices)
    mode = models.CharField("资助方式", max_length=8, choices=Mode.choices)
    amount = models.DecimalField("定额资助金额（元）", **MONEY, null=True, blank=True)
    to_confirm = models.BooleanField("待确认", default=False)
    note = models.CharField("依据或说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "资助参保规则"
        verbose_name_plural = "资助参保规则"
        ordering = ["rule_set", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "category"], name="subsidy_rule_unique"),
            models.CheckConstraint(
                name="subsidy_amount_nonnegative", condition=Q(amount__isnull=True) | Q(amount__gte=0)
            ),
        ]

    def __str__(self):
        return f"{self.get_category_display()} {self.get_mode_display()}"


class EntryKind(models.TextChoices):
    REFERENCE = "reference", "参保时点在册"
    ADDED = "added", "当年新增"


class EntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "subsidies.view_subsidyentry")


class SubsidyEntry(models.Model):
    """One person on a year's 资助参保名单 (DATA-FORMATS §9), at the most favourable rule of the identities that
    put them there (就高不重复). Rebuilt set-based from the registry (subsidies.listing); never edited by hand."""

    person = models.ForeignKey(
        "recipients.Person", verbose_name="救助对象", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField("参保年度")
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    rule_set = models.ForeignKey(SubsidyRuleSet, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField("名单类型", max_length=10, choices=EntryKind.choices)
    category = models.CharField("资助类别", max_length=4, choices=Category.choices)
    mode = models.CharField("资助方式", max_length=8, choices=Mode.choices)
    premium = models.DecimalField("个人缴费标准", **MONEY)
    amount = models.DecimalField("资助金额", **MONEY)
    person_pays = models.DecimalField("个人应缴", **MONEY)
    identified_on = models.DateField("认定日期")
    created_at = models.DateTimeField("列入时间")
    updated_at = models.DateTimeField("更新时间")

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = "资助参保名单"
        verbose_name_plural = "资助参保名单"
        ordering = ["year", "township", "person"]
        permissions = [("work_subsidyentry", "跟进未参保人员（联系记录）")]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="subsidy_entry_once"),
            models.CheckConstraint(
                name="subsidy_entry_amounts", condition=Q(amount__gte=0, person_pays__gte=0, premium__gte=0)
            ),
        ]
        indexes = [models.Index(fields=["year", "township"], name="subsidy_entry_scope")]

    def __str__(self):
        return f"{self.year} 年资助参保 {self.person_id}"

    @property
    def mode_short(self) -> str:
        return MODE_SHORT.get(self.mode, self.mode)


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", "已参保"
    NOT_ENROLLED = "not_enrolled", "未参保"


class Enrolment(models.Model):
    """The enrolment result of one person and insurance year, as the collecting department last reported it."""

    Status = EnrolmentStatus

    person = models.ForeignKey(
        "recipients.Person", verbose_name="参保人", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField("参保年度")
    status = models.CharField("参保状态", max_length=12, choices=EnrolmentStatus.choices)
    paid_amount = models.DecimalField("缴费金额", **MONEY, null=True, blank=True)
    paid_on = models.DateField("缴费日期", null=True, blank=True)
    last_import = models.ForeignKey(
        "EnrolmentImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "参保结果"
        verbose_name_plural = "参保结果"
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="enrolment_once"),
            models.CheckConstraint(
                name="enrolment_paid_nonnegative", condition=Q(paid_amount__isnull=True) | Q(paid_amount__gte=0)
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_status_display()}"


class EnrolmentImportQuerySet(ImportQuerySet):
    pass


class EnrolmentImport(ImportRecord):
    """One 参保结果 file (DATA-FORMATS §9, back): its check report, and once confirmed, what it changed."""

    year = models.PositiveSmallIntegerField("参保年度")
    rows_added = models.PositiveIntegerField("新增结果", default=0)
    rows_changed = models.PositiveIntegerField("变更", default=0)
    rows_unchanged = models.PositiveIntegerField("无变化", default=0)
    rows_enrolled = models.PositiveIntegerField("已参保", default=0)
    rows_not_enrolled = models.PositiveIntegerField("未参保", default=0)
    rows_unknown = models.PositiveIntegerField("不在名册", default=0)
    rows_not_listed = models.PositiveIntegerField("不在资助名单", default=0)
    unmatched = models.JSONField(
        "未匹配的行", default=list, blank=True, help_text="身份证号不在名册或不在当年资助名单的行（前 500 行）"
    )

    objects = EnrolmentImportQuerySet.as_manager()

    class Meta(ImportRecord.Meta):
        verbose_name = "参保结果导入"
        verbose_name_plural = "参保结果导入记录"
        permissions = [("import_enrolment", "导入参保结果")]


class ContactOutcome(models.TextChoices):
    CONTACTED = "contacted", "已联系，告知政策"
    PROMISED = "promised", "同意参保"
    ELSEWHERE = "elsewhere", "已在外地或职工医保参保"
    REFUSED = "refused", "拒绝参保"
    UNREACHABLE = "unreachable", "联系不上"
    DECEASED = "deceased", "已故"
    MOVED = "moved", "迁出"


class SubsidyContact(models.Model):
    """One call or visit of the township about a listed person not yet enrolled. Kept by person and year, so
    that a rebuilt list keeps its history."""

    class Method(models.TextChoices):
        PHONE = "phone", "电话"
        VISIT = "visit", "入户走访"
        VILLAGE = "village", "村（社区）转告"
        OTHER = "other", "其他"

    Outcome = ContactOutcome

    person = models.ForeignKey("recipients.Person", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("参保年度")
    contacted_on = models.DateField("联系日期")
    method = models.CharField("联系方式", max_length=10, choices=Method.choices)
    outcome = models.CharField("联系结果", max_length=12, choices=ContactOutcome.choices)
    note = models.TextField("备注", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "参保联系记录"
        verbose_name_plural = "参保联系记录"
        ordering = ["-contacted_on", "-id"]

    def __str__(self):
        return f"{self.year} {self.contacted_on} {self.get_outcome_display()}"
