from django.contrib import admin
from django.forms.models import model_to_dict

from audit.admin_mixins import AuditedAdminMixin
from audit.services import audit_record
from recipients.admin_scope import CountyScopedAdminMixin

from .models import FollowupPolicy, TicketTimeLimit
from .rules import DEFAULT_TIME_LIMITS


class TimeLimitInline(admin.TabularInline):
    model = TicketTimeLimit
    extra = 0
    verbose_name_plural = "各类工单的答复时限（工作日，按法定节假日计）；未填写的分类按系统默认"

    def get_extra(self, request, obj=None, **kwargs):
        # The add page passes the new, unsaved parameters.
        return len(DEFAULT_TIME_LIMITS) if obj is None or obj.pk is None else 0


@admin.register(FollowupPolicy)
class FollowupPolicyAdmin(CountyScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["county", "satisfaction_target", "awareness_target", "receipt_target", "on_time_target"]
    inlines = [TimeLimitInline]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not request.user.prefecture_wide and request.user.scope_county_id:
            initial.setdefault("county", request.user.scope_county_id)
        return initial

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if (
            obj is None or obj.pk is None
        ) and request.method == "GET":  # a new county's parameters start from the defaults
            kwargs["initial"] = [{"category": c, "working_days": d} for c, d in DEFAULT_TIME_LIMITS.items()]
        return kwargs

    def save_formset(self, request, form, formset, change):
        """The time limits are audited row by row, as the parameters themselves are (AuditedAdminMixin)."""
        before = {
            row.pk: model_to_dict(row)
            for row in TicketTimeLimit.objects.filter(pk__in=[f.instance.pk for f in formset.forms if f.instance.pk])
        }
        super().save_formset(request, form, formset, change)
        for row in formset.new_objects + [r for r, _ in formset.changed_objects]:
            audit_record(
                actor=request.user,
                action="admin.change" if row.pk in before else "admin.add",
                obj=row,
                object_repr=f"{form.instance.county} {row}",
                before=before.get(row.pk),
                after=model_to_dict(row),
                request=request,
            )
        for row in formset.deleted_objects:
            audit_record(actor=request.user, action="admin.delete", obj=row, before=before.get(row.pk), request=request)
