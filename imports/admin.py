from django.contrib import admin

from audit.admin_mixins import ReadOnlyAdminMixin

from .registry import format_for_model


class ImportRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Import history, read-only (imports are made from the portal or the command line): the format's counts
    beside the common columns."""

    exclude = ["content", "errors"]
    list_filter = ["status"]

    def get_list_display(self, request):
        counts = [column.field for column in format_for_model(self.model).columns]
        return ["created_at", "file_name", "created_by", "status", "total_rows", *counts, "duration_seconds"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).defer("content", "errors")
