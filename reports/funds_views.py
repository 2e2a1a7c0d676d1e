"""资金监控: the county's fund this year before payouts (reports.funds), the batches still drafts with what locking
each would leave, and the administrator's 资金不足放行."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from payouts.models import PayoutBatch
from payouts.offsets import OffsetRefused, batch_override_funds
from recipients.models import County

from .funds import WARN_FROM, fund_position


def _county(user):
    if user.township_scoped:
        raise PermissionDenied("资金按县（区）管理")
    if user.prefecture_wide:
        return None
    return County.objects.filter(pk=user.scope_county_id).first()


def _drafts(user, county):
    drafts = PayoutBatch.objects.filter(status=PayoutBatch.Status.DRAFT).select_related("county", "funds_override_by")
    if county is not None:
        drafts = drafts.filter(county=county)
    elif not user.prefecture_wide:
        drafts = drafts.none()
    return drafts.order_by("created_at")


@permission_required("reports.view_dashboard", raise_exception=True)
def funds_view(request):
    county = _county(request.user)
    year = timezone.localdate().year
    counties = [county] if county is not None else list(County.objects.order_by("code"))
    rows = []
    for c in counties:
        position = fund_position(year, c)
        share = position.used_share()
        rows.append(
            {"county": c, "position": position, "share": share, "warn": share is not None and share >= WARN_FROM}
        )
    drafts = []
    for batch in _drafts(request.user, county):
        position = next(r["position"] for r in rows if r["county"].pk == batch.county_id) if batch.county_id else None
        after = position.available - batch.total if position is not None else None
        drafts.append({"batch": batch, "after": after, "overridden": batch.funds_override_total == batch.total})
    return render(request, "reports/funds.html", {"rows": rows, "drafts": drafts, "year": year})


@require_POST
@permission_required("payouts.override_funds", raise_exception=True)
def funds_override(request, pk):
    county = _county(request.user)
    batch = get_object_or_404(_drafts(request.user, county), pk=pk)
    try:
        batch_override_funds(batch=batch, user=request.user, reason=request.POST.get("reason", ""))
    except OffsetRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已放行批次 {batch.number}：财务人员现在可以锁定该批次")
    return redirect("reports:funds")
