"""The monitoring job (DOMAIN §12.4): for a month, everyone's burden (monitoring.burden, one set-based pass over
all settlements), judged against their county's threshold for registry people or for everyone else; everyone at
or above it is listed once, with the month first warned, and listed again only when the figure has grown by the
threshold's step since their last listing, or in a new year.

Runs are recorded (MonitoringRun), one at a time (an advisory lock), and a run of a month is idempotent: run
again, it updates that month's lines instead of adding any. A month earlier than one already listed is refused
(the "listed again" rule reads the listings in month order).
"""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from applications.secondary.burden import as_money
from audit.services import audit_record
from lib import months
from lib.locks import xact_lock
from lib.tasks import enqueue_on_commit
from recipients.categories import Category, by_precedence
from recipients.models import County, Identity

from .burden import TABLE, Window, burden_table, burden_table_drop
from .models import Listing, MonitoringRun, Population, Threshold, Watch
from .selectors import limits_for

logger = logging.getLogger(__name__)

TASK = "monitoring.run"
STALE_AFTER = datetime.timedelta(minutes=30)  # far beyond a prefecture's run
BATCH = 5000
R = MonitoringRun.Status
ROLLING = Threshold.Basis.ROLLING

_ABOVE_SQL = f"""
SELECT b.id_number, b.name, b.rolling, b.ytd, b.person_id, b.township_id, b.county_id, b.registry,
       l.threshold, l.basis, l.step
FROM {TABLE} b
JOIN monitor_limits l ON l.county_id = b.county_id AND l.registry = b.registry
WHERE CASE WHEN l.basis = '{ROLLING}' THEN b.rolling ELSE b.ytd END >= l.threshold
  {{county}}
ORDER BY b.id_number
"""


class MonitoringRefused(ValueError):
    """The run cannot be carried out; the message is shown."""


def month_of(text: str | None, *, begun: bool = False) -> datetime.date:
    """'2026-11' → 2026-11-01; empty → the current month. Raises MonitoringRefused on a bad value, and with
    `begun` on a month still to come (nothing to monitor yet)."""
    if not text:
        return timezone.localdate().replace(day=1)
    try:
        first = months.parse_month(text)
        return months.not_after(first, timezone.localdate()) if begun else first
    except months.MonthError as exc:
        raise MonitoringRefused(str(exc)) from None


def monitoring_request(
    *, month: datetime.date, user=None, county_id: int | None = None, reason: str = "", enqueue: bool = True
) -> MonitoringRun:
    """Queue a run of the month (joining one already waiting for it), its task sent once the transaction
    commits."""
    with transaction.atomic():
        # A run whose worker died wrote nothing (one transaction); it is marked so, and the month can run again.
        MonitoringRun.objects.filter(status=R.RUNNING, started_at__lt=timezone.now() - STALE_AFTER).update(
            status=R.FAILED, finished_at=timezone.now(), message="任务中断：运行它的进程已停止，未写入任何结果"
        )
        waiting = MonitoringRun.objects.filter(month=month, county_id=county_id, status=R.QUEUED).first()
        if waiting is not None:
            return waiting
        run = MonitoringRun.objects.create(month=month, county_id=county_id, reason=reason[:200], requested_by=user)
        audit_record(actor=user, action="monitoring.request", obj=run, after={"month": f"{month:%Y-%m}"})
        if enqueue:
            enqueue_on_commit(TASK, run.pk, once_key=f"monitoring.{month}.{county_id}")
    return run


def monitoring_now(*, month: datetime.date, user=None, county_id: int | None = None, reason: str = "") -> MonitoringRun:
    """Request a run and carry it out in this process (operator command, tests)."""
    run = monitoring_request(month=month, user=user, county_id=county_id, reason=reason, enqueue=False)
    return monitoring_run(run_id=run.pk)


def monitoring_run(*, run_id: int) -> MonitoringRun:
    """Carry out a queued run: lists the month's people in one transaction. A run not waiting (done by an
    earlier delivery of its task) is left as it is."""
    if not MonitoringRun.objects.filter(pk=run_id, status=R.QUEUED).update(status=R.RUNNING, started_at=timezone.now()):
        return MonitoringRun.objects.get(pk=run_id)
    run = MonitoringRun.objects.get(pk=run_id)
    try:
        with transaction.atomic():
            xact_lock("monitoring.run")
            figures = _list_month(run)
            MonitoringRun.objects.filter(pk=run.pk).update(status=R.DONE, finished_at=timezone.now(), **figures)
            run.refresh_from_db()
            audit_record(actor=None, action="monitoring.run", obj=run, after={"month": f"{run.month:%Y-%m}", **figures})
    except MonitoringRefused as refused:
        MonitoringRun.objects.filter(pk=run.pk).update(
            status=R.FAILED, finished_at=timezone.now(), message=str(refused)
        )
    except Exception:
        logger.exception("monitoring run %s failed", run_id)
        MonitoringRun.objects.filter(pk=run.pk).update(
            status=R.FAILED, finished_at=timezone.now(), message="监测任务出错，已回滚；可重新运行"
        )
    run.refresh_from_db()
    return run


def _list_month(run: MonitoringRun) -> dict:
    window = Window.of(run.month)
    later = Listing.objects.filter(month__gt=window.month)
    if run.county_id is not None:
        later = later.filter(watch__county_id=run.county_id)
    if later.exists():
        raise MonitoringRefused(
            f"已有更晚月份（{later.order_by('-month').first().month:%Y-%m}）的监测名单，不能补跑更早的月份"
        )
    limits, problems = limits_for(year=window.month.year, county_id=run.county_id)
    counties = list(County.objects.values_list("pk", flat=True)[:2])
    only_county = counties[0] if len(counties) == 1 else None
    figures = {"people": 0, "above": 0, "listed_new": 0, "listed_again": 0}
    with connection.cursor() as cursor:
        people = burden_table(cursor, window, only_county=only_county)
        if run.county_id is not None:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE county_id = %s", [run.county_id])
            people = int(cursor.fetchone()[0])
        figures["people"] = people
        cursor.execute("DROP TABLE IF EXISTS monitor_limits")
        cursor.execute(
            "CREATE TEMP TABLE monitor_limits (county_id bigint, registry integer, threshold numeric(14, 2), "
            "basis varchar(10), step numeric(14, 2))"
        )
        for limit in limits:
            cursor.execute(
                "INSERT INTO monitor_limits VALUES (%s, %s, %s, %s, %s)",
                [limit.county_id, int(limit.population == Population.REGISTRY), limit.amount, limit.basis, limit.step],
            )
        county = "" if run.county_id is None else f"AND b.county_id = {int(run.county_id)}"
        rows_cursor = connection.chunked_cursor() if connection.vendor == "postgresql" else cursor
        rows_cursor.execute(_ABOVE_SQL.format(county=county))
        while True:
            batch = rows_cursor.fetchmany(BATCH)
            if not batch:
                break
            _list_batch(run, window, batch, figures)
        if rows_cursor is not cursor:
            rows_cursor.close()
        burden_table_drop(cursor)
        cursor.execute("DROP TABLE monitor_limits")
    if problems:
        MonitoringRun.objects.filter(pk=run.pk).update(message="；".join(problems)[:2000])
    return figures


def _categories(person_ids: list[int], day: datetime.date) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    for pid, category in (
        Identity.objects.filter(person_id__in=person_ids).valid_on(day).values_list("person_id", "category")
    ):
        found.setdefault(pid, []).append(category)
    return {pid: "、".join(Category(c).label for c in by_precedence(cats))[:60] for pid, cats in found.items()}


def _list_batch(run: MonitoringRun, window: Window, batch: list, figures: dict) -> None:
    """Apply the listing rules to one batch of people at or above their threshold."""
    month = window.month
    numbers = [row[0] for row in batch]
    watches = {w.id_number: w for w in Watch.objects.filter(id_number__in=numbers)}
    this_month = {line.watch_id: line for line in Listing.objects.filter(watch__id_number__in=numbers, month=month)}
    categories = _categories([row[4] for row in batch if row[4] and row[7]], window.end)
    new_watches, new_lines, changed_watches, changed_lines = [], [], [], []
    for number, name, rolling, ytd, person_id, township_id, county_id, registry, threshold, basis, step in batch:
        rolling, ytd, threshold = as_money(rolling), as_money(ytd), as_money(threshold)
        step = as_money(step)
        figure = rolling if basis == ROLLING else ytd
        figures["above"] += 1
        line = {
            "month": month,
            "population": Population.REGISTRY if registry else Population.GENERAL,
            "categories": categories.get(person_id, "") if registry else "",
            "rolling": rolling,
            "year_to_date": ytd,
            "threshold": threshold,
            "basis": basis,
        }
        watch = watches.get(number)
        if watch is None:
            watch = Watch(
                id_number=number,
                name=(name or "")[:50],
                person_id=person_id,
                county_id=county_id,
                township_id=township_id,
                first_warned=month,
                last_listed=month,
                last_figure=figure,
            )
            new_watches.append(watch)
            new_lines.append((watch, Listing(reason=Listing.Reason.NEW, run=run, **line)))
            figures["listed_new"] += 1
            continue
        dirty = False
        if person_id and watch.person_id != person_id:
            watch.person_id, watch.township_id, watch.county_id = person_id, township_id, county_id
            dirty = True
        if watch.last_listed == month and watch.pk in this_month:
            # The month run again: its line follows the figures; nothing is written when nothing changed.
            existing = this_month[watch.pk]
            if any(getattr(existing, key) != value for key, value in line.items()):
                for key, value in line.items():
                    setattr(existing, key, value)
                changed_lines.append(existing)
            if watch.last_figure != figure:
                watch.last_figure, dirty = figure, True
        elif watch.last_listed.year < month.year or figure - watch.last_figure >= step:
            reason = Listing.Reason.NEW_YEAR if watch.last_listed.year < month.year else Listing.Reason.GROWTH
            new_lines.append((watch, Listing(reason=reason, run=run, **line)))
            watch.last_listed, watch.last_figure, dirty = month, figure, True
            figures["listed_again"] += 1
        if dirty:
            changed_watches.append(watch)
    Watch.objects.bulk_create(new_watches, batch_size=1000)
    for watch, listing in new_lines:
        listing.watch = watch
    Listing.objects.bulk_create([listing for _, listing in new_lines], batch_size=1000)
    Watch.objects.bulk_update(
        changed_watches, ["person", "township", "county", "last_listed", "last_figure"], batch_size=1000
    )
    Listing.objects.bulk_update(
        changed_lines,
        ["population", "categories", "rolling", "year_to_date", "threshold", "basis"],
        batch_size=1000,
    )
