"""What every imported file keeps, whatever its format: the file, where it is in the flow, its report.

A format's own model (recipients.RosterImport, settlements.SettlementImport) inherits `ImportRecord` and adds
its options (a source, a snapshot date) and its counts (rows added, changed ...).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import registry
from .mapping import Entry, shown_rows


class ImportStatus(models.TextChoices):
    """Where an imported file is: checked, previewed, confirmed, written."""

    PENDING = "pending", "等待校验"
    VALIDATING = "validating", "校验中"
    INVALID = "invalid", "校验未通过"
    VALID = "valid", "校验通过，待确认"
    APPLYING = "applying", "导入中"
    DONE = "done", "已导入"
    FAILED = "failed", "导入失败"
    CANCELLED = "cancelled", "已取消"


class ImportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The records of the user's county for those who hold the format's view permission (every county's for
        the prefecture roles), none for the others.

        A format whose files belong to a township narrows this in its own queryset.
        """
        if not user.is_authenticated:
            return self.none()
        if not (user.is_superuser or user.has_perm(registry.format_for_model(self.model).view_permission)):
            return self.none()
        if user.prefecture_wide:
            return self
        return self.filter(county_id=user.scope_county_id) if user.scope_county_id else self.none()


class ImportRecord(models.Model):
    """One uploaded file: its check report, and once confirmed, what writing it changed.

    A web upload keeps the file in the row so that any worker can process it; an operator command may
    read it from disk and keep only its hash.
    """

    Status = ImportStatus

    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    file_name = models.CharField("文件名", max_length=255)
    file_hash = models.CharField("文件 SHA-256", max_length=64, db_index=True)
    file_size = models.PositiveBigIntegerField("文件大小")
    content = models.BinaryField("文件内容", blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    error_count = models.PositiveIntegerField("错误数", default=0)
    error_kinds = models.JSONField(
        "错误分类统计", default=list, blank=True, help_text="错误超过明细上限时：每种列和原因各有多少处"
    )
    message = models.TextField("说明", blank=True)
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="所属县（区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="县级上传的文件只能包含本县的数据；市级上传的文件按所填乡镇（名册）或人员分到各县（此时为空）",
    )
    sample = models.JSONField(
        "前几行（读取结果）", default=dict, blank=True, help_text="确认前核对：文件的前几行按系统读取的结果"
    )
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    duration_seconds = models.FloatField("耗时（秒）", null=True, blank=True)
    queued_at = models.DateTimeField(
        "排队时间", null=True, blank=True, help_text="当前这一步（校验或写入）交给后台的时间"
    )
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True, help_text="校验或写入进行中每隔几秒更新")
    attempts = models.PositiveSmallIntegerField("运行次数", default=0, help_text="进程中断后任务重新投递会再次运行")
    # The column profile the file was read through, as it was then (imports.profiles): a later edit of the profile
    # does not change what the history says, and the write reads the file as the preview did.
    profile_name = models.CharField("列对应方案", max_length=100, blank=True)
    profile_mapping = models.JSONField("列对应（读取时）", default=dict, blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        when = f"（{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}）" if self.created_at else ""
        return f"{self.file_name}{when}"

    def get_absolute_url(self) -> str:
        return reverse(f"{self.import_format.namespace}:import_detail", args=[self.pk])

    @property
    def import_format(self) -> registry.ImportFormat:
        return registry.format_for_model(type(self))

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.VALIDATING, self.Status.APPLYING}

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def profile_rows(self) -> list[dict]:
        """The kept column profile as the pages show it (file header → the format's column)."""
        if not self.profile_mapping:
            return []
        return shown_rows(self.import_format.file_columns, self.profile_mapping)

    @property
    def profile_is_template(self) -> bool:
        return bool(self.profile_mapping.get("template")) if self.profile_mapping else True

    @property
    def count_values(self) -> list:
        """The format's counts in the order of its columns (the history table's cells)."""
        return [getattr(self, column.field) for column in self.import_format.columns]


class ColumnProfile(models.Model):
    """How the files of one department map to a format's columns: 民政's 身份证号码 is our 身份证号, the platform's
    居民大病保险资金支出 + 职工大额医疗费用补助基金支出 is our 大病保险支付. A file is read through the profile whose
    headers it holds (imports.profiles.choose); the format's own template needs none."""

    kind = models.CharField("导入类型", max_length=30, help_text="名册或结算数据")
    name = models.CharField("方案名称", max_length=100, help_text="如：民政低保系统导出名册")
    note = models.TextField("说明", blank=True, help_text="文件从哪里导出、由谁提供等，便于以后核对")
    mapping = models.JSONField("列对应", default=list, help_text="本系统的列 ← 文件的表头")
    active = models.BooleanField("启用", default=True, help_text="停用后，导入文件时不再按本方案识别")
    builtin = models.BooleanField("系统内置", default=False, editable=False)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "列对应方案"
        verbose_name_plural = "列对应方案"
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="column_profile_unique_name")]

    def __str__(self):
        return self.name

    @property
    def kind_label(self) -> str:
        try:
            spec = registry.get_format(self.kind).file_columns
        except LookupError:
            return self.kind
        return spec.label if spec else self.kind

    def entries(self) -> tuple[Entry, ...]:
        return tuple(Entry.from_json(e) for e in self.mapping or [])
