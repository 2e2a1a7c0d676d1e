from django.forms.models import model_to_dict

from .services import audit_record


def _summary(obj) -> dict:
    data = model_to_dict(obj)
    data.pop("password", None)
    return {k: (v if isinstance(v, int | str | bool | type(None)) else str(v)) for k, v in data.items()}


class AuditedAdminMixin:
    """Record every add, change and delete made through the Django admin in the audit log."""

    def save_model(self, request, obj, form, change):
        before = _summary(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="admin.change" if change else "admin.add",
            obj=obj,
            before=before,
            after=_summary(obj),
            request=request,
        )

    def delete_model(self, request, obj):
        before = _summary(obj)
        audit_record(actor=request.user, action="admin.delete", obj=obj, before=before, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action="admin.delete", obj=obj, before=_summary(obj), request=request)
        super().delete_queryset(request, queryset)


class ReadOnlyAdminMixin:
    """Records written only by services: the admin shows them, never adds, edits or deletes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
