import datetime

from django.db import models
from django.db.models import Q

from imports.models import ImportQuerySet, ImportRecord

from .categories import Category, Source


class County(models.Model):
    name = models.CharField("名称", max_length=50, unique=True)
    code = models.CharField("行政区划代码", max_length=6, unique=True)

    class Meta:
        verbose_name = "县（市、区）"
        verbose_name_plural = "县（市、区）"
        ordering = ["code"]

    def __str__(self):
        return self.name


class TownshipQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A clerk's own township, a county role's townships, every township for the prefecture roles."""
        if not user.is_authenticated:
            return self.none()
        if user.township_scoped:
            return self.filter(pk=user.township_id)
        if user.prefecture_wide:
            return self
        return self.filter(county_id=user.scope_county_id) if user.scope_county_id else self.none()


class Township(models.Model):
    county = models.ForeignKey(County, verbose_name="所属县", on_delete=models.PROTECT, related_name="townships")
    name = models.CharField("名称", max_length=50)
    code = models.CharField("代码", max_length=12, blank=True)

    objects = TownshipQuerySet.as_manager()

    class Meta:
        verbose_name = "乡镇（街道）"
        verbose_name_plural = "乡镇（街道）"
        ordering = ["county", "code", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="township_unique_name")]

    def __str__(self):
        return self.name


class Village(models.Model):
    township = models.ForeignKey(Township, verbose_name="所属乡镇", on_delete=models.PROTECT, related_name="villages")
    name = models.CharField("名称", max_length=50)
    code = models.CharField("代码", max_length=12, blank=True, help_text="12 位统计用区划代码（load_regions 载入）")

    class Meta:
        verbose_name = "村（社区）"
        verbose_name_plural = "村（社区）"
        ordering = ["township", "name"]
        constraints = [models.UniqueConstraint(fields=["township", "name"], name="village_unique_name")]

    def __str__(self):
        return self.name


def scoped_to_user(
    queryset, user, permission: str, *, township: str | None = "township", county: str = "township__county"
):
    """Rows the user may see: none without the permission; a clerk's township only; a county role's county only
    (none while the user has no county); every county for the prefecture roles.

    `township` and `county` name the paths from the rows to their township and county; rows without a township
    (township=None: a batch, a policy) are shown to a clerk by the county of their township."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if not user.has_perm(permission):
        return queryset.none()
    if user.township_scoped and township is not None:
        return queryset.filter(**{f"{township}_id": user.township_id})
    if user.prefecture_wide:
        return queryset
    if user.scope_county_id is None:
        return queryset.none()
    return queryset.filter(**{f"{county}_id": user.scope_county_id})


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "recipients.view_person")


class Person(models.Model):
    """A resident, keyed by the 18-character resident ID (GB 11643)."""

    class Sex(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    id_number = models.CharField("身份证号", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)  # searched with contains: a btree index would not help
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    township = models.ForeignKey(
        Township,
        verbose_name="乡镇（街道）",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads the (township, name, ID) index of the list
    )
    village = models.ForeignKey(
        Village,
        verbose_name="村（社区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never filtered on alone; one index less to maintain on every roster import
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "救助对象"
        verbose_name_plural = "救助对象"
        ordering = ["township", "name", "id_number"]
        permissions = [("view_full_pii", "查看完整的身份证号、银行账号和联系电话")]
        indexes = [models.Index(fields=["township", "name", "id_number"], name="person_list_order")]

    def __str__(self):
        return self.name

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class IdentityQuerySet(models.QuerySet):
    def valid_on(self, day: datetime.date):
        """Identities whose window (认定日期 .. 退出日期, inclusive) contains the day."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)


class Identity(models.Model):
    """One assistance identity (救助身份) of a person with its validity window."""

    person = models.ForeignKey(Person, verbose_name="救助对象", on_delete=models.PROTECT, related_name="identities")
    category = models.CharField("救助类别", max_length=4, choices=Category.choices)
    source = models.CharField("数据来源", max_length=8, choices=Source.choices)
    valid_from = models.DateField("认定日期")
    valid_to = models.DateField("退出日期", null=True, blank=True, help_text="含当日；空表示仍有效")
    created_by_import = models.ForeignKey(
        "RosterImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    updated_by_import = models.ForeignKey(
        "RosterImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = IdentityQuerySet.as_manager()

    class Meta:
        verbose_name = "救助身份"
        verbose_name_plural = "救助身份"
        ordering = ["person", "valid_from", "category"]
        constraints = [
            models.UniqueConstraint(fields=["person", "category", "valid_from"], name="identity_key"),
            models.CheckConstraint(
                name="identity_window_ordered",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]
        indexes = [
            models.Index(fields=["source", "valid_to"]),
            # Windows that end, by their end: the home page's 「30 天内身份到期」 (most windows are open: small).
            models.Index(fields=["valid_to"], condition=Q(valid_to__isnull=False), name="identity_ending"),
        ]

    def __str__(self):
        return f"{self.person} {self.get_category_display()} {self.valid_from}～{self.valid_to or ''}"

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


class RosterImportQuerySet(ImportQuerySet):
    def visible_to(self, user):
        return scoped_to_user(self, user, "recipients.view_rosterimport", county="county")


class RosterImport(ImportRecord):
    """One roster file (DATA-FORMATS §1): its check report, and once confirmed, what it changed."""

    source = models.CharField("默认数据来源", max_length=8, choices=Source.choices)
    snapshot_date = models.DateField("快照日期", null=True, blank=True)
    township = models.ForeignKey(
        Township,
        verbose_name="限定乡镇",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="乡镇窗口上传的名册只能包含本乡镇人员",
    )
    rows_added = models.PositiveIntegerField("新增", default=0)
    rows_changed = models.PositiveIntegerField("变更", default=0)
    rows_ended = models.PositiveIntegerField("终止", default=0)
    rows_unchanged = models.PositiveIntegerField("无变化", default=0)
    persons_added = models.PositiveIntegerField("新增人员", default=0)

    objects = RosterImportQuerySet.as_manager()

    class Meta(ImportRecord.Meta):
        verbose_name = "名册导入"
        verbose_name_plural = "名册导入记录"
        permissions = [("import_roster", "导入救助对象名册")]
