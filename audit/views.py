from django.contrib.auth.decorators import permission_required
from django.db.models import Q
from django.shortcuts import render

from lib.pages import paginate
from recipients.idnumber import mask_summary, mask_text

from .actions import ACTION_LABELS
from .filters import AuditEventFilter
from .models import AuditEvent


@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request):
    events = AuditEvent.objects.select_related("actor")
    if not request.user.prefecture_wide:
        # A county's roles read their county's log, and the system's own events that belong to no county.
        county = Q(county_id=request.user.scope_county_id) if request.user.scope_county_id else Q(pk__in=[])
        events = events.filter(county | Q(county__isnull=True, actor__isnull=True))
    event_filter = AuditEventFilter(request.GET or None, queryset=events)
    page, query = paginate(request, event_filter.qs, 50)
    for event in page:
        event.action_label = ACTION_LABELS.get(event.action, event.action)
        # Summaries and comments may quote ID numbers, accounts or phones: the log shows them masked to everyone.
        event.before, event.after = mask_summary(event.before), mask_summary(event.after)
        event.comment, event.object_repr = mask_text(event.comment), mask_text(event.object_repr)
    return render(request, "audit/event_list.html", {"filter": event_filter, "page": page, "query": query})
