from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from lib.pages import paginate
from recipients.idnumber import mask_summary, mask_text

from .actions import ACTION_LABELS
from .filters import AuditEventFilter
from .models import AuditEvent


@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request):
    event_filter = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())
    page, query = paginate(request, event_filter.qs, 50)
    for event in page:
        event.action_label = ACTION_LABELS.get(event.action, event.action)
        # Summaries and comments may quote ID numbers, accounts or phones: the log shows them masked to everyone.
        event.before, event.after = mask_summary(event.before), mask_summary(event.after)
        event.comment, event.object_repr = mask_text(event.comment), mask_text(event.object_repr)
    return render(request, "audit/event_list.html", {"filter": event_filter, "page": page, "query": query})
