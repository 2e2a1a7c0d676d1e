from django.contrib import admin

from imports.admin import ImportRecordAdmin

from .models import SettlementImport

# Settlement itself is not registered: its rows carry full ID numbers and diagnoses, which the portal
# shows masked (and never the diagnosis in lists); the admin would show them unmasked. Person is not
# in the admin for the same reason.

admin.site.register(SettlementImport, ImportRecordAdmin)
