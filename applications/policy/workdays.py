"""Working days by the Chinese statutory calendar (法定节假日 and 调休 working weekends).

chinesecalendar covers the years the State Council has published (up to 2026 in the installed
release). For days it does not cover, and to correct it, the admin keeps CalendarOverride rows;
without either, a later year falls back to Monday–Friday and is reported as not covered.
"""

import datetime

import chinese_calendar

from ..models import CalendarOverride


def _override_map(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    return dict(CalendarOverride.objects.filter(day__range=(start, end)).values_list("day", "is_workday"))


def is_workday(day: datetime.date, overrides: dict[datetime.date, bool] | None = None) -> bool:
    if overrides is not None and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def covered(year: int) -> bool:
    """True when the statutory calendar of the year is known (published, or entered by the admin)."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
        return True
    except NotImplementedError:
        return CalendarOverride.objects.filter(day__year=year).exists()


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (the day of acceptance itself does not count)."""
    overrides = _override_map(start, start + datetime.timedelta(days=days * 3 + 60))
    current, counted = start, 0
    while counted < days:
        current += datetime.timedelta(days=1)
        if is_workday(current, overrides):
            counted += 1
    return current


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (0 when end ≤ start)."""
    if end <= start:
        return 0
    overrides = _override_map(start, end)
    count, current = 0, start
    while current < end:
        current += datetime.timedelta(days=1)
        if is_workday(current, overrides):
            count += 1
    return count


class WorkdayCalendar:
    """The working days of a span of dates, its overrides read once: for counting the working days of many pairs
    of dates (a page's reminders, the dashboard's processing times) with one query instead of one per pair."""

    def __init__(self, first: datetime.date, last: datetime.date):
        self.first, self.last = first, max(first, last)
        overrides = _override_map(self.first, self.last)
        # _counted[i]: the working days after `first` up to and including first + i.
        self._counted, current, count = [0], self.first, 0
        while current < self.last:
            current += datetime.timedelta(days=1)
            count += is_workday(current, overrides)
            self._counted.append(count)

    def between(self, start: datetime.date, end: datetime.date) -> int:
        """As working_days_between, for dates within the span."""
        if end <= start:
            return 0
        if start < self.first or end > self.last:
            return working_days_between(start, end)
        return self._counted[(end - self.first).days] - self._counted[(start - self.first).days]
