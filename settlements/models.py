"""Medical-insurance settlements (医保结算数据, DATA-FORMATS §2) as imported from the monthly extracts."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from imports.models import ImportRecord
from recipients.models import Person

from .visits import VisitType

MONEY = {"max_digits": 14, "decimal_places": 2}


class SettlementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Settlements of people the user may see: a clerk those of their township's residents; a county's roles
        those of the county's residents, and those of people in no county's registry (yet) that the county
        imported itself; the prefecture roles every settlement. A file that mixes counties is thus split by the
        people it names: another county's resident's settlement is that county's, whoever imported it."""
        if not user.is_authenticated or not (user.is_superuser or user.has_perm("settlements.view_settlement")):
            return self.none()
        if user.township_scoped:
            numbers = Person.objects.filter(township_id=user.township_id).values("id_number")
            return self.filter(id_number__in=numbers)
        if user.prefecture_wide:
            return self
        if user.scope_county_id is None:
            return self.none()
        residents = Person.objects.filter(township__county_id=user.scope_county_id).values("id_number")
        imported = SettlementImport.objects.filter(county_id=user.scope_county_id).values("pk")
        # The county's imports first: most of its settlements are its own imports, and PostgreSQL then never
        # reads the county's residents (100,000 ID numbers hashed for every page of a list). Another county's
        # resident is excluded from them (none on a one-county instance: the hashed list is empty).
        elsewhere = Person.objects.exclude(township__county_id=user.scope_county_id).values("id_number")
        return self.filter((Q(last_import__in=imported) & ~Q(id_number__in=elsewhere)) | Q(id_number__in=residents))


class Settlement(models.Model):
    """One settlement of the medical-insurance platform, keyed by its 结算单号.

    Kept by ID number, not by person: a settlement of someone not (yet) in the registry is kept and
    joins the cross-check once an identity covering its date is imported.
    """

    number = models.CharField("结算单号", max_length=50, primary_key=True)
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=50)
    hospital = models.CharField("医疗机构", max_length=100)
    visit_type = models.CharField("就诊类型", max_length=10, choices=VisitType.choices)
    admitted_on = models.DateField("入院日期", null=True, blank=True)
    discharged_on = models.DateField("出院日期", null=True, blank=True)
    visit_on = models.DateField("就诊日期", null=True, blank=True)
    # 出院日期 for a stay, 就诊日期 for a visit: the date identities and policies are judged on.
    service_date = models.DateField("服务日期")
    settled_on = models.DateField("结算日期")
    total = models.DecimalField("医疗总费用", **MONEY)
    in_policy = models.DecimalField("政策范围内费用", **MONEY)
    basic = models.DecimalField("基本医保统筹支付", **MONEY)
    critical = models.DecimalField("大病保险支付", **MONEY, default=0)
    other = models.DecimalField("其他保险支付", **MONEY, default=0)
    onestop = models.DecimalField("医疗救助支付（一站式）", **MONEY, default=0)
    out_of_area = models.BooleanField("异地就医", null=True, blank=True)
    diagnosis = models.CharField("主要诊断", max_length=200, blank=True)
    major_disease = models.BooleanField("重特大疾病", default=False)
    # Kept from the national platform's own list (DATA-FORMATS §8) when a file is read through its profile;
    # empty for files in the §2 template, which has no such columns.
    mdtrt_id = models.CharField("就诊ID", max_length=50, null=True, blank=True)
    psn_no = models.CharField("人员编号", max_length=50, null=True, blank=True)
    fulamt_ownpay_amt = models.DecimalField("全自费金额", **MONEY, null=True, blank=True)
    psn_part_amt = models.DecimalField("个人负担总金额", **MONEY, null=True, blank=True)
    # The import that last wrote the row. No index: never filtered on; one index less per import.
    last_import = models.ForeignKey(
        "SettlementImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    objects = SettlementQuerySet.as_manager()

    class Meta:
        verbose_name = "医保结算记录"
        verbose_name_plural = "医保结算记录"
        ordering = ["-service_date", "number"]
        indexes = [
            models.Index(fields=["id_number", "service_date"], name="settlement_person_date"),
            # A hospital's settlements in the browser, newest first.
            models.Index(fields=["hospital", "-service_date", "number"], name="settlement_hospital_date"),
        ]
        constraints = [
            models.CheckConstraint(
                name="settlement_amounts_consistent",
                condition=Q(in_policy__lte=models.F("total"))
                & Q(total__gte=0, in_policy__gte=0, basic__gte=0, critical__gte=0, other__gte=0, onestop__gte=0),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def self_pay(self):
        """E = max(0, P − B − C − O), the base of first-round assistance (DOMAIN §4)."""
        return max(self.in_policy - self.basic - self.critical - self.other, 0)


class MedicalCategory(models.Model):
    """How the platform's 医疗类别 (med_type) becomes a 就诊类型, edited by the administrator (DATA-FORMATS §8).

    A code stands for itself and for every longer code beginning with it that has no row of its own: 1 → 门诊
    covers 15, 16 …, while 14 → 门诊慢特病 takes 14 and 1401. A cell may also hold the name."""

    code = models.CharField(
        "医疗类别代码",
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]+$", "代码只能由数字或字母组成")],
        help_text="如 11；只填开头几位（如 2）表示以它开头、本表没有单独列出的其他代码",
    )
    name = models.CharField("名称", max_length=50, blank=True, help_text="如 普通门诊；文件中写名称时也能识别")
    visit_type = models.CharField("就诊类型", max_length=10, choices=VisitType.choices)

    class Meta:
        verbose_name = "医疗类别对照"
        verbose_name_plural = "医疗类别对照"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name} → {self.visit_type}".replace("  ", " ")


class SettlementImport(ImportRecord):
    """One settlement extract (DATA-FORMATS §2): its check report and, once confirmed, what it changed."""

    rows_added = models.PositiveIntegerField("新增", default=0)
    rows_updated = models.PositiveIntegerField("更新", default=0)
    rows_unchanged = models.PositiveIntegerField("无变化", default=0)
    rows_unregistered = models.PositiveIntegerField("名册外人员的结算", default=0)
    updated_numbers = models.JSONField("更新的结算单号（前 200 个）", default=list, blank=True)

    class Meta(ImportRecord.Meta):
        verbose_name = "结算数据导入"
        verbose_name_plural = "结算数据导入记录"
        permissions = [("import_settlements", "导入医保结算数据")]
