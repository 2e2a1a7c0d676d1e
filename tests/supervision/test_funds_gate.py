"""Funds before payouts: a batch is not locked past the county's available funds for the year (received − spent
− batches locked and not yet returned, + what recoveries returned); exactly zero is fine; a warning from 90 %; an
administrator's 放行 with a reason lets it through, audited."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from payouts import services as ps
from payouts.models import PayoutBatch
from payouts.offsets import OffsetRefused, batch_override_funds
from reports.funds import fund_position
from reports.models import AssistanceFact, FundEntry
from supervision.models import Reason
from supervision.recoveries import recovery_create, repayment_record
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.payouts.test_payouts import approved_case

D = Decimal


@pytest.fixture
def admin(db):
    return UserFactory(username="fundadmin", role=Role.ADMIN)


def receive(county, amount, year=2026):
    return FundEntry.objects.create(county=county, year=year, source="grant", amount=D(amount))


def draft(township, finance, *amounts):
    for amount in amounts:
        approved_case(township, amount)
    return ps.batch_create(user=finance)


def test_a_batch_that_leaves_exactly_zero_is_locked(township, finance):
    receive(township.county, "10000.00")
    batch = draft(township, finance, "6000.00", "4000.00")
    locked = ps.batch_lock(batch=batch, user=finance)
    assert locked.status == PayoutBatch.Status.LOCKED
    assert "资金使用已达 100.0%" in locked.lock_warnings[0]
    assert fund_position(2026, township.county).available == D("0.00")


def test_one_cent_past_the_funds_is_refused_with_the_figures(township, finance):
    receive(township.county, "9999.99")
    batch = draft(township, finance, "6000.00", "4000.00")
    with pytest.raises(ps.PayoutRefused, match="可用资金不足，不能锁定") as refused:
        ps.batch_lock(batch=batch, user=finance)
    assert "锁定后将差 0.01 元" in str(refused.value) and "可用 9,999.99 元" in str(refused.value)
    assert PayoutBatch.objects.get(pk=batch.pk).status == PayoutBatch.Status.DRAFT


def test_no_funds_received_refuses_any_batch(township, finance):
    receive(township.county, "100000", year=2025)  # last year's funds are not this year's
    with pytest.raises(ps.PayoutRefused, match="2026 年到账 0.00 元"):
        ps.batch_lock(batch=draft(township, finance, "100.00"), user=finance)


def test_a_warning_from_ninety_percent(township, finance):
    receive(township.county, "10000.00")
    assert ps.batch_lock(batch=draft(township, finance, "8999.99"), user=finance).lock_warnings == []
    other = approved_case(township, "0.01")
    batch = ps.batch_create(user=finance)
    assert list(batch.lines.values_list("case", flat=True)) == [other.pk]  # 9,000.00 of 10,000.00 with it
    assert "资金使用已达 90.0%" in ps.batch_lock(batch=batch, user=finance).lock_warnings[0]


def test_batches_in_flight_count_until_the_bank_returns_them(township, finance):
    receive(township.county, "10000.00")
    ps.batch_lock(batch=draft(township, finance, "7000.00"), user=finance)
    position = fund_position(2026, township.county)
    assert (position.in_flight, position.available) == (D("7000.00"), D("3000.00"))
    with pytest.raises(ps.PayoutRefused, match="在途批次 7,000.00 元"):
        ps.batch_lock(batch=draft(township, finance, "3000.01"), user=finance)


def test_one_stop_spending_counts_and_money_recovered_comes_back(
    funded, maoming, township, clerk, reviewer, approver, finance
):
    from .conftest import db_person, paid_case

    FundEntry.objects.filter(county=township.county).delete()
    receive(township.county, "20000.00")
    AssistanceFact.objects.create(
        year=2026, month=5, township=township, benefit="住院", channel="onestop", visits=1, assisted=D("5000")
    )
    case = paid_case(db_person(township), clerk=clerk, reviewer=reviewer, approver=approver)  # no batch: not spent
    recovery = recovery_create(case=case, user=reviewer, reason=Reason.DEATH, amount=D("2000"), note="死亡")
    repayment_record(
        recovery=recovery, user=finance, amount=D("2000"), received_on=datetime.date(2026, 11, 19), reference="R"
    )
    position = fund_position(2026, township.county)
    assert (position.onestop, position.returned, position.balance) == (D("5000"), D("2000.00"), D("17000.00"))
    assert ps.batch_lock(batch=draft(township, finance, "17000.00"), user=finance).status == "locked"


def test_an_administrator_lets_a_batch_through_with_a_reason(township, finance, admin):
    receive(township.county, "1000.00")
    batch = draft(township, finance, "5000.00")
    with pytest.raises(OffsetRefused, match="须由系统管理员放行"):
        batch_override_funds(batch=batch, user=finance, reason="急需")
    with pytest.raises(OffsetRefused, match="写明原因"):
        batch_override_funds(batch=batch, user=admin, reason=" ")
    batch_override_funds(batch=batch, user=admin, reason="省级补助已下达，12 月 5 日前到账")
    locked = ps.batch_lock(batch=batch, user=finance)
    assert (
        locked.status == "locked"
        and "已由" in locked.lock_warnings[0]
        and "12 月 5 日前到账" in locked.lock_warnings[0]
    )
    event = AuditEvent.objects.get(action="payout.funds_override")
    assert event.comment.startswith("省级补助") and event.after["total"] == "5000.00"
    assert "已由" in AuditEvent.objects.get(action="payout.lock").comment


def test_an_override_is_for_the_total_it_was_given(township, finance, admin):
    receive(township.county, "1000.00")
    batch = draft(township, finance, "5000.00", "3000.00")
    batch_override_funds(batch=batch, user=admin, reason="预拨")
    ps.batch_remove_line(batch=batch, line_id=batch.lines.order_by("pk").first().pk, user=finance)
    with pytest.raises(ps.PayoutRefused, match="可用资金不足"):
        ps.batch_lock(batch=batch, user=finance)


def test_the_funds_page_shows_the_position_and_offers_the_override_to_the_administrator(
    client, township, finance, admin, clerk
):
    receive(township.county, "1000.00")
    batch = draft(township, finance, "5000.00")
    page = client_for(client, admin).get(reverse("reports:funds")).text
    assert 'data-testid="available">1,000.00 元' in page and batch.number in page and "放行" in page
    assert batch.lines.first().payee_name not in page  # the administrator sees figures, not people
    response = client.post(reverse("reports:funds_override", args=[batch.pk]), {"reason": "预拨资金"}, follow=True)
    assert "已放行批次" in response.text
    finance_page = client_for(client, finance).get(reverse("reports:funds")).text
    assert "已由" in finance_page and 'action="/reports/funds/' not in finance_page
    assert client.post(reverse("reports:funds_override", args=[batch.pk]), {"reason": "x"}).status_code == 403
    assert client_for(client, clerk).get(reverse("reports:funds")).status_code == 403
