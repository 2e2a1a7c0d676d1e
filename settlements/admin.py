from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin
from imports.admin import ImportRecordAdmin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import MedicalCategory, SettlementImport

# Settlement itself is not registered: its rows carry full ID numbers and diagnoses, which the portal
# shows masked (and never the diagnosis in lists); the admin would show them unmasked. Person is not
# in the admin for the same reason.


@admin.register(SettlementImport)
class SettlementImportAdmin(CountyScopedAdminMixin, ImportRecordAdmin):
    """A county administrator sees their county's imports; the prefecture's (county empty) only 市级管理."""


@admin.register(MedicalCategory)
class MedicalCategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The 医疗类别 table of the platform's settlement list (DATA-FORMATS §8): med_type → 就诊类型. A file is
    checked against the table as it is when the file is checked; the import keeps that copy."""

    list_display = ["code", "name", "visit_type"]
    list_editable = ["visit_type"]
    list_display_links = ["code"]
    search_fields = ["code", "name"]
