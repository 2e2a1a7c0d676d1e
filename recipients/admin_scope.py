"""The Django admin of one county's administrator shows and changes that county's rows only; the prefecture's
administrator (市级管理) sees every county's."""

from .models import County, Township


class CountyScopedAdminMixin:
    """`county_path` names the path from the admin's model to its county ("county", "township__county"…)."""

    county_path = "county"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = request.user
        if user.prefecture_wide:
            return queryset
        if user.scope_county_id is None:
            return queryset.none()
        if self.county_path == "pk":
            return queryset.filter(pk=user.scope_county_id)
        return queryset.filter(**{f"{self.county_path}_id": user.scope_county_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        if not user.prefecture_wide:
            if db_field.related_model is County:
                kwargs["queryset"] = County.objects.filter(pk=user.scope_county_id)
            elif db_field.related_model is Township:
                kwargs["queryset"] = Township.objects.filter(county_id=user.scope_county_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, *args):
        # A county administrator adds only rows of their county; the county itself is the prefecture's to add.
        if self.county_path == "pk" and not request.user.prefecture_wide:
            return False
        return super().has_add_permission(request, *args)
