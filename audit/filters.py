import django_filters

from lib.widgets import DateInput

from .actions import action_choices
from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label="操作", choices=action_choices, empty_label="全部操作")
    actor_name = django_filters.CharFilter(label="操作人", lookup_expr="exact")
    object_type = django_filters.CharFilter(label="对象类型", lookup_expr="exact")
    object_id = django_filters.CharFilter(label="对象编号", lookup_expr="exact")
    date_from = django_filters.DateFilter(
        label="起始日期",
        field_name="created_at",
        lookup_expr="date__gte",
        widget=DateInput(),
    )
    date_to = django_filters.DateFilter(
        label="截止日期",
        field_name="created_at",
        lookup_expr="date__lte",
        widget=DateInput(),
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "actor_name", "object_type", "object_id", "date_from", "date_to"]
