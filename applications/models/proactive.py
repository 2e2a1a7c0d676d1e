"""主动救助 leads (DOMAIN §7): the person-years the cross-check found, their settlements and the outreach log."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from recipients.categories import Category
from recipients.models import scoped_to_user

from .cases import Case, NumberOrPersonSearch
from .jobs import Job
from .policy import MONEY


class ContactOutcome(models.TextChoices):
    CONTACTED = "contacted", "已联系"
    AGREED = "agreed", "同意申请"
    REFUSED = "refused", "拒绝"
    UNREACHABLE = "unreachable", "联系不上"
    DECEASED = "deceased", "已故"
    MOVED = "moved", "迁出"


class LeadQuerySet(NumberOrPersonSearch):
    def visible_to(self, user):
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
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
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
        # The lead list's order (largest estimate first), after a status, a township and status, or nothing.
        indexes = [
            models.Index(fields=["status", "-estimate", "id"], name="lead_list_status"),
            models.Index(fields=["township", "status", "-estimate", "id"], name="lead_list_township"),
            models.Index(fields=["-estimate", "id"], name="lead_list_order"),
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
