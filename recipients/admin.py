from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from imports.admin import ImportRecordAdmin

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
class RosterImportAdmin(ImportRecordAdmin):
    list_filter = ["status", "source"]
