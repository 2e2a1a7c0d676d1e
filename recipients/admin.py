from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from imports.admin import ImportRecordAdmin

from .admin_scope import CountyScopedAdminMixin
from .models import County, RosterImport, Township, Village


class VillageInline(admin.TabularInline):
    model = Village
    extra = 1


@admin.register(County)
class CountyAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    county_path = "pk"
    list_display = ["name", "code"]


@admin.register(Township)
class TownshipAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "county"]
    list_filter = ["county"]
    search_fields = ["name", "code"]
    inlines = [VillageInline]


@admin.register(Village)
class VillageAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    county_path = "township__county"
    list_display = ["name", "code", "township"]
    list_filter = ["township"]
    search_fields = ["name", "code", "township__name"]


@admin.register(RosterImport)
class RosterImportAdmin(CountyScopedAdminMixin, ImportRecordAdmin):
    list_filter = ["status", "source"]
