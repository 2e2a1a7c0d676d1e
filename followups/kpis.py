"""The 回访 and complaint KPIs (DOMAIN §12.3) of a period, for one township, one county or every county, overall
and by township, with the county's targets (followups.rules):

- 满意度 = (满意 + 基本满意) ÷ calls whose satisfaction was answered (贵池: 39 ÷ 40 = 97.5%)
- 政策知晓率 = 知晓 ÷ calls whose awareness was answered (贵池: 38 ÷ 40 = 95%)
- 到账确认率 = 已到账 ÷ calls that reached the person
- 联系不上: calls made that reached nobody
- 工单按时答复率 = tickets answered within their time limit ÷ tickets answered or overdue (a ticket still within
  its time limit and unanswered is not counted yet)

Calls count in the period of their call, tickets in the period they were opened. Nothing here writes."""

import calendar
import datetime
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from recipients.models import County

from . import rules
from .models import REACHED, SATISFIED, FollowupCall, Receipt, Ticket

CALL_FIGURES = {
    "calls": Count("pk"),
    "reached": Count("pk", filter=Q(receipt__in=REACHED)),
    "unreachable": Count("pk", filter=Q(receipt=Receipt.UNREACHABLE)),
    "received": Count("pk", filter=Q(receipt=Receipt.RECEIVED)),
    "missing": Count("pk", filter=Q(receipt=Receipt.MISSING)),
    "mismatch": Count("pk", filter=Q(receipt=Receipt.MISMATCH)),
    "answered": Count("pk", filter=~Q(satisfaction="")),
    "satisfied": Count("pk", filter=Q(satisfaction__in=SATISFIED)),
    "aware_answered": Count("pk", filter=Q(aware__isnull=False)),
    "aware": Count("pk", filter=Q(aware=True)),
}


def ticket_figures(today: datetime.date) -> dict:
    replied = Q(replied_on__isnull=False)
    return {
        "tickets": Count("pk"),
        "tickets_replied": Count("pk", filter=replied),
        "tickets_on_time": Count("pk", filter=replied & Q(replied_on__lte=F("due_on"))),
        "tickets_overdue": Count("pk", filter=Q(status=Ticket.Status.OPEN, due_on__lt=today)),
    }


def ratio(part: int, whole: int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def period_bounds(year: int, month_from: int = 1, month_to: int = 12) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, month_from, 1), datetime.date(year, month_to, calendar.monthrange(year, month_to)[1])


def _in_scope(queryset, *, township=None, county=None):
    if township is not None:
        return queryset.filter(township=township)
    if county is not None:
        return queryset.filter(township__county=county)
    return queryset


def kpi_rows(figures: dict, targets: rules.Targets) -> list[dict]:
    """The KPIs of one set of figures: value, workings, target, met."""
    due = figures["tickets_replied"] + figures["tickets_overdue"]
    rows = [
        ("满意度（满意 + 基本满意）", figures["satisfied"], figures["answered"], targets.satisfaction),
        ("政策知晓率", figures["aware"], figures["aware_answered"], targets.awareness),
        ("到账确认率", figures["received"], figures["reached"], targets.receipt),
        ("工单按时答复率", figures["tickets_on_time"], due, targets.on_time),
    ]
    kpis = []
    for name, part, whole, target in rows:
        value = ratio(part, whole)
        kpis.append(
            {
                "name": name,
                "value": value,
                "detail": f"{part:,} ÷ {whole:,}",
                "target": target,
                "met": None if value is None or target is None else value >= target,
            }
        )
    return kpis


def _targets(counties: list[int]) -> rules.Targets:
    """One county's targets; for several, each target they all share (none where they differ)."""
    if len(counties) == 1:
        return rules.targets(county_id=counties[0])
    found = [rules.targets(county_id=c) for c in counties]
    if not found:
        return rules.Targets()

    def shared(name):
        values = {getattr(t, name) for t in found}
        return values.pop() if len(values) == 1 else None

    return rules.Targets(**{name: shared(name) for name in ("satisfaction", "awareness", "receipt", "on_time")})


def followup_kpis(
    *, start: datetime.date, end: datetime.date, township=None, county=None, today: datetime.date | None = None
) -> dict:
    """The period's figures and KPIs overall and by township."""
    today = today or timezone.localdate()
    calls = _in_scope(
        FollowupCall.objects.done().filter(called_at__date__gte=start, called_at__date__lte=end),
        township=township,
        county=county,
    )
    tickets = _in_scope(
        Ticket.objects.filter(opened_on__gte=start, opened_on__lte=end), township=township, county=county
    )
    t_figures = ticket_figures(today)
    figures = {**calls.aggregate(**CALL_FIGURES), **tickets.aggregate(**t_figures)}
    if township is not None:
        counties = [township.county_id]
    elif county is not None:
        counties = [county.pk]
    else:
        counties = sorted(
            set(calls.values_list("township__county_id", flat=True).distinct())
            | set(tickets.values_list("county_id", flat=True).distinct())
        ) or list(County.objects.values_list("pk", flat=True))
    targets = _targets(counties)
    by_township: dict[int, dict] = {}
    for row in calls.values("township_id", "township__name", "township__county__name").annotate(**CALL_FIGURES):
        by_township[row["township_id"]] = {**{k: 0 for k in t_figures}, **row}
    for row in tickets.values("township_id", "township__name", "township__county__name").annotate(**t_figures):
        entry = by_township.setdefault(row["township_id"], {**{k: 0 for k in CALL_FIGURES}})
        entry.update(row)
    townships = []
    for row in sorted(by_township.values(), key=lambda r: (r["township__county__name"], r["township__name"])):
        row["kpis"] = kpi_rows(row, targets)
        townships.append(row)
    return {
        "start": start,
        "end": end,
        "figures": figures,
        "kpis": kpi_rows(figures, targets),
        "targets": targets,
        "by_township": townships,
        "several_counties": len(counties) > 1,
    }
