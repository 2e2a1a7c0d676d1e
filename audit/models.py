from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One recorded action: who did what to which object, with a before/after summary.

    Written by services inside the same transaction as the change it records, so a change
    and its audit row commit or roll back together. Never edited or deleted through the UI.
    """

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField("操作人名称", max_length=150, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    comment = models.TextField("说明", blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="县（区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="对象所属的县（区），对象没有时为操作人所属的县；县级角色只看本县的日志",
    )

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计日志"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"
