"""抽查: a monthly random sample of approved 零星 cases, reproducible from its recorded seed and population, at
least two per township, checked by reviewers who had no part in the cases; 有误 leads to a correction or a
recovery."""

import datetime
import math
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from applications.models import Case
from audit.models import AuditEvent
from config.schedules import MONTHLY_SAMPLE, SCHEDULES
from supervision.models import AuditSample, Reason, SampleItem
from supervision.recoveries import RecoveryRefused
from supervision.sampling import assign, draw, previous_month, sample_check, sample_draw, sample_redraw
from tests.conftest import client_for
from tests.factories import ApprovedCaseFactory, PersonFactory, TownshipFactory, UserFactory

D = Decimal
NOVEMBER = datetime.date(2026, 11, 1)


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=6),
    seed=st.integers(min_value=0, max_value=2**31),
    share=st.decimals(min_value=D("0"), max_value=D("1"), places=2),
)
def test_the_draw_is_reproducible_takes_the_share_and_at_least_two_per_township(sizes, seed, share):
    population, start = {}, 1
    for township, n in enumerate(sizes, start=1):
        population[township] = list(range(start, start + n))
        start += n
    chosen = draw(population, seed=seed, share=share, minimum=2)
    assert chosen == draw(population, seed=seed, share=share, minimum=2)
    assert len(chosen) == len(set(chosen))
    for ids in population.values():
        taken = [pk for pk in chosen if pk in set(ids)]
        assert len(taken) == min(len(ids), max(2, math.ceil(share * len(ids))))


def test_another_seed_draws_another_sample():
    population = {1: list(range(1, 201))}
    assert draw(population, seed=1, share=D("0.05"), minimum=2) != draw(population, seed=2, share=D("0.05"), minimum=2)


def test_reviewers_are_dealt_only_cases_they_had_no_part_in_and_evenly():
    dealt = assign([10, 11, 12, 13], [1, 2, 3], {10: {1}, 11: {1, 2}, 12: {1, 2, 3}, 13: set()}, seed=5)
    assert dealt[10] in (2, 3) and dealt[11] == 3 and dealt[12] is None and dealt[13] is not None


@pytest.fixture
def november(db, township, maoming):
    """Approved window cases of November in two townships of the county (and one of October, one secondary)."""
    other = TownshipFactory(county=township.county, name="东岸镇")
    cases = []
    for n, place in enumerate([township] * 30 + [other] * 3):
        cases.append(
            ApprovedCaseFactory(
                person=PersonFactory(township=place),
                decided_at=datetime.datetime(2026, 11, 1 + n % 28, 3, tzinfo=datetime.UTC),
                status=Case.Status.PAID if n % 2 else Case.Status.APPROVED,
            )
        )
    ApprovedCaseFactory(decided_at=datetime.datetime(2026, 10, 30, 3, tzinfo=datetime.UTC))
    ApprovedCaseFactory(source=Case.Source.SECONDARY, decided_at=datetime.datetime(2026, 11, 5, tzinfo=datetime.UTC))
    return cases


def test_a_months_sample_is_recorded_with_its_seed_and_population_and_drawn_again_alike(november, township, reviewer):
    sample, created = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=20261130)
    assert created and sample.seed == 20261130 and sample.population_count == 33
    assert (sample.share, sample.minimum) == (D("0.0500"), 2)  # Maoming 2018 in force: the model's defaults
    items = list(sample.items.values_list("case_id", flat=True))
    assert len(items) == 2 + 2  # ⌈5 % × 30⌉ = 2 and the minimum of 2 of three
    assert sorted(sample_redraw(sample)) == sorted(items)
    again, created = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=1)
    assert not created and again == sample  # one sample per county and month
    event = AuditEvent.objects.get(action="audit_sample.draw")
    assert event.after["seed"] == 20261130 and event.after["sampled"] == 4


def test_the_share_and_minimum_come_from_the_policy(november, township, reviewer, maoming):
    type(maoming).objects.filter(pk=maoming.pk).update(sample_share=D("0.20"), sample_minimum=3)
    sample, _ = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=3)
    assert sample.items.count() == 6 + 3


def test_the_reviewer_of_a_case_is_never_its_sampler(november, township, reviewer):
    auditor = UserFactory(username="auditor", role=Role.REVIEWER)
    Case.objects.filter(pk__in=[c.pk for c in november]).update(reviewed_by=reviewer)
    sample, _ = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=7)
    assert set(sample.items.values_list("reviewer", flat=True)) == {auditor.pk}
    item = sample.items.first()
    with pytest.raises(RecoveryRefused, match="已指派给另一名审核人员"):
        sample_check(item=item, user=reviewer, outcome="correct")


def test_without_a_reviewer_free_of_the_cases_they_wait_unassigned(november, township, reviewer):
    Case.objects.filter(pk__in=[c.pk for c in november]).update(reviewed_by=reviewer)
    sample, _ = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=7)
    assert not sample.items.exclude(reviewer__isnull=True).exists()
    with pytest.raises(RecoveryRefused, match="参与过本案件办理的人员不能抽查复核"):
        sample_check(item=sample.items.first(), user=reviewer, outcome="correct")


def test_a_wrong_finding_leads_to_a_correction_or_a_recovery(november, township, reviewer):
    auditor = UserFactory(username="auditor", role=Role.REVIEWER)
    Case.objects.filter(pk__in=[c.pk for c in november]).update(reviewed_by=reviewer, status=Case.Status.PAID)
    sample, _ = sample_draw(county=township.county, month=NOVEMBER, user=reviewer, seed=11)
    first, second, paid = list(sample.items.select_related("case"))[:3]
    assert first.reviewer == auditor
    sample_check(item=first, user=auditor, outcome="correct", note="")
    with pytest.raises(RecoveryRefused, match="有误须写明复核意见"):
        sample_check(item=second, user=auditor, outcome="wrong")
    with pytest.raises(RecoveryRefused, match="有误须选择处理"):
        sample_check(item=second, user=auditor, outcome="wrong", note="收款人姓名有误")
    sample_check(
        item=second, user=auditor, outcome="wrong", note="收款人姓名有误", follow_up="correction", correction="已更正"
    )
    checked = sample_check(
        item=paid,
        user=auditor,
        outcome="wrong",
        note="床位费多算",
        follow_up="recovery",
        reason=Reason.CALCULATION,
        amount=D("200"),
    )
    assert checked.recovery.amount == D("200.00") and "抽查" in checked.recovery.note
    with pytest.raises(RecoveryRefused, match="该案件已复核"):
        sample_check(item=first, user=auditor, outcome="wrong", note="x")
    assert AuditEvent.objects.filter(action="audit_sample.check").count() == 3


def test_the_command_and_the_monthly_schedule(november, township, capsys):
    call_command("sample_audit", "--month", "2026-11", "--seed", "42")
    out = capsys.readouterr().out
    assert "2026年11月抽查 高州市：样本 4 件（总体 33 件" in out and "种子 42" in out
    call_command("sample_audit", "--month", "2026-11")
    assert "此前已抽取" in capsys.readouterr().out
    schedule = next(s for s in SCHEDULES if s.name == MONTHLY_SAMPLE)
    assert (schedule.task, schedule.day_of_month) == ("supervision.monthly_sample", 1)
    assert previous_month(datetime.date(2026, 12, 1)) == NOVEMBER


def test_the_monthly_task_draws_last_month_for_every_county(november, township):
    import time_machine

    from supervision.tasks import monthly_sample

    with time_machine.travel(datetime.datetime(2026, 12, 1, 0, 30, tzinfo=datetime.UTC), tick=False):
        monthly_sample()
    assert AuditSample.objects.get().month == NOVEMBER


def test_the_sample_pages(client, november, township, reviewer, supervisor, clerk):
    auditor = UserFactory(username="auditor", role=Role.REVIEWER)
    client_for(client, reviewer)
    response = client.post(reverse("supervision:sample_new"), {"month": "2026-11"}, follow=True)
    assert "2026年11月抽查" in response.text and 'data-testid="reproducible"' in response.text
    sample = AuditSample.objects.get()
    page = client_for(client, auditor).get(reverse("supervision:sample_list")).text
    assert 'data-testid="my-sample-items"' in page and str(sample.seed) in page
    item = SampleItem.objects.filter(reviewer=auditor).first()
    response = client.post(reverse("supervision:sample_item", args=[item.pk]), {"outcome": "correct"}, follow=True)
    assert "已记录抽查结论" in response.text
    assert client_for(client, supervisor).get(reverse("supervision:sample_detail", args=[sample.pk])).status_code == 200
    assert client_for(client, clerk).get(reverse("supervision:sample_list")).status_code == 403
