from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin

from .models import FundEntry


@admin.register(FundEntry)
class FundEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "source", "amount", "received_on", "note"]
    list_filter = ["year", "source"]
