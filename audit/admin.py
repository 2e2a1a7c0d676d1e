import json

from django.contrib import admin

from recipients.idnumber import mask_summary, mask_text

from .admin_mixins import ReadOnlyAdminMixin
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: audit rows are written by services, never edited. Summaries are shown masked, as on the
    portal's audit log page."""

    list_display = ["created_at", "actor_name", "action", "object_type", "object_id", "masked_repr", "ip_address"]
    list_filter = ["action", "object_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "object_id", "object_repr"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "actor",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "masked_repr",
        "masked_before",
        "masked_after",
        "masked_comment",
        "ip_address",
    ]
    readonly_fields = fields

    @admin.display(description="对象")
    def masked_repr(self, event):
        return mask_text(event.object_repr)

    @admin.display(description="变更前")
    def masked_before(self, event):
        return json.dumps(mask_summary(event.before), ensure_ascii=False) if event.before is not None else "—"

    @admin.display(description="变更后")
    def masked_after(self, event):
        return json.dumps(mask_summary(event.after), ensure_ascii=False) if event.after is not None else "—"

    @admin.display(description="说明")
    def masked_comment(self, event):
        return mask_text(event.comment)
