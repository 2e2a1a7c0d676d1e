"""零星报销 cases (and the lead and secondary cases that share their workflow), their bills, transitions and
scans."""

import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q

from lib.scans import ScannedFile, scan_path
from recipients.models import Person, scoped_to_user
from settlements.visits import VisitType, service_date

from .policy import MONEY


class CaseStatus(models.TextChoices):
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


S = CaseStatus
# Being worked on: received, at review or approval, or back at the window. At most one secondary case of a
# person-year is open (a database constraint).
OPEN_STATUSES = [S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.REVIEW, S.APPROVAL, S.RETURNED]
# The money was granted.
GRANTED_STATUSES = [S.APPROVED, S.PAID]
# The first round is decided (granted or refused).
DECIDED_STATUSES = [S.APPROVED, S.PAID, S.REJECTED]
# Never going anywhere: its bills claim nothing.
DEAD_STATUSES = [S.REJECTED, S.WITHDRAWN]
# Everything else holds its bills and settlements (a draft included).
LIVE_STATUSES = [s for s in S.values if s not in DEAD_STATUSES]
# Nothing more to do on time (no time limit applies).
CLOSED_STATUSES = [S.APPROVED, S.REJECTED, S.WITHDRAWN, S.PAID, S.DRAFT]


class NumberOrPersonSearch(models.QuerySet):
    """Lists searched by their own number, the person's full ID number or part of the person's name."""

    def search(self, text: str):
        """Text of letters and digits is a number (this list's, or the person's ID number), matched exactly
        through their indexes; any other text is part of a name. (One OR over the number, the ID and the name
        would read every row of the list joined to its person.)"""
        text = (text or "").strip()
        if not text:
            return self
        if text.isascii() and text.isalnum():
            upper = text.upper()
            people = list(Person.objects.filter(id_number=upper).values_list("pk", flat=True))
            return self.filter(Q(number=upper) | Q(person_id__in=people))
        return self.filter(person__in=Person.objects.filter(name__contains=text).values("pk"))


class CaseQuerySet(NumberOrPersonSearch):
    def visible_to(self, user):
        return scoped_to_user(self, user, "applications.view_case")

    def overdue(self, day):
        return self.filter(due_on__lt=day).exclude(status__in=CLOSED_STATUSES)

    def due_soon(self, day, until):
        return self.filter(due_on__gte=day, due_on__lte=until).exclude(status__in=CLOSED_STATUSES)

    def materials_overdue(self, day):
        """容缺受理 cases whose materials were not all supplied by their deadline."""
        return self.filter(materials_deadline__lt=day).exclude(missing_materials=[]).exclude(status__in=CLOSED_STATUSES)


class Case(models.Model):
    """A 零星报销 case (申请) and, later, proactive-lead and secondary-assistance cases."""

    Status = CaseStatus

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
    # Indexed with the list's order (Meta.indexes), which also serves a status or a due date alone.
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    due_on = models.DateField("办结期限", null=True, blank=True)
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
    # Approval levels (DOMAIN §12.2): a case at or above the policy's threshold is approved twice, by two people.
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="一级审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    first_approved_at = models.DateTimeField("一级审批时间", null=True, blank=True)
    identity_pending = models.BooleanField(
        "身份待核实", default=False, help_text="申请人在窗口新登记，救助身份尚待县局核实"
    )
    materials_supplied = models.JSONField(
        "已收材料", default=list, blank=True, help_text="窗口在材料清单上勾选的已收材料（含上传了扫描件的）"
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
    # Recoveries (追回, supervision): what is registered as owed back, and what has come back (returned to the
    # fund or offset against a later payout). Neither can pass what was paid: database constraints.
    recoveries_total = models.DecimalField("已登记追回金额", **MONEY, default=0)
    recovered_amount = models.DecimalField("已追回金额", **MONEY, default=0)
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
                condition=Q(source="secondary") & Q(status__in=OPEN_STATUSES),
                name="one_open_secondary_case_per_person_year",
            ),
            models.CheckConstraint(
                name="case_recoveries_within_paid",
                condition=Q(recoveries_total=0)
                | (Q(approved_amount__isnull=False) & Q(recoveries_total__lte=models.F("approved_amount"))),
                violation_error_message="追回金额合计不能超过已发放金额",
            ),
            models.CheckConstraint(
                name="case_recovered_within_registered",
                condition=Q(recovered_amount__gte=0) & Q(recovered_amount__lte=models.F("recoveries_total")),
            ),
            models.CheckConstraint(
                name="case_amounts_nonnegative",
                condition=(Q(proposed_amount__isnull=True) | Q(proposed_amount__gte=0))
                & (Q(approved_amount__isnull=True) | Q(approved_amount__gte=0)),
            ),
        ]
        # The case list's order (due date, newest first, id), alone and after each filter it is used with most
        # (a clerk's township, a status): a page is read from the index instead of sorting every case; and the
        # secondary list's (year, township, number) among secondary cases only.
        indexes = [
            models.Index(fields=["due_on", "-created_at", "-id"], name="case_list_order"),
            models.Index(fields=["township", "due_on", "-created_at", "-id"], name="case_list_township"),
            models.Index(fields=["status", "due_on", "-created_at", "-id"], name="case_list_status"),
            # Cases with a time limit running, by it: overdue and due-soon filters, reminders, the home queues.
            models.Index(
                fields=["due_on", "-created_at", "-id"], condition=~Q(status__in=CLOSED_STATUSES), name="case_list_open"
            ),
            models.Index(
                fields=["year", "township", "number"], condition=Q(source="secondary"), name="secondary_list_order"
            ),
        ]

    def __str__(self):
        return self.number


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
    # What recoveries brought back of `granted` (the yearly burden counts granted − recovered), and whether a
    # recovery found the bill not to count at all (身份不符, 重复享受, 欺诈骗保: see supervision).
    recovered = models.DecimalField("已追回的第一轮救助", **MONEY, default=0)
    disallowed = models.BooleanField("追回后不计入年度负担", default=False)

    class Meta:
        verbose_name = "就诊记录"
        verbose_name_plural = "就诊记录"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_key"], condition=Q(claimed=True), name="one_approved_claim_per_invoice"
            ),
            models.CheckConstraint(
                name="bill_recovered_within_granted",
                condition=Q(recovered=0) | (Q(granted__isnull=False) & Q(recovered__lte=models.F("granted"))),
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
        return service_date(self.visit_type, self.discharged_on, self.visit_on)

    @staticmethod
    def make_invoice_key(hospital: str, invoice_number: str) -> str:
        return f"{normalized_key(hospital)}|{normalized_key(invoice_number)}"[:160]


def normalized_key(text: str) -> str:
    """Spacing, width and case differences removed: how a hospital name or invoice number is recognised
    however it was typed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def attachment_path(instance, filename):
    return scan_path(f"cases/{instance.case_id}", instance)


class Attachment(ScannedFile):
    """A scanned material of a case (lib.scans); served only through a view that checks the case is visible."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    material = models.CharField("材料", max_length=100, blank=True)
    file = models.FileField("文件", upload_to=attachment_path)

    class Meta:
        verbose_name = "申请材料扫描件"
        verbose_name_plural = "申请材料扫描件"
        ordering = ["uploaded_at", "id"]
