"""The yearly burden the 二次救助 trigger last computed per person-year."""

from django.db import models
from django.db.models import F

from recipients.categories import Category

from .policy import MONEY


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
        # The 预警名单: a year's people by their distance below the threshold (lib.pages reads a page from it).
        indexes = [
            models.Index(F("year"), F("threshold") - F("burden"), F("id"), name="burden_warning_order"),
        ]

    def __str__(self):
        return f"{self.person} {self.year} {self.burden}"
