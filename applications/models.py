"""Assistance policy as versioned data (DOMAIN §5), and the person-year ledger the calculator reads."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from recipients.categories import Category

MONEY = {"max_digits": 14, "decimal_places": 2}
RATIO = {
    "max_digits": 5,
    "decimal_places": 4,
    "validators": [MinValueValidator(0), MaxValueValidator(1)],
}


class VisitType(models.TextChoices):
    OUTPATIENT = "门诊", "门诊"
    CHRONIC = "门诊慢特病", "门诊慢特病"
    INPATIENT = "住院", "住院"


class Pool(models.TextChoices):
    OUTPATIENT = "门诊", "门诊"
    INPATIENT = "住院", "住院"
    SHARED = "门诊住院共用", "门诊住院共用"


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
    public_notice_required = models.BooleanField("需要公示", default=False)
    materials = models.JSONField("申请材料清单", default=list, blank=True)
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


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        from recipients.models import scoped_to_user

        return scoped_to_user(self, user, "applications.view_case")

    def overdue(self, day):
        return self.filter(due_on__lt=day).exclude(status__in=CLOSED_STATUSES)

    def due_soon(self, day, until):
        return self.filter(due_on__gte=day, due_on__lte=until).exclude(status__in=CLOSED_STATUSES)


class Case(models.Model):
    """A 零星报销 case (申请) and, later, proactive-lead and secondary-assistance cases."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACCEPTED = "accepted", "已受理"
        ACCEPTED_PENDING = "accepted_pending", "容缺受理"
        REVIEW = "review", "待审核"
        APPROVAL = "approval", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "不予救助"
        RETURNED = "returned", "退回补正"
        WITHDRAWN = "withdrawn", "已撤回"
        PAID = "paid", "已发放"

    class Source(models.TextChoices):
        WINDOW = "window", "窗口申请"
        LEAD = "lead", "主动救助线索"
        SECONDARY = "secondary", "二次救助"

    number = models.CharField("案件编号", max_length=32, unique=True)
    person = models.ForeignKey(
        "recipients.Person", verbose_name="申请人", on_delete=models.PROTECT, related_name="cases"
    )
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.WINDOW)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    due_on = models.DateField("办结期限", null=True, blank=True, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    identity_pending = models.BooleanField(
        "身份待核实", default=False, help_text="申请人在窗口新登记，救助身份尚待县局核实"
    )
    missing_materials = models.JSONField("缺少的材料", default=list, blank=True)
    materials_deadline = models.DateField("补齐材料期限", null=True, blank=True)
    commitment_signed = models.BooleanField("已签署承诺书", default=False)
    agent_name = models.CharField("代办人姓名", max_length=50, blank=True)
    agent_id_number = models.CharField("代办人身份证号", max_length=18, blank=True)
    agent_relation = models.CharField("与申请人关系", max_length=20, blank=True)
    payee_name = models.CharField("收款人", max_length=50, blank=True)
    payee_bank = models.CharField("开户银行", max_length=100, blank=True)
    payee_account = models.CharField("银行账号", max_length=40, blank=True)
    proposed_amount = models.DecimalField("拟救助金额", **MONEY, null=True, blank=True)
    approved_amount = models.DecimalField("批准金额", **MONEY, null=True, blank=True)
    calculation = models.JSONField("计算过程", default=list, blank=True)
    decision_reason = models.TextField("审批意见", blank=True)
    year = models.PositiveSmallIntegerField("救助年度", null=True, blank=True, help_text="二次救助案件所属年度")
    review_flag = models.CharField(
        "复核提示", max_length=300, blank=True, help_text="如：重新测算的应救助金额低于已救助金额"
    )
    revision = models.PositiveIntegerField(
        "修订号", default=0, help_text="每次保存加一；防止两人同时修改时后者覆盖前者"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "救助案件"
        verbose_name_plural = "救助案件"
        ordering = ["-created_at"]
        permissions = [
            ("receive_case", "受理救助申请"),
            ("review_case", "审核救助案件"),
            ("approve_case", "审批救助案件"),
        ]
        constraints = [
            # One secondary case in progress per person and year: re-running the trigger updates it.
            models.UniqueConstraint(
                fields=["person", "year"],
                condition=Q(source="secondary")
                & Q(status__in=["draft", "accepted", "accepted_pending", "review", "approval", "returned"]),
                name="one_open_secondary_case_per_person_year",
            ),
            models.CheckConstraint(
                name="case_amounts_nonnegative",
                condition=(Q(proposed_amount__isnull=True) | Q(proposed_amount__gte=0))
                & (Q(approved_amount__isnull=True) | Q(approved_amount__gte=0)),
            ),
        ]

    def __str__(self):
        return self.number


CLOSED_STATUSES = [
    Case.Status.APPROVED,
    Case.Status.REJECTED,
    Case.Status.WITHDRAWN,
    Case.Status.PAID,
    Case.Status.DRAFT,
]


class CaseTransition(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("原状态", max_length=20, choices=Case.Status.choices)
    to_status = models.CharField("新状态", max_length=20, choices=Case.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "案件流转记录"
        verbose_name_plural = "案件流转记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.case} {self.from_status}→{self.to_status}"


class Bill(models.Model):
    """One medical bill (就诊记录) on a case, with the money fields of DOMAIN §4."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="bills")
    hospital = models.CharField("医疗机构", max_length=100)
    visit_type = models.CharField("就诊类型", max_length=10, choices=VisitType.choices)
    admitted_on = models.DateField("入院日期", null=True, blank=True)
    discharged_on = models.DateField("出院日期", null=True, blank=True)
    visit_on = models.DateField("就诊日期", null=True, blank=True)
    invoice_number = models.CharField("发票号", max_length=50)
    settlement_number = models.CharField("结算单号", max_length=50, blank=True)
    total = models.DecimalField("医疗总费用", **MONEY)
    in_policy = models.DecimalField("政策范围内费用", **MONEY)
    basic = models.DecimalField("基本医保统筹支付", **MONEY, default=0)
    critical = models.DecimalField("大病保险支付", **MONEY, default=0)
    other = models.DecimalField("其他保险支付", **MONEY, default=0)
    donation = models.DecimalField("社会捐赠", **MONEY, default=0)
    diagnosis = models.CharField("主要诊断", max_length=100, blank=True)
    major_disease = models.BooleanField("重特大疾病", default=False)
    # Hospital and invoice number with spacing, width and case differences removed: the key by which
    # the same invoice is recognised however it was typed.
    invoice_key = models.CharField("发票识别码", max_length=160, db_index=True, editable=False, default="")
    # Set when the case is approved: one approved claim per invoice is a database guarantee.
    claimed = models.BooleanField("已获救助", default=False)
    granted = models.DecimalField("第一轮救助金额", **MONEY, null=True, blank=True, help_text="批准时写入")

    class Meta:
        verbose_name = "就诊记录"
        verbose_name_plural = "就诊记录"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_key"], condition=Q(claimed=True), name="one_approved_claim_per_invoice"
            ),
            models.CheckConstraint(
                name="bill_in_policy_le_total",
                condition=Q(in_policy__lte=models.F("total")),
                violation_error_message="政策范围内费用不能大于医疗总费用",
            ),
        ]

    def __str__(self):
        return f"{self.hospital} {self.invoice_number}"

    def save(self, *args, **kwargs):
        self.invoice_key = self.make_invoice_key(self.hospital, self.invoice_number)
        super().save(*args, **kwargs)

    @property
    def service_date(self):
        return self.discharged_on if self.visit_type == VisitType.INPATIENT else self.visit_on

    @staticmethod
    def make_invoice_key(hospital: str, invoice_number: str) -> str:
        import unicodedata

        def norm(text: str) -> str:
            return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()

        return f"{norm(hospital)}|{norm(invoice_number)}"[:160]

    def amounts(self):
        """The bill's money fields for the calculator; raises PolicyError when they do not add up."""
        from .policy_engine import Amounts

        return Amounts(
            total=self.total,
            in_policy=self.in_policy,
            basic=self.basic,
            critical=self.critical,
            other=self.other,
            donation=self.donation,
        )


def _attachment_path(instance, filename):
    # Stored under MEDIA_ROOT (outside the static tree) by case, under a random name.
    import uuid

    return f"cases/{instance.case_id}/{uuid.uuid4().hex}{instance.extension}"


class Attachment(models.Model):
    """A scanned material of a case; served only through a view that checks the case is visible."""

    TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    material = models.CharField("材料", max_length=100, blank=True)
    file = models.FileField("文件", upload_to=_attachment_path)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("文件类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "申请材料扫描件"
        verbose_name_plural = "申请材料扫描件"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name

    @property
    def extension(self) -> str:
        return self.TYPES.get(self.content_type, "")


class Job(models.Model):
    """A run of a background job (the 主动救助 cross-check, the 二次救助 trigger) with its progress and results.

    At most one job of a kind waits and one runs (database constraints); a request while one waits
    joins it instead of queueing another.
    """

    class Kind(models.TextChoices):
        CROSSCHECK = "crosscheck", "主动救助比对"
        SECONDARY = "secondary", "二次救助测算"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务", max_length=12, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True, help_text="空表示全部年度")
    people_ids = models.JSONField("限定人员", null=True, blank=True, help_text="空表示全部人员")
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
    phase = models.CharField("进度", max_length=100, blank=True)
    rows_examined = models.PositiveIntegerField("检查结算数", default=0)
    candidates = models.PositiveIntegerField("符合条件的结算", default=0)
    people = models.PositiveIntegerField("涉及人员", default=0)
    processed = models.PositiveIntegerField("已测算人员", default=0)
    created = models.PositiveIntegerField("新建", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    closed = models.PositiveIntegerField("关闭", default=0)
    reopened = models.PositiveIntegerField("重新打开", default=0)
    total_amount = models.DecimalField("预计金额合计", **MONEY, default=0)
    message = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-requested_at", "-id"]
        permissions = [("run_job", "手动运行比对和测算任务")]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(status="queued"), name="one_queued_job_per_kind"),
            models.UniqueConstraint(fields=["kind"], condition=Q(status="running"), name="one_running_job_per_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def progress_percent(self) -> int:
        if not self.people:
            return 0
        return min(100, int(self.processed * 100 / self.people))


class ContactOutcome(models.TextChoices):
    CONTACTED = "contacted", "已联系"
    AGREED = "agreed", "同意申请"
    REFUSED = "refused", "拒绝"
    UNREACHABLE = "unreachable", "联系不上"
    DECEASED = "deceased", "已故"
    MOVED = "moved", "迁出"


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user):
        from recipients.models import scoped_to_user

        return scoped_to_user(self, user, "applications.view_lead")


class Lead(models.Model):
    """A 主动救助线索 (DOMAIN §7): one person and year whose settlements were eligible but never assisted."""

    class Status(models.TextChoices):
        OPEN = "open", "待跟进"
        CONVERTED = "converted", "已转申请"
        CLOSED = "closed", "已关闭"

    class CloseReason(models.TextChoices):
        REFUSED = "refused", "本人拒绝申请"
        UNREACHABLE = "unreachable", "多次联系不上"
        DECEASED = "deceased", "已故"
        MOVED = "moved", "已迁出"
        OTHER = "other", "其他"
        RESOLVED = "resolved", "已无待救助结算（自动关闭）"

    number = models.CharField("线索编号", max_length=20, unique=True)
    person = models.ForeignKey(
        "recipients.Person", verbose_name="救助对象", on_delete=models.PROTECT, related_name="leads"
    )
    township = models.ForeignKey(
        "recipients.Township", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    category = models.CharField("救助类别", max_length=4, choices=Category.choices, blank=True)
    settlement_count = models.PositiveIntegerField("结算笔数", default=0)
    self_pay_total = models.DecimalField("政策范围内个人自付合计", **MONEY, default=0)
    estimate = models.DecimalField("预计救助金额", **MONEY, default=0)
    outcome = models.CharField("最近联系结果", max_length=12, choices=ContactOutcome.choices, blank=True)
    close_reason = models.CharField("关闭原因", max_length=12, choices=CloseReason.choices, blank=True)
    close_note = models.TextField("关闭说明", blank=True)
    case = models.ForeignKey(
        Case, verbose_name="转成的申请", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    last_job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = "主动救助线索"
        verbose_name_plural = "主动救助线索"
        ordering = ["-year", "township", "-estimate", "id"]
        permissions = [("work_lead", "跟进主动救助线索（联系、转申请、关闭）")]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="one_lead_per_person_year"),
            models.CheckConstraint(
                name="lead_amounts_nonnegative", condition=Q(estimate__gte=0, self_pay_total__gte=0)
            ),
        ]

    def __str__(self):
        return self.number


class LeadSettlement(models.Model):
    """A settlement held by a lead. `active` while it waits; `handled` once the lead was converted or closed
    by the township, so that the same settlement never comes back as a lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="items")
    settlement_number = models.CharField("结算单号", max_length=50, db_index=True)
    service_date = models.DateField("服务日期")
    self_pay = models.DecimalField("政策范围内个人自付", **MONEY)
    estimate = models.DecimalField("预计救助金额", **MONEY)
    category = models.CharField("救助类别", max_length=4, choices=Category.choices, blank=True)
    active = models.BooleanField("在线索中", default=True)
    handled = models.BooleanField("已处理", default=False)
    added_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "线索结算"
        verbose_name_plural = "线索结算"
        ordering = ["service_date", "settlement_number"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "settlement_number"], name="lead_settlement_unique"),
        ]

    def __str__(self):
        return self.settlement_number


class LeadContact(models.Model):
    """One outreach attempt recorded by the township."""

    class Method(models.TextChoices):
        PHONE = "phone", "电话"
        VISIT = "visit", "入户走访"
        VILLAGE = "village", "村（社区）转告"
        OTHER = "other", "其他"

    Outcome = ContactOutcome

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contacts")
    contacted_on = models.DateField("联系日期")
    method = models.CharField("联系方式", max_length=10, choices=Method.choices)
    outcome = models.CharField("联系结果", max_length=12, choices=Outcome.choices)
    note = models.TextField("备注", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "线索联系记录"
        verbose_name_plural = "线索联系记录"
        ordering = ["-contacted_on", "-id"]

    def __str__(self):
        return f"{self.lead} {self.contacted_on} {self.get_outcome_display()}"


class YearlyBurden(models.Model):
    """A person's yearly burden after first-round assistance (DOMAIN §5, §8), as the secondary trigger last
    computed it: the early-warning list and the secondary list read it."""

    person = models.ForeignKey("recipients.Person", on_delete=models.CASCADE, related_name="+")
    township = models.ForeignKey("recipients.Township", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    burden = models.DecimalField("年度个人负担", **MONEY)
    items = models.PositiveIntegerField("计入的结算和就诊记录", default=0)
    pending = models.PositiveIntegerField("第一轮待定的结算", default=0)
    category = models.CharField("救助类别", max_length=4, choices=Category.choices, blank=True)
    threshold = models.DecimalField("起付线或启动标准", **MONEY, null=True, blank=True)
    due = models.DecimalField("应救助金额", **MONEY, default=0)
    granted = models.DecimalField("已救助金额", **MONEY, default=0)
    computed_at = models.DateTimeField("测算时间")

    class Meta:
        verbose_name = "年度个人负担"
        verbose_name_plural = "年度个人负担"
        ordering = ["-year", "-burden"]
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="yearly_burden_unique")]

    def __str__(self):
        return f"{self.person} {self.year} {self.burden}"
