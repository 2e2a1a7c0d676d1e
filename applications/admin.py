from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import CalendarOverride, RegionIncome


@admin.register(RegionIncome)
class RegionIncomeAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """上年人均可支配收入, by region and year: the base of percentage deductibles."""

    list_display = ["county", "year", "amount"]
    list_filter = ["county"]
    ordering = ["county", "-year"]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Statutory holidays and adjusted working days for years the built-in calendar does not cover yet."""

    list_display = ["day", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "day"
