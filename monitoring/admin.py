from django import forms
from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import Threshold


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = Threshold
        fields = ["county", "year", "population", "kind", "amount", "share", "basis", "relist_step", "notes"]

    def clean(self):
        data = super().clean()
        if data.get("kind") == Threshold.Kind.AMOUNT and data.get("amount") is None:
            self.add_error("amount", "固定金额方式须填写金额")
        if data.get("kind") == Threshold.Kind.INCOME_SHARE and data.get("share") is None:
            self.add_error("share", "比例方式须填写比例")
        return data


@admin.register(Threshold)
class ThresholdAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """预警阈值 per region, year and population: an amount or a share of the prior-year per-capita disposable
    income (人均可支配收入 of the year before), on the calendar year or the rolling 12 months."""

    form = ThresholdForm
    list_display = ["county", "year", "population", "kind", "amount", "share", "basis", "relist_step"]
    list_filter = ["county", "year", "population"]
    ordering = ["county", "-year", "population"]
