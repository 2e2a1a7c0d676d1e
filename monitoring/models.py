"""监测预警 of heavy medical costs (DOMAIN §12.4): thresholds as policy data, the monthly runs, the people watched
and the monthly 监测名单, its pushes to 民政 and 乡村振兴, and the 因病致贫重病患者 (ZB) identification."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from lib import scans
from recipients.models import scoped_to_user

MONEY = {"max_digits": 14, "decimal_places": 2}


class Population(models.TextChoices):
    REGISTRY = "registry", "低收入人口（名册内有效身份）"
    GENERAL = "general", "一般参保人员"


class Threshold(models.Model):
    """The 预警阈值 of one county, year and population: a fixed amount or a share of the prior-year per-capita
    disposable income (applications.RegionIncome of year − 1), judged on the calendar year to date or on the
    rolling 12 months. A person listed once is listed again when their figure grows by `relist_step`, or in a
    new year."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", "固定金额"
        INCOME_SHARE = "income_share", "上年人均可支配收入的比例"

    class Basis(models.TextChoices):
        CALENDAR = "calendar", "自然年度（年初至当月）"
        ROLLING = "rolling", "近 12 个月（滚动）"

    county = models.ForeignKey("recipients.County", verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    population = models.CharField("适用人群", max_length=10, choices=Population.choices)
    kind = models.CharField("阈值方式", max_length=12, choices=Kind.choices, default=Kind.AMOUNT)
    amount = models.DecimalField("金额（元）", **MONEY, null=True, blank=True)
    share = models.DecimalField(
        "比例",
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text="如 0.5 表示上年人均可支配收入的 50%",
    )
    basis = models.CharField("计算口径", max_length=10, choices=Basis.choices, default=Basis.CALENDAR)
    relist_step = models.DecimalField(
        "再次列入的增长额（元）", **MONEY, default=5000, help_text="已列入的人员负担再增长这么多才再次列入名单"
    )
    notes = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "监测预警阈值"
        verbose_name_plural = "监测预警阈值"
        ordering = ["county", "-year", "population"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "population"], name="threshold_unique"),
            models.CheckConstraint(
                name="threshold_value_given",
                condition=(Q(kind="amount") & Q(amount__isnull=False) & Q(amount__gte=0))
                | (Q(kind="income_share") & Q(share__isnull=False)),
            ),
        ]

    def __str__(self):
        return f"{self.county} {self.year} 年 {self.get_population_display()}"


class RunQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.prefecture_wide:
            return self
        if user.scope_county_id is None:
            return self.none()
        return self.filter(Q(county_id=user.scope_county_id) | Q(county__isnull=True))


class MonitoringRun(models.Model):
    """One run of the monitoring job for a month (and a county, or all)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    month = models.DateField("监测月份", help_text="当月第一天")
    county = models.ForeignKey(
        "recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField("触发原因", max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    people = models.PositiveIntegerField("计算人数", default=0)
    above = models.PositiveIntegerField("超过阈值", default=0)
    listed_new = models.PositiveIntegerField("首次列入", default=0)
    listed_again = models.PositiveIntegerField("再次列入", default=0)
    message = models.TextField("说明", blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        verbose_name = "监测任务"
        verbose_name_plural = "监测任务"
        ordering = ["-requested_at", "-pk"]
        permissions = [("run_monitoring", "运行监测预警任务")]

    def __str__(self):
        return f"监测 {self.month:%Y-%m} #{self.pk}"


class WatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "monitoring.view_listing", county="county")


class Watch(models.Model):
    """A person the monitoring has listed at least once, keyed by ID number (registry or not): when first
    warned, and what their last listing said — the base of the "listed again" rule."""

    id_number = models.CharField("身份证号", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)
    person = models.ForeignKey(
        "recipients.Person", verbose_name="救助对象", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    county = models.ForeignKey("recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey(
        "recipients.Township",
        verbose_name="乡镇（街道）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="名册外人员由县局分派到乡镇",
    )
    first_warned = models.DateField("首次预警月份")
    last_listed = models.DateField("最近列入月份")
    last_figure = models.DecimalField("最近列入时的负担", **MONEY)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = WatchQuerySet.as_manager()

    class Meta:
        verbose_name = "监测对象"
        verbose_name_plural = "监测对象"
        ordering = ["county", "township", "id_number"]

    def __str__(self):
        return self.name


class ListingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "monitoring.view_listing", township="watch__township", county="watch__county")


class Listing(models.Model):
    """One line of a month's 监测名单 (DATA-FORMATS §10): a person first listed (新增), or listed again after
    their figure grew by the step, or in a new year."""

    class Reason(models.TextChoices):
        NEW = "new", "首次列入"
        GROWTH = "growth", "负担继续增长"
        NEW_YEAR = "new_year", "新年度"

    watch = models.ForeignKey(Watch, verbose_name="监测对象", on_delete=models.CASCADE, related_name="listings")
    month = models.DateField("监测月份")
    reason = models.CharField("列入原因", max_length=10, choices=Reason.choices)
    population = models.CharField("适用人群", max_length=10, choices=Population.choices)
    categories = models.CharField("当前救助身份", max_length=60, blank=True)
    rolling = models.DecimalField("近12个月个人负担", **MONEY)
    year_to_date = models.DecimalField("本年度个人负担", **MONEY)
    threshold = models.DecimalField("预警阈值", **MONEY)
    basis = models.CharField("计算口径", max_length=10, choices=Threshold.Basis.choices)
    run = models.ForeignKey(MonitoringRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ListingQuerySet.as_manager()

    class Meta:
        verbose_name = "监测名单条目"
        verbose_name_plural = "监测名单"
        ordering = ["-month", "watch__township", "watch__id_number"]
        constraints = [models.UniqueConstraint(fields=["watch", "month"], name="listing_once_a_month")]
        indexes = [models.Index(fields=["month", "reason"], name="listing_month")]

    def __str__(self):
        return f"{self.watch} {self.month:%Y-%m}"

    @property
    def is_new(self) -> bool:
        return self.reason == self.Reason.NEW

    @property
    def figure(self):
        return self.rolling if self.basis == Threshold.Basis.ROLLING else self.year_to_date


class PushQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "monitoring.view_listing", township=None, county="county")


class Push(models.Model):
    """A 监测名单 handed to 民政 or 乡村振兴: who, when, how many lines, how many new."""

    class Department(models.TextChoices):
        MZ = "MZ", "民政"
        XCZX = "XCZX", "乡村振兴"

    month = models.DateField("监测月份")
    department = models.CharField("推送部门", max_length=6, choices=Department.choices)
    county = models.ForeignKey(
        "recipients.County", verbose_name="县（区）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    new_only = models.BooleanField("仅新增", default=False)
    rows = models.PositiveIntegerField("人数")
    new_rows = models.PositiveIntegerField("其中新增")
    masked = models.BooleanField("身份证号脱敏", default=False)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="推送人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pushed_at = models.DateTimeField("推送时间", auto_now_add=True)
    file_name = models.CharField("文件", max_length=200, blank=True)

    objects = PushQuerySet.as_manager()

    class Meta:
        verbose_name = "监测名单推送"
        verbose_name_plural = "监测名单推送记录"
        ordering = ["-pushed_at", "-pk"]
        permissions = [("push_listing", "导出并推送监测名单")]

    def __str__(self):
        return f"{self.month:%Y-%m} → {self.get_department_display()}"


class ZbQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "monitoring.view_zbapplication", county="township__county")


class ZbApplication(models.Model):
    """因病致贫重病患者 identification of a listed person without an identity: opened by the township from the
    监测名单, 入户核查 recorded, decided by the county (never by whoever opened or verified it)."""

    class Status(models.TextChoices):
        OPEN = "open", "已受理（待入户核查）"
        VERIFIED = "verified", "已入户核查（待县局认定）"
        APPROVED = "approved", "认定为因病致贫重病患者"
        REJECTED = "rejected", "不予认定"

    number = models.CharField("申请编号", max_length=20, unique=True)
    listing = models.ForeignKey(Listing, verbose_name="监测名单条目", on_delete=models.PROTECT, related_name="+")
    watch = models.ForeignKey(Watch, verbose_name="监测对象", on_delete=models.PROTECT, related_name="applications")
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=50)
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    household = models.JSONField("家庭成员", default=list, blank=True, help_text="[{name, relation, income}]")
    household_size = models.PositiveSmallIntegerField("家庭人口", default=1)
    declared_income = models.DecimalField("家庭年收入（申报，元）", **MONEY)
    declared_assets = models.TextField("家庭财产（申报）", blank=True)
    medical_rolling = models.DecimalField("近12个月个人负担（受理时）", **MONEY)
    medical_year = models.DecimalField("本年度个人负担（受理时）", **MONEY)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受理人", on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField("受理时间", auto_now_add=True)
    visited_on = models.DateField("入户核查日期", null=True, blank=True)
    visit_staff = models.CharField("核查人员", max_length=100, blank=True)
    visit_findings = models.TextField("核查情况", blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="认定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_on = models.DateField("认定日期", null=True, blank=True)
    decided_at = models.DateTimeField("认定操作时间", null=True, blank=True)
    decision_reason = models.TextField("认定意见", blank=True)
    person = models.ForeignKey(
        "recipients.Person", verbose_name="救助对象", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    identity = models.ForeignKey(
        "recipients.Identity",
        verbose_name="救助身份",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ZbQuerySet.as_manager()

    class Meta:
        verbose_name = "因病致贫重病患者认定"
        verbose_name_plural = "因病致贫重病患者认定"
        ordering = ["-opened_at", "-pk"]
        permissions = [("open_zbapplication", "受理因病致贫认定申请"), ("decide_zbapplication", "认定因病致贫重病患者")]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=Q(status__in=["open", "verified"]), name="one_open_zb_per_person"
            )
        ]

    def __str__(self):
        return self.number


def scan_path(instance, filename):  # (the name the migrations know)
    return scans.scan_path(f"zb/{instance.application_id}", instance)


class ZbScan(scans.ScannedFile):
    """A scan of the 入户核查 (record, photos, proofs; lib.scans); served only through a view that checks the
    application is visible."""

    application = models.ForeignKey(ZbApplication, on_delete=models.CASCADE, related_name="scans")
    file = models.FileField("文件", upload_to=scan_path)

    class Meta:
        verbose_name = "入户核查扫描件"
        verbose_name_plural = "入户核查扫描件"
        ordering = ["uploaded_at", "pk"]
