from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse

from audit.admin_mixins import AuditedAdminMixin, ReadOnlyAdminMixin

from .models import ColumnProfile
from .profile_forms import fieldsets, profile_form
from .registry import all_formats, format_for_model, get_format


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


def _profiled_formats():
    return [fmt for fmt in all_formats() if fmt.file_columns is not None]


class KindFilter(admin.SimpleListFilter):
    title = "导入类型"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(fmt.kind, fmt.file_columns.label) for fmt in _profiled_formats()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ColumnProfile)
class ColumnProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Column profiles: the administrator maps a department's headers once, for one format; adding one starts by
    choosing the format (its columns make the form)."""

    list_display = ["name", "kind_label", "active", "builtin", "updated_at"]
    list_filter = [KindFilter, "active"]
    search_fields = ["name", "note"]
    readonly_fields = ["kind_label"]

    @admin.display(description="导入类型")
    def kind_label(self, obj):
        if obj is None or not obj.pk:
            return ""
        return obj.kind_label

    def _format(self, request, obj):
        kind = obj.kind if obj is not None and obj.pk else request.GET.get("kind", "")
        try:
            fmt = get_format(kind)
        except LookupError:
            return None
        return fmt if fmt.file_columns is not None else None

    def add_view(self, request, form_url="", extra_context=None):
        fmt = self._format(request, None)
        if fmt is None:
            url = reverse("admin:imports_columnprofile_add")
            choices = [
                {"label": f.file_columns.label, "url": f"{url}?kind={f.kind}", "columns": f.file_columns.required}
                for f in _profiled_formats()
            ]
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "增加列对应方案：选择文件类型",
                "choices": choices,
            }
            return TemplateResponse(request, "admin/imports/columnprofile/choose_kind.html", context)
        extra_context = {**(extra_context or {}), "title": f"增加列对应方案（{fmt.file_columns.label}）"}
        return super().add_view(request, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        fmt = self._format(request, obj)
        kwargs["form"] = profile_form(fmt)
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fields = fieldsets(self._format(request, obj))
        if obj is None or not obj.pk:
            fields[0][1]["fields"] = [f for f in fields[0][1]["fields"] if f != "kind_label"]
        return fields

    def has_delete_permission(self, request, obj=None):
        # A built-in profile (the platform's list) is stopped by unticking 启用, never deleted.
        if obj is not None and obj.builtin:
            return False
        return super().has_delete_permission(request, obj)
