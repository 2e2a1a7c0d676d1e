from django.contrib import admin

from imports.admin import ImportRecordAdmin

from .models import SettlementImport

# Settlement itself is not registered: its rows carry full ID numbers and diagnoses, which the portal
# shows masked (and never the diagnosis in lists); the admin would show them unmasked. Person is not
# in the admin for the same reason.


@admin.register(SettlementImport)
class SettlementImportAdmin(ImportRecordAdmin):
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
