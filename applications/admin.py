from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin

from .models import RegionIncome


@admin.register(RegionIncome)
class RegionIncomeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """上年人均可支配收入, by region and year: the base of percentage deductibles."""

    list_display = ["county", "year", "amount"]
    list_filter = ["county"]
    ordering = ["county", "-year"]
