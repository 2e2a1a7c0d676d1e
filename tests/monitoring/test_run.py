"""The monitoring job: burdens after insurance and every assistance, thresholds, listed once, listed again."""

import datetime
from decimal import Decimal

from applications.models import RegionIncome
from audit.models import AuditEvent
from monitoring.models import Listing, MonitoringRun, Threshold, Watch
from monitoring.run import monitoring_now
from tests.factories import settle, valid_id_number

from .conftest import threshold

D = Decimal
JUNE = datetime.date(2026, 6, 1)


def run(month=JUNE, **kwargs):
    result = monitoring_now(month=month, reason="test", **kwargs)
    assert result.status == MonitoringRun.Status.DONE, result.message
    return result


def test_registry_and_general_people_crossing_their_thresholds_are_listed(registered, thresholds):
    # The stay: T 42,000 − B 20,000 − C 6,000 = 16,000 after insurance, above the registry's 10,000.
    settle(registered, day=datetime.date(2026, 3, 10))
    outsider_id = valid_id_number(datetime.date(1961, 2, 3))
    settle(outsider_id, day=datetime.date(2026, 2, 1))
    settle(outsider_id, day=datetime.date(2026, 5, 1))  # 32,000: above the general 26,000
    below_id = valid_id_number(datetime.date(1962, 2, 3))
    settle(below_id, day=datetime.date(2026, 2, 1))  # 16,000: not for a person in no registry

    done = run()

    assert (done.people, done.above, done.listed_new, done.listed_again) == (3, 2, 2, 0)
    mine = Listing.objects.get(watch__id_number=registered.id_number)
    assert (mine.population, mine.categories, mine.year_to_date, mine.threshold) == (
        "registry",
        "最低生活保障对象",
        D("16000.00"),
        D("10000.00"),
    )
    assert mine.watch.person == registered and mine.watch.township == registered.township
    theirs = Listing.objects.get(watch__id_number=outsider_id)
    assert (theirs.population, theirs.categories, theirs.rolling, theirs.threshold) == (
        "general",
        "",
        D("32000.00"),
        D("26000.00"),
    )
    assert theirs.watch.person is None and theirs.watch.township is None
    assert theirs.watch.county == registered.township.county  # the only county
    assert theirs.watch.first_warned == JUNE and theirs.reason == Listing.Reason.NEW
    assert not Watch.objects.filter(id_number=below_id).exists()
    assert AuditEvent.objects.filter(action="monitoring.run").count() == 1


def test_every_assistance_paid_is_subtracted(registered, thresholds):
    # One-stop assistance of 7,000 leaves 9,000: below 10,000.
    settle(registered, day=datetime.date(2026, 3, 10), onestop=D("7000"))
    assert run().above == 0
    settle(registered, day=datetime.date(2026, 4, 10), onestop=D("15000"))  # 1,000 more: 10,000
    assert Listing.objects.filter(month=JUNE).count() == 0
    run(datetime.date(2026, 7, 1))
    assert Listing.objects.get().year_to_date == D("10000.00")


def test_rolling_twelve_months_cross_the_year_end(township):
    threshold(township.county, year=2026, population="general", amount="26000", basis="rolling")
    threshold(township.county, year=2025, population="general", amount="26000", basis="rolling")
    someone = valid_id_number(datetime.date(1970, 4, 4))
    settle(someone, day=datetime.date(2024, 12, 20))  # outside every window below
    settle(someone, day=datetime.date(2025, 11, 20))
    assert run(datetime.date(2025, 12, 1)).above == 0  # rolling 16,000 (2024-12 is out of the window)
    settle(someone, day=datetime.date(2026, 2, 5))
    run(datetime.date(2026, 2, 1))
    line = Listing.objects.get()
    assert (line.rolling, line.year_to_date, line.basis) == (D("32000.00"), D("16000.00"), "rolling")


def test_calendar_year_basis_starts_again_in_january(township):
    threshold(township.county, year=2026, population="general", amount="26000", basis="calendar")
    someone = valid_id_number(datetime.date(1970, 4, 4))
    settle(someone, day=datetime.date(2025, 11, 20))
    settle(someone, day=datetime.date(2026, 2, 5))
    assert run(datetime.date(2026, 2, 1)).above == 0  # 16,000 this year, though 32,000 over 12 months


def test_listed_once_then_again_after_growth_or_in_a_new_year(registered, township):
    threshold(township.county, year=2026, population="registry", amount="10000", basis="rolling", step="5000")
    threshold(township.county, year=2027, population="registry", amount="10000", basis="rolling", step="5000")
    settle(registered, day=datetime.date(2026, 3, 10))
    assert run(datetime.date(2026, 3, 1)).listed_new == 1
    again = run(datetime.date(2026, 3, 1))  # the same month again: the same line, updated
    assert (again.listed_new, again.listed_again, Listing.objects.count()) == (0, 0, 1)
    assert run(datetime.date(2026, 4, 1)).above == 1
    assert Listing.objects.count() == 1  # still above, not grown: not listed again
    settle(
        registered, day=datetime.date(2026, 5, 2), total=D("30000"), in_policy=D("25000")
    )  # 4,000 more: below the step
    assert run(datetime.date(2026, 5, 1)).listed_again == 0
    settle(
        registered, day=datetime.date(2026, 6, 2), total=D("27000"), in_policy=D("25000")
    )  # 1,000 more: 5,000 since the listing
    assert run(datetime.date(2026, 6, 1)).listed_again == 1
    grown = Listing.objects.get(month=JUNE)
    assert grown.reason == Listing.Reason.GROWTH and grown.rolling == D("21000.00")
    assert grown.watch.first_warned == datetime.date(2026, 3, 1)
    done = run(datetime.date(2027, 1, 1))
    assert done.listed_again == 1
    assert Listing.objects.get(month=datetime.date(2027, 1, 1)).reason == Listing.Reason.NEW_YEAR


def test_an_earlier_month_than_one_listed_is_refused(registered, thresholds):
    settle(registered, day=datetime.date(2026, 3, 10))
    run()
    refused = monitoring_now(month=datetime.date(2026, 5, 1))
    assert refused.status == MonitoringRun.Status.FAILED and "更晚月份" in refused.message


def test_share_of_the_prior_year_income(registered, township):
    threshold(township.county, population="registry", kind=Threshold.Kind.INCOME_SHARE, amount=None, share=D("0.5"))
    settle(registered, day=datetime.date(2026, 3, 10), total=D("41000"))  # 15,000
    missing = run()
    assert missing.above == 0 and "缺少 2025 年人均可支配收入" in missing.message
    RegionIncome.objects.create(county=township.county, year=2025, amount=D("29999.99"))
    run(datetime.date(2026, 7, 1))
    line = Listing.objects.get()
    assert line.threshold == D("15000.00") and line.year_to_date == D("15000.00")


def test_a_county_without_thresholds_is_not_judged_and_says_so(registered):
    settle(registered, day=datetime.date(2026, 3, 10))
    done = run()
    assert done.above == 0 and "未设置 2026 年" in done.message


def test_a_settlement_import_runs_the_month_again(
    registered, thresholds, django_capture_on_commit_callbacks, eager_tasks
):
    from types import SimpleNamespace

    from settlements.models import SettlementImport
    from settlements.signals import settlements_applied

    settle(registered, day=datetime.date(2026, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        settlements_applied.send(
            sender=SettlementImport, record=SimpleNamespace(pk=7), changed=True, person_ids=[registered.pk]
        )
        settlements_applied.send(sender=SettlementImport, record=SimpleNamespace(pk=8), changed=True, person_ids=[])
    done = MonitoringRun.objects.get()  # two imports in one transaction: one run
    assert (done.status, done.month, done.listed_new) == ("done", JUNE, 1)


def test_the_monthly_schedule_is_declared():
    from config.schedules import MONTHLY_MONITORING, SCHEDULES

    monthly = next(s for s in SCHEDULES if s.name == MONTHLY_MONITORING)
    assert (monthly.task, monthly.day_of_month) == ("monitoring.monthly", "1")


def test_a_run_left_running_by_a_dead_worker_is_marked_failed(registered, thresholds):
    from django.utils import timezone

    lost = MonitoringRun.objects.create(
        month=JUNE, status=MonitoringRun.Status.RUNNING, started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    settle(registered, day=datetime.date(2026, 3, 10))
    assert run().listed_new == 1
    lost.refresh_from_db()
    assert lost.status == MonitoringRun.Status.FAILED and "中断" in lost.message
