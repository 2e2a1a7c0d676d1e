from django.contrib import admin

from audit.admin_mixins import ReadOnlyAdminMixin

from .models import SettlementImport

# Settlement itself is not registered: its rows carry full ID numbers and diagnoses, which the portal
# shows masked (and never the diagnosis in lists); the admin would show them unmasked. Person is not
# in the admin for the same reason.


@admin.register(SettlementImport)
class SettlementImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Import history, read-only (imports are made from the portal or the command line)."""

    list_display = [
        "created_at",
        "file_name",
        "created_by",
        "status",
        "total_rows",
        "rows_added",
        "rows_updated",
        "rows_unchanged",
        "rows_unregistered",
        "duration_seconds",
    ]
    list_filter = ["status"]
    exclude = ["content", "errors"]
    readonly_fields = [f.name for f in SettlementImport._meta.fields if f.name not in ("content", "errors")]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).defer("content", "errors")
