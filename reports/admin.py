from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import FundEntry, FundOutlay


@admin.register(FundEntry)
class FundEntryAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "county", "source", "amount", "received_on", "note"]
    list_filter = ["year", "county", "source"]


@admin.register(FundOutlay)
class FundOutlayAdmin(CountyScopedAdminMixin, admin.ModelAdmin):
    """Read-only: rows are written by the payments recorded on insurer statements (audited there)."""

    list_display = ["year", "county", "kind", "amount", "fee", "paid_on", "reference", "note", "created_by"]
    list_filter = ["year", "county", "kind"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
