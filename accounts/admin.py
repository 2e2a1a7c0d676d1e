from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from audit.admin_mixins import AuditedAdminMixin
from recipients.admin_scope import CountyScopedAdminMixin

from .models import User
from .roles import PREFECTURE_ROLES, Role


class UserCreateForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "role", "county", "township")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(CountyScopedAdminMixin, AuditedAdminMixin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = ["username", "full_name", "role", "county", "township", "is_active", "last_login"]
    list_filter = ["role", "county", "township", "is_active"]
    search_fields = ["username", "full_name"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("人员与角色", {"fields": ("full_name", "role", "county", "township", "email")}),
        ("状态", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "role", "county", "township", "password1", "password2"),
            },
        ),
    )

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        # A county administrator gives county and township roles only, never a prefecture one.
        if db_field.name == "role" and not request.user.prefecture_wide:
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v not in PREFECTURE_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.prefecture_wide and obj.township_id is None:
            obj.county_id = request.user.scope_county_id  # a county administrator's users are of their county
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The role decides the groups; the admin form must not leave stray ones.
        form.instance.sync_role_group()
