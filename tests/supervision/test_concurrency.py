"""Recoveries and repayments recorded at the same moment (PostgreSQL, real threads): what is registered on a case
never passes what it paid, what is repaid never passes what is owed."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from applications.models import Case
from supervision.models import Reason, Recovery
from supervision.recoveries import RecoveryRefused, recovery_create, repayment_record
from tests.factories import ApprovedCaseFactory

D = Decimal


def at_once(work, n):
    outcomes, barrier = [], threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            work(i)
            outcomes.append("ok")
        except RecoveryRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_recoveries_recorded_at_once_on_one_case_never_exceed_what_was_paid(township, reviewer):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    case = ApprovedCaseFactory(person__township=township, status=Case.Status.PAID, approved_amount=D("9600.00"))

    def register(i):
        recovery_create(case=case, user=reviewer, reason=Reason.OTHER, amount=D("3000"), note=f"第 {i} 次")

    outcomes = at_once(register, 8)
    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 5  # a fourth 3,000 would pass 9,600
    assert Case.objects.get(pk=case.pk).recoveries_total == D("9000.00")
    assert sum(r.amount for r in Recovery.objects.filter(case=case)) == D("9000.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_repayments_recorded_at_once_never_exceed_what_is_owed(township, reviewer, finance):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    case = ApprovedCaseFactory(person__township=township, status=Case.Status.PAID, approved_amount=D("9600.00"))
    recovery = recovery_create(case=case, user=reviewer, reason=Reason.DEATH, amount=D("1000"), note="死亡")

    def repay(i):
        repayment_record(
            recovery=recovery, user=finance, amount=D("400"), received_on=timezone.localdate(), reference=f"R{i}"
        )

    outcomes = at_once(repay, 6)
    recovery.refresh_from_db()
    assert outcomes.count("ok") == 2 and recovery.recovered == D("800.00") and recovery.due == D("200.00")
