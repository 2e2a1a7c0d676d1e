import datetime

from applications.models import CalendarOverride
from applications.policy.workdays import add_working_days, covered, is_workday, working_days_between

D = datetime.date


def test_spring_festival_2025_is_off_and_its_adjusted_weekends_are_worked(db):
    # 2025: holiday 1月28日–2月4日; Sunday 1月26日 and Saturday 2月8日 are working days.
    assert is_workday(D(2025, 1, 26)) and is_workday(D(2025, 2, 8))
    assert not is_workday(D(2025, 1, 28)) and not is_workday(D(2025, 2, 4))
    # accepted Friday 1月24日: 26 (Sun, worked), 27, then 2月5, 6, 7, 8 (Sat, worked) → the 6th working day is 2月8日
    assert add_working_days(D(2025, 1, 24), 6) == D(2025, 2, 8)
    assert working_days_between(D(2025, 1, 24), D(2025, 2, 8)) == 6


def test_thirty_working_days_from_20_september_2024_end_on_6_november(db):
    # 2024-10-01..07 holiday; 9月29日 (Sun) and 10月12日 (Sat) worked.
    # 9/23–27 (5), 9/29 (6), 9/30 (7), 10/8–11 (11), 10/12 (12), 10/14–18 (17), 10/21–25 (22),
    # 10/28–31 (26), 11/1 (27), 11/4 (28), 11/5 (29), 11/6 (30)
    due = add_working_days(D(2024, 9, 20), 30)
    assert due == D(2024, 11, 6)
    assert working_days_between(D(2024, 9, 20), due) == 30


def test_no_working_days_when_end_is_not_after_start(db):
    assert working_days_between(D(2025, 3, 3), D(2025, 3, 3)) == 0
    assert working_days_between(D(2025, 3, 3), D(2025, 3, 1)) == 0


def test_years_beyond_the_calendar_use_the_admin_overrides(db):
    assert not covered(2027)
    assert is_workday(D(2027, 2, 8))  # a Monday, by the weekday fallback
    CalendarOverride.objects.create(day=D(2027, 2, 8), is_workday=False, note="春节")
    CalendarOverride.objects.create(day=D(2027, 2, 6), is_workday=True, note="调休上班")
    assert covered(2027)
    # Friday 2月5日 + 1 working day: Saturday 2月6日 is worked
    assert add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 6)
    # Saturday 2月6日 + 1: Sunday off, Monday 2月8日 is a holiday, so Tuesday 2月9日
    assert add_working_days(D(2027, 2, 6), 1) == D(2027, 2, 9)
