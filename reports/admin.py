from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import FundEntry


@admin.register(FundEntry)
class FundEntryAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "county", "source", "amount", "received_on", "note"]
    list_filter = ["year", "county", "source"]
