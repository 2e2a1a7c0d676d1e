"""Runs of the background jobs, with their progress and results."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from .policy import MONEY


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A county's jobs, and the runs over every county (whose leads and cases each county then sees of its
        own), to the county's roles; every job to the prefecture roles."""
        if not user.is_authenticated:
            return self.none()
        if user.prefecture_wide:
            return self
        if user.scope_county_id is None:
            return self.none()
        return self.filter(Q(county_id=user.scope_county_id) | Q(county__isnull=True))


class Job(models.Model):
    """A run of a background job (the 主动救助 cross-check, the 二次救助 trigger) with its progress and results.

    A job covers one county (or all of them). At most one job of a kind and county waits and one runs (database
    constraints; a job of all counties also waits for the county jobs of its kind); a request while one waits
    joins it instead of queueing another. Its work is split into chunks of people (JobChunk), run by as many
    workers as there are.
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
    # No foreign-key constraint in the database: its check would share-lock the county's row, which approvals
    # lock for update (through the person's ordering); Django still protects the county from deletion.
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="县（区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        help_text="空表示全部县（区）",
    )
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
    options = models.JSONField("运行参数", default=dict, blank=True, help_text="开始时为各分块确定的参数")
    chunks_total = models.PositiveIntegerField("分块数", default=0, help_text="0 表示尚未划分")
    chunks_done = models.PositiveIntegerField("已完成分块", default=0)
    chunks_failed = models.PositiveIntegerField("失败分块", default=0)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-requested_at", "-id"]
        permissions = [("run_job", "手动运行比对和测算任务")]
        constraints = [
            models.UniqueConstraint(
                F("kind"), Coalesce("county", Value(0)), condition=Q(status="queued"), name="one_queued_job_per_county"
            ),
            models.UniqueConstraint(
                F("kind"),
                Coalesce("county", Value(0)),
                condition=Q(status="running"),
                name="one_running_job_per_county",
            ),
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
        if self.chunks_total:
            return min(100, int((self.chunks_done + self.chunks_failed) * 100 / self.chunks_total))
        if not self.people:
            return 0
        return min(100, int(self.processed * 100 / self.people))


class JobChunk(models.Model):
    """One piece of a job: the people of one county (or of all) whose ids lie in (after_id, upto_id] — either
    bound open when empty — or, for a job limited to listed people, a slice of that list. A person-year depends on
    no other person, so each chunk finds, estimates and writes its people alone, in its own transaction, and is
    retried alone when it fails."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    job = models.ForeignKey(Job, verbose_name="任务", on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField("序号")
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="县（区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # as Job.county
    )
    after_id = models.BigIntegerField("人员编号大于", null=True, blank=True)
    upto_id = models.BigIntegerField("人员编号不超过", null=True, blank=True)
    person_ids = models.JSONField("限定人员", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField("运行次数", default=0)
    sent_at = models.DateTimeField("投递时间", null=True, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    candidates = models.PositiveIntegerField("符合条件的结算", default=0)
    people = models.PositiveIntegerField("涉及人员", default=0)
    processed = models.PositiveIntegerField("已测算人员", default=0)
    created = models.PositiveIntegerField("新建", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    closed = models.PositiveIntegerField("关闭", default=0)
    reopened = models.PositiveIntegerField("重新打开", default=0)
    total_amount = models.DecimalField("金额合计", **MONEY, default=0)
    details = models.JSONField("明细", default=dict, blank=True, help_text="审计用的编号、已写入的年度等")
    message = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "任务分块"
        verbose_name_plural = "任务分块"
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="job_chunk_number")]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_chunk_status")]

    def __str__(self):
        return f"{self.job} 分块 {self.number}"
