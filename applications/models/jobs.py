"""Runs of the background jobs, with their progress and results."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .policy import MONEY


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
        CANCELLED = "cancelled", "已取消"

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
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True, help_text="运行中每隔几秒更新")
    attempts = models.PositiveSmallIntegerField("运行次数", default=0, help_text="进程中断后重新投递会再次运行")
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
