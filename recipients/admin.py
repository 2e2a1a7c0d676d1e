from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin, ReadOnlyAdminMixin

from .models import County, RosterImport, Township, Village


class VillageInline(admin.TabularInline):
    model = Village
    extra = 1


@admin.register(County)
class CountyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(Township)
class TownshipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "county"]
    list_filter = ["county"]
    search_fields = ["name", "code"]
    inlines = [VillageInline]


@admin.register(Village)
class VillageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "township"]
    list_filter = ["township"]
    search_fields = ["name", "township__name"]


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Import history, read-only (imports are made from the portal or the command line)."""

    list_display = [
        "created_at",
        "file_name",
        "created_by",
        "status",
        "total_rows",
        "rows_added",
        "rows_changed",
        "rows_ended",
        "rows_unchanged",
    ]
    list_filter = ["status", "source"]
    exclude = ["content", "errors"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).defer("content", "errors")

    readonly_fields = [f.name for f in RosterImport._meta.fields if f.name not in ("content", "errors")]
