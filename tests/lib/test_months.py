"""One reading of a month and of a command's --year for every command and page."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from lib.months import MonthError, month_end, not_after, parse_month


@pytest.mark.parametrize("text", ["2026-11", "2026/11", "2026.11", "202611", "2026年11月", " 2026 - 11 "])
def test_the_forms_people_type(text):
    assert parse_month(text) == datetime.date(2026, 11, 1)


@pytest.mark.parametrize("text", ["0001-01", "9999-12", "1800-01", "2026-13", "2026-0", "abc", "", "２０２６-11x"])
def test_what_is_not_a_month_the_system_keeps(text):
    with pytest.raises(MonthError):
        parse_month(text)


def test_ends_and_months_still_to_come():
    assert month_end(datetime.date(2028, 2, 1)) == datetime.date(2028, 2, 29)
    assert not_after(datetime.date(2026, 12, 1), datetime.date(2026, 12, 1)) == datetime.date(2026, 12, 1)
    with pytest.raises(MonthError, match="还没有到"):
        not_after(datetime.date(2027, 1, 1), datetime.date(2026, 12, 31))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample_audit", "--month", "0001-01"], "月份不存在"),
        (["sample_audit", "--month", "9999-12"], "月份不存在"),
        (["sample_audit", "--month", "2099-01"], "还没有到"),
        (["sample_audit", "--seed", str(2**63)], "随机种子应为"),
        (["monitor", "--month", "9999-12"], "月份不存在"),
        (["monitor", "--month", "2099-06"], "还没有到"),
        (["export_monitoring", "/tmp/never.xlsx", "--month", "1800-01"], "月份不存在"),
    ],
)
def test_commands_refuse_months_out_of_range_or_to_come(args, message):
    from monitoring.models import MonitoringRun, Push
    from supervision.models import AuditSample

    with pytest.raises(CommandError, match=message):
        call_command(*args)
    assert not AuditSample.objects.exists() and not MonitoringRun.objects.exists() and not Push.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("year", ["0", "1800", "-3", "abc", "99999"])
@pytest.mark.parametrize("command", ["export_leads", "export_secondary"])
def test_a_year_out_of_range_is_refused(command, year, tmp_path):
    with pytest.raises(CommandError, match="年度应为 2000–2100 之间的四位年份"):
        call_command(command, str(tmp_path / "x.xlsx"), f"--year={year}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "ok"), [("2026-11", True), ("0001-01", False), ("9999-12", False), ("2099-01", False)]
)
def test_the_sample_form_takes_a_month_the_system_keeps_and_has_begun(text, ok):
    from supervision.forms import DrawForm

    form = DrawForm({"month": text})
    assert form.is_valid() is ok, form.errors
    assert form.fields["month"].widget.input_type == "month"
