from django.contrib import admin

from .admin_mixins import ReadOnlyAdminMixin
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: audit rows are written by services, never edited."""

    list_display = ["created_at", "actor_name", "action", "object_type", "object_id", "object_repr", "ip_address"]
    list_filter = ["action", "object_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "object_id", "object_repr", "comment"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
