from django.contrib import admin

from audit.admin_mixins import ReadOnlyAdminMixin


class ImportRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Import history, read-only (imports are made from the portal or the command line). A format's admin
    names its columns and filters."""

    exclude = ["content", "errors"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).defer("content", "errors")
