"""Recoveries (追回) on paid cases: every reason from registration to 已追回 or 核销, the amounts refused with a message,
the ledger given back, the yearly burden and 二次救助 recomputed, every step audited, nothing deleted."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from accounts.roles import ROLE_PERMISSIONS
from applications.cases.recovered import case_give_back
from applications.cases.services import case_approve
from applications.models import Bill, Case, FirstRoundRule, Job, LedgerEntry, YearlyBurden
from applications.secondary.burden import yearly_burdens
from applications.secondary.services import secondary_now
from audit.models import AuditEvent
from supervision.models import DISALLOWING, Reason, Recovery
from supervision.recoveries import (
    RecoveryRefused,
    recovery_create,
    repayment_record,
    writeoff_decide,
    writeoff_request,
)
from tests.factories import settle

from .conftest import STAY, db_person, paid_case

D = Decimal
S = Recovery.Status
TODAY = datetime.date(2026, 11, 20)


def ledger(person, pool="住院"):
    entry = LedgerEntry.objects.get(person=person, year=2026, pool=pool)
    return entry.granted, entry.deductible_used


def actions(recovery):
    return list(
        AuditEvent.objects.filter(object_type="supervision.recovery", object_id=str(recovery.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("reason", Reason.values)
def test_each_reason_goes_from_pending_through_partial_to_recovered(paid, reviewer, finance, reason):
    assert paid.approved_amount == D("9600.00") and ledger(paid.person) == (D("9600.00"), D("0.00"))
    recovery = recovery_create(case=paid, user=reviewer, reason=reason, amount=D("9600.00"), note="核查发现")
    assert recovery.status == S.PENDING and recovery.number.startswith("ZH2026")
    assert Case.objects.get(pk=paid.pk).recoveries_total == D("9600.00")
    repayment_record(recovery=recovery, user=finance, amount=D("4000"), received_on=TODAY, reference="回单 001")
    recovery.refresh_from_db()
    assert (recovery.status, recovery.recovered, recovery.due) == (S.PARTIAL, D("4000.00"), D("5600.00"))
    assert ledger(paid.person) == (D("5600.00"), D("0.00"))  # the cap room came back with the money
    repayment_record(recovery=recovery, user=finance, amount=D("5600"), received_on=TODAY, reference="回单 002")
    recovery.refresh_from_db()
    assert (recovery.status, recovery.due) == (S.RECOVERED, D("0.00"))
    assert ledger(paid.person) == (D("0.00"), D("0.00"))
    bill = Bill.objects.get(case=paid)
    assert bill.recovered == D("9600.00") and bill.disallowed == (reason in DISALLOWING)
    assert Case.objects.get(pk=paid.pk).recovered_amount == D("9600.00")
    assert actions(recovery) == ["recovery.create", "recovery.repay", "recovery.repay"]


def test_a_recovery_larger_than_what_was_paid_is_refused(paid, reviewer):
    with pytest.raises(RecoveryRefused, match="超过可追回金额：已发放 9,600.00 元"):
        recovery_create(case=paid, user=reviewer, reason=Reason.CALCULATION, amount=D("9600.01"), note="x")
    recovery_create(case=paid, user=reviewer, reason=Reason.CALCULATION, amount=D("6000"), note="多算")
    with pytest.raises(RecoveryRefused, match="最多还可登记 3,600.00 元"):
        recovery_create(case=paid, user=reviewer, reason=Reason.FRAUD, amount=D("3600.01"), note="x")
    recovery_create(case=paid, user=reviewer, reason=Reason.FRAUD, amount=D("3600"), note="其余为虚开发票")
    assert Recovery.objects.filter(case=paid).count() == 2


def test_only_paid_cases_are_recovered_and_only_with_a_reason_and_a_note(maoming, township, clerk, reviewer, approver):
    from tests.factories import bill_on, case_in_approval

    from .conftest import TAISHAN

    case = case_in_approval(
        db_person(township), clerk=clerk, reviewer=reviewer, bills=[bill_on(STAY, invoice="A", **TAISHAN)]
    )
    case = case_approve(case=case, user=approver)
    with pytest.raises(RecoveryRefused, match="只能对已发放的案件登记追回"):
        recovery_create(case=case, user=reviewer, reason=Reason.OTHER, amount=D("1"), note="x")
    with pytest.raises(RecoveryRefused, match="情况说明"):
        recovery_create(case=case, user=reviewer, reason=Reason.OTHER, amount=D("1"), note=" ")
    with pytest.raises(RecoveryRefused, match="追回原因"):
        recovery_create(case=case, user=reviewer, reason="lost", amount=D("1"), note="x")


def test_the_database_refuses_recoveries_past_what_was_paid(paid):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=paid.pk).update(recoveries_total=D("9600.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=paid.pk).update(recoveries_total=D("100"), recovered_amount=D("100.01"))


def test_a_repayment_larger_than_what_is_due_and_other_bad_repayments_are_refused(paid, reviewer, finance):
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.DEATH, amount=D("1000"), note="发放前死亡")
    with pytest.raises(RecoveryRefused, match="还款金额 1,000.01 元超过尚欠金额 1,000.00 元"):
        repayment_record(recovery=recovery, user=finance, amount=D("1000.01"), received_on=TODAY, reference="R")
    with pytest.raises(RecoveryRefused, match="不能晚于今天"):
        repayment_record(
            recovery=recovery,
            user=finance,
            amount=D("1"),
            received_on=TODAY + datetime.timedelta(days=1),
            reference="R",
        )
    with pytest.raises(RecoveryRefused, match="回单"):
        repayment_record(recovery=recovery, user=finance, amount=D("1"), received_on=TODAY, reference="")
    with pytest.raises(RecoveryRefused, match="没有登记追回款的权限"):
        repayment_record(recovery=recovery, user=reviewer, amount=D("1"), received_on=TODAY, reference="R")
    repayment_record(recovery=recovery, user=finance, amount=D("1000"), received_on=TODAY, reference="R")
    with pytest.raises(RecoveryRefused, match="已追回"):
        repayment_record(recovery=recovery, user=finance, amount=D("1"), received_on=TODAY, reference="R")


def test_writing_off_needs_a_second_person(paid, reviewer, finance, approver, second_approver):
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.DEATH, amount=D("3000"), note="死亡")
    repayment_record(recovery=recovery, user=finance, amount=D("1000"), received_on=TODAY, reference="R")
    with pytest.raises(RecoveryRefused, match="没有待审批的核销申请"):
        writeoff_decide(recovery=recovery, user=approver, approve=True)
    writeoff_request(recovery=recovery, user=finance, reason="无遗产")
    with pytest.raises(RecoveryRefused, match="没有审批核销的权限"):
        writeoff_decide(recovery=recovery, user=finance, approve=True)
    with pytest.raises(RecoveryRefused, match="不同意核销须写明理由"):
        writeoff_decide(recovery=recovery, user=approver, approve=False)
    writeoff_decide(recovery=recovery, user=approver, approve=False, comment="家属有偿还能力")
    recovery.refresh_from_db()
    assert not recovery.writeoff_pending and recovery.status == S.PARTIAL
    writeoff_request(recovery=recovery, user=finance, reason="家属已无联系")
    writeoff_decide(recovery=recovery, user=second_approver, approve=True, comment="同意")
    recovery.refresh_from_db()
    assert (recovery.status, recovery.written_off, recovery.due) == (S.WRITTEN_OFF, D("2000.00"), D("0.00"))
    # What was written off was not recovered: the ledger keeps it as granted.
    assert ledger(paid.person)[0] == D("8600.00")
    assert actions(recovery)[-3:] == ["recovery.writeoff_reject", "recovery.writeoff_request", "recovery.writeoff"]


def test_the_requester_cannot_approve_their_own_write_off(paid, reviewer, approver):
    from django.contrib.auth.models import Permission

    approver.user_permissions.add(Permission.objects.get(codename="request_writeoff"))
    approver = type(approver).objects.get(pk=approver.pk)  # permissions read afresh
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.OTHER, amount=D("10"), note="x")
    writeoff_request(recovery=recovery, user=approver, reason="金额很小")
    with pytest.raises(RecoveryRefused, match="另一人审批"):
        writeoff_decide(recovery=recovery, user=approver, approve=True)


def test_the_deductible_comes_back_once_the_whole_case_has(maoming, township, clerk, reviewer, approver, finance):
    FirstRoundRule.objects.filter(version=maoming, category="DB", visit_type="住院").update(
        deductible_kind="fixed", deductible_value=D("1000")
    )
    person = db_person(township)
    case = paid_case(person, clerk=clerk, reviewer=reviewer, approver=approver)
    assert case.approved_amount == D("8800.00")  # (12,000 − 1,000) × 80 %
    assert ledger(person) == (D("8800.00"), D("1000.00"))
    recovery = recovery_create(case=case, user=reviewer, reason=Reason.IDENTITY, amount=D("8800"), note="身份不符")
    repayment_record(recovery=recovery, user=finance, amount=D("8000"), received_on=TODAY, reference="R1")
    assert ledger(person) == (D("800.00"), D("1000.00"))  # part of the case back: its deductible still used
    repayment_record(recovery=recovery, user=finance, amount=D("800"), received_on=TODAY, reference="R2")
    assert ledger(person) == (D("0.00"), D("0.00"))


def test_a_secondary_case_gives_back_its_years_secondary_pool(maoming, township, reviewer, approver, finance):
    person = db_person(township)
    settle(
        person,
        day=datetime.date(2026, 5, 1),
        total=D("18000"),
        in_policy=D("9000"),
        basic=D("6000"),
        critical=D("0"),
        onestop=D("2000"),
    )
    secondary_now(year=2026)
    case = Case.objects.get(person=person, source=Case.Source.SECONDARY)
    case = case_approve(case=case, user=approver)
    from applications.cases.services import cases_mark_paid

    cases_mark_paid(case_ids=[case.pk], user=None, comment="发放")
    case.refresh_from_db()
    assert case.approved_amount == D("5600.00")
    recovery = recovery_create(case=case, user=reviewer, reason=Reason.CALCULATION, amount=D("600"), note="多算")
    repayment_record(recovery=recovery, user=finance, amount=D("600"), received_on=TODAY, reference="R")
    assert LedgerEntry.objects.get(person=person, year=2026, pool=LedgerEntry.SECONDARY).granted == D("5000.00")


def test_what_came_back_counts_in_the_yearly_burden_and_secondary_is_recomputed(
    paid, reviewer, finance, django_capture_on_commit_callbacks, eager_tasks
):
    person = paid.person
    before = yearly_burdens(year=2026, person_ids=[person.pk])[person.pk].burden
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.CALCULATION, amount=D("3000"), note="多算")
    # The test runs in one transaction: the approval's own request (of the fixture) is left aside, as if committed.
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks(execute=True):
        repayment_record(recovery=recovery, user=finance, amount=D("3000"), received_on=TODAY, reference="R")
    assert yearly_burdens(year=2026, person_ids=[person.pk])[person.pk].burden == before + D("3000")
    job = Job.objects.filter(kind=Job.Kind.SECONDARY).latest("pk")
    assert job.people_ids == [person.pk] and job.status == Job.Status.DONE and "追回" in job.reason
    assert YearlyBurden.objects.get(person=person, year=2026).burden == before + D("3000")


def test_a_case_undone_for_fraud_stops_counting_its_unlinked_bills(paid, reviewer, finance):
    person = paid.person
    assert yearly_burdens(year=2026, person_ids=[person.pk])[person.pk].items == 1
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.FRAUD, amount=D("9600"), note="虚开发票")
    repayment_record(recovery=recovery, user=finance, amount=D("9600"), received_on=TODAY, reference="R")
    assert person.pk not in yearly_burdens(year=2026, person_ids=[person.pk])


def test_give_back_never_passes_what_was_registered(paid):
    from applications.cases.workflow import TransitionRefused

    with pytest.raises(TransitionRefused):
        case_give_back(case_id=paid.pk, amount=D("1"))


def test_recoveries_are_never_deleted(paid, reviewer, finance):
    recovery = recovery_create(case=paid, user=reviewer, reason=Reason.OTHER, amount=D("100"), note="x")
    repayment_record(recovery=recovery, user=finance, amount=D("50"), received_on=TODAY, reference="R")
    with pytest.raises(ProtectedError):
        recovery.delete()
    with pytest.raises(ProtectedError):
        paid.delete()
    assert not any(
        "delete_recovery" in p or "delete_repayment" in p for perms in ROLE_PERMISSIONS.values() for p in perms
    )


def test_roles_that_may_not_register_or_repay_are_refused(paid, clerk, approver, finance):
    for user in (clerk, approver, finance):
        with pytest.raises(RecoveryRefused, match="没有登记追回的权限"):
            recovery_create(case=paid, user=user, reason=Reason.OTHER, amount=D("1"), note="x")
