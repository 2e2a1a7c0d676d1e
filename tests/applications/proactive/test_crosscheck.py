"""The 主动救助 cross-check: who becomes a lead, for how much, and what re-runs do."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from applications.cases.services import case_accept, case_approve, case_review, case_submit
from applications.cases.workflow import TransitionRefused
from applications.models import Bill, Case, Job, Lead, LedgerEntry, PolicyVersion
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now, crosscheck_request
from applications.proactive.services import lead_close, lead_convert, lead_record_contact
from audit.models import AuditEvent
from recipients.models import Identity, Person
from settlements.models import Settlement
from tests.factories import IdentityFactory, PersonFactory, settle, valid_id_number

D = Decimal
D0 = Decimal("0")
TODAY = datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def person(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    p = PersonFactory(township=township)
    IdentityFactory(person=p, category="DB", valid_from=datetime.date(2024, 1, 1))
    return p


def open_leads():
    return Lead.objects.filter(status=Lead.Status.OPEN)


def test_taishan_case_out_of_area_stay_becomes_one_lead_with_the_policy_estimate(person):
    s = settle(person)
    job = crosscheck_now(reason="test")
    assert job.status == Job.Status.DONE and job.created == 1 and job.candidates == 1
    lead = Lead.objects.get()
    assert (lead.person, lead.year, lead.township) == (person, 2025, person.township)
    assert lead.estimate == D("9600.00")  # DB inpatient 80 % of 12,000, no deductible in Maoming
    assert lead.self_pay_total == D("12000.00") and lead.settlement_count == 1 and lead.category == "DB"
    assert list(lead.items.values_list("settlement_number", flat=True)) == [s.number]
    assert job.total_amount == D("9600.00")
    assert AuditEvent.objects.filter(action="job.crosscheck").exists()


def test_identity_not_valid_on_the_service_date_gives_nothing(person):
    settle(person, day=datetime.date(2023, 12, 31))
    crosscheck_now()
    assert not Lead.objects.exists()


def test_settlement_already_assisted_one_stop_gives_nothing(person):
    settle(person, onestop=D("9600"))
    crosscheck_now()
    assert not Lead.objects.exists()


def test_settlement_claimed_by_an_application_gives_nothing(person, clerk):
    from applications.cases.services import case_add_bill, case_create

    s = settle(person)
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital=s.hospital,
        visit_type="住院",
        admitted_on=s.admitted_on,
        discharged_on=s.discharged_on,
        invoice_number="F1",
        settlement_number=s.number,
        total=s.total,
        in_policy=s.in_policy,
        basic=s.basic,
        critical=s.critical,
    )
    crosscheck_now()
    assert not Lead.objects.exists()


def test_a_paper_bill_without_settlement_number_also_claims_the_same_stay(person, clerk):
    from applications.cases.services import case_add_bill, case_create

    s = settle(person)
    case = case_create(person=person, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital=" 广州医科大学附属第一医院",  # typed with a stray space
        visit_type="住院",
        admitted_on=s.admitted_on,
        discharged_on=s.discharged_on,
        invoice_number="F1",
        total=s.total,
        in_policy=s.in_policy,
        basic=s.basic,
        critical=s.critical,
    )
    crosscheck_now()
    assert not Lead.objects.exists()


def test_settlement_of_someone_not_in_the_registry_is_never_a_lead(person):
    settle(valid_id_number(datetime.date(1960, 3, 3)))
    crosscheck_now()
    assert not Lead.objects.exists()


def test_rerunning_changes_nothing(person):
    settle(person)
    crosscheck_now()
    lead = Lead.objects.get()
    job = crosscheck_now()
    assert (job.created, job.updated, job.closed, job.reopened) == (0, 0, 0, 0)
    assert Lead.objects.get() == lead and lead.items.count() == 1


def test_new_settlements_join_the_open_lead_and_estimates_are_refreshed(person):
    settle(person)
    crosscheck_now()
    settle(
        person, day=datetime.date(2025, 7, 20), total=D("10000"), in_policy=D("9000"), basic=D("5000"), critical=D("0")
    )
    job = crosscheck_now()
    assert job.created == 0 and job.updated == 1
    lead = Lead.objects.get()
    assert lead.settlement_count == 2 and lead.estimate == D("9600.00") + D("3200.00")


def test_one_stop_assistance_already_paid_uses_up_the_cap(person):
    # Maoming DB inpatient cap 60,000 a year: one-stop already paid 55,000 earlier in the year.
    settle(person, day=datetime.date(2025, 3, 1), onestop=D("11000"))
    LedgerEntry.objects.create(person=person, year=2025, pool="住院", granted=D("44000"))
    settle(person)
    crosscheck_now()
    lead = Lead.objects.get()
    assert lead.estimate == D("5000.00")  # 60,000 − 44,000 − 11,000


def test_a_lead_with_nothing_left_closes_itself(person, clerk):
    s = settle(person)
    crosscheck_now()
    Settlement.objects.filter(pk=s.pk).update(onestop=D("9600"))  # corrected extract: it was assisted
    job = crosscheck_now()
    assert job.closed == 1
    lead = Lead.objects.get()
    assert lead.status == Lead.Status.CLOSED and lead.close_reason == Lead.CloseReason.RESOLVED
    assert not lead.items.filter(active=True).exists()


def test_a_backdated_identity_makes_earlier_settlements_eligible_on_the_next_run(person):
    settle(person, day=datetime.date(2023, 11, 5))
    crosscheck_now()
    assert not Lead.objects.exists()
    IdentityFactory(
        person=person, category="DB", valid_from=datetime.date(2023, 6, 1), valid_to=datetime.date(2023, 12, 31)
    )
    crosscheck_now()
    lead = Lead.objects.get()
    assert lead.year == 2023 and lead.estimate > 0


def test_roster_import_that_backdates_an_identity_queues_a_cross_check(
    person, reviewer, django_capture_on_commit_callbacks, eager_tasks
):
    from recipients import demo
    from recipients.services import roster_import_create, roster_import_run

    settle(person, day=datetime.date(2023, 11, 5))
    row = [person.id_number, person.name, "低保", "2023-06-01", "", person.township.name, "", "", "", "", "民政"]
    content = demo.to_csv([row])
    roster = roster_import_create(user=reviewer, file_name="r.csv", content=content, source="MZ", enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_run(roster_import=roster, user=reviewer)
    # Celery runs in-process without a broker: the queued cross-check has run.
    assert Job.objects.filter(kind=Job.Kind.CROSSCHECK, status=Job.Status.DONE).exists()
    assert Lead.objects.filter(person=person, year=2023).exists()


def test_a_converted_and_approved_lead_does_not_come_back(person, clerk, reviewer, approver):
    settle(person)
    crosscheck_now()
    lead = Lead.objects.get()
    lead_record_contact(
        lead=lead, user=clerk, contacted_on=datetime.date(2025, 8, 30), method="phone", outcome="agreed"
    )
    case = lead_convert(lead=lead, user=clerk)
    assert case.source == Case.Source.LEAD and case.status == Case.Status.DRAFT
    assert case.payee_account == person.bank_account
    bill = case.bills.get()
    assert bill.settlement_number == lead.items.get().settlement_number and bill.total == D("42000")
    case = case_accept(case=case, user=clerk)
    case = case_submit(case=case, user=clerk)
    case = case_review(case=case, user=reviewer)
    case = case_approve(case=case, user=approver)
    assert case.approved_amount == D("9600.00")
    job = crosscheck_now()
    assert (job.created, job.reopened) == (0, 0)
    assert not open_leads().exists()


def test_a_lead_closed_by_the_township_stays_closed_unless_new_settlements_appear(person, clerk):
    settle(person)
    crosscheck_now()
    lead = lead_close(lead=Lead.objects.get(), user=clerk, reason="refused", note="本人表示不需要")
    assert lead.status == Lead.Status.CLOSED
    assert crosscheck_now().reopened == 0
    settle(person, day=datetime.date(2025, 8, 1))
    job = crosscheck_now()
    assert job.reopened == 1
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN and lead.settlement_count == 1


def test_a_rejected_conversion_does_not_bring_the_settlements_back(person, clerk):
    settle(person)
    crosscheck_now()
    case = lead_convert(lead=Lead.objects.get(), user=clerk)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.WITHDRAWN)
    job = crosscheck_now()
    assert (job.created, job.reopened) == (0, 0)


def test_clerk_of_another_township_cannot_work_the_lead(person, outsider):
    settle(person)
    crosscheck_now()
    lead = Lead.objects.get()
    with pytest.raises(TransitionRefused):
        lead_convert(lead=lead, user=outsider)
    with pytest.raises(TransitionRefused):
        lead_close(lead=lead, user=outsider, reason="refused")
    assert Lead.objects.visible_to(outsider).count() == 0


def test_close_needs_a_reason_and_a_note_for_other(person, clerk):
    settle(person)
    crosscheck_now()
    lead = Lead.objects.get()
    with pytest.raises(TransitionRefused):
        lead_close(lead=lead, user=clerk, reason="resolved")
    with pytest.raises(TransitionRefused):
        lead_close(lead=lead, user=clerk, reason="other", note=" ")
    assert Lead.objects.get().status == Lead.Status.OPEN


def test_conversion_is_all_or_nothing_when_an_identity_has_since_ended(person, clerk):
    settle(person)
    crosscheck_now()
    person.identities.update(valid_to=datetime.date(2025, 1, 31))
    with pytest.raises(TransitionRefused):
        lead_convert(lead=Lead.objects.get(), user=clerk)
    assert not Case.objects.exists() and not Bill.objects.exists()
    assert Lead.objects.get().status == Lead.Status.OPEN


def test_a_run_for_one_year_makes_no_leads_for_other_years(person):
    settle(person, day=datetime.date(2024, 5, 5))
    settle(person)
    job = crosscheck_now(year=2025)
    assert job.created == 1 and Lead.objects.get().year == 2025


def test_requests_while_one_waits_join_it(db):
    first = crosscheck_request(reason="a", enqueue=False)
    second = crosscheck_request(reason="b", enqueue=False)
    assert first.pk == second.pk
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 1


def test_the_database_refuses_two_running_cross_checks(db):
    Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.RUNNING)


def test_a_job_left_running_by_a_dead_worker_is_marked_failed_by_the_next(person):
    dead = Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.RUNNING)
    job = crosscheck_now()
    dead.refresh_from_db()
    assert dead.status == Job.Status.FAILED and job.status == Job.Status.DONE


def test_a_rerun_recomputes_only_people_whose_inputs_changed(person, township):
    other = PersonFactory(township=township)
    IdentityFactory(person=other, category="DB", valid_from=datetime.date(2024, 1, 1))
    settle(person)
    settle(other)
    # The registry and the policy were set up the day before the first run.
    day_before = TODAY - datetime.timedelta(days=1)
    Identity.objects.update(updated_at=day_before)
    Person.objects.update(updated_at=day_before)
    PolicyVersion.objects.update(activated_at=day_before)
    AuditEvent.objects.update(created_at=day_before)
    crosscheck_now()
    later = TODAY + datetime.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        # An approval elsewhere used up most of the person's cap; nothing changed for the other.
        LedgerEntry.objects.create(person=person, year=2025, pool="住院", granted=D("55000"))
        Lead.objects.filter(person=other).update(estimate=D("1.00"))  # a marker: left alone if not recomputed
        job = crosscheck_now()
    assert job.updated == 1 and job.people == 1
    assert Lead.objects.get(person=person).estimate == D("5000.00")
    assert Lead.objects.get(person=other).estimate == D("1.00")


def test_a_settlement_import_since_the_last_run_recomputes_everyone(person, township):
    from settlements.models import SettlementImport

    settle(person)
    crosscheck_now()
    Lead.objects.update(estimate=D("1.00"))
    with time_machine.travel(TODAY + datetime.timedelta(hours=2), tick=False):
        SettlementImport.objects.create(
            file_name="x.csv",
            file_hash="0" * 64,
            file_size=1,
            status="done",
            applied_at=TODAY + datetime.timedelta(hours=1),
        )
        crosscheck_now()
    assert Lead.objects.get().estimate == D("9600.00")


def test_imports_committed_together_ask_for_one_cross_check(person, django_capture_on_commit_callbacks):
    from applications.proactive.crosscheck import crosscheck_after_commit

    with django_capture_on_commit_callbacks() as callbacks:
        crosscheck_after_commit(reason="名册导入 #1 之后")
        crosscheck_after_commit(reason="名册导入 #2 之后")
    assert len(callbacks) == 1


# --- found in review -------------------------------------------------------------------------


@pytest.fixture
def national(township):
    policy_load_preset(name="national-2021", county=township.county)  # no income standard stored


def test_a_missing_income_standard_does_not_stop_the_run_or_lose_other_identities(national, township):
    by = PersonFactory(township=township)
    IdentityFactory(person=by, category="BY", valid_from=datetime.date(2024, 1, 1))
    settle(by, day=datetime.date(2025, 3, 1), onestop=D("1000"))
    settle(by)
    both = PersonFactory(township=township)
    IdentityFactory(person=both, category="DB", valid_from=datetime.date(2024, 1, 1))
    IdentityFactory(person=both, category="FP", valid_from=datetime.date(2024, 1, 1))
    settle(both)
    job = crosscheck_now()
    assert job.status == Job.Status.DONE
    lead = Lead.objects.get(person=both)
    assert lead.category == "DB" and lead.estimate == D("8400.00")  # 70 % of 12,000, no deductible for DB


def test_the_lead_estimate_is_what_the_review_will_propose(person, clerk, reviewer):
    # Maoming DB inpatient cap 60,000: a February stay with E = 50,000 waits; an August stay was paid
    # 30,000 one-stop. The lead and the application agree: 30,000 is left.
    settle(
        person,
        day=datetime.date(2025, 2, 10),
        total=D("80000"),
        in_policy=D("75000"),
        basic=D("25000"),
        critical=D("0"),
    )
    settle(person, day=datetime.date(2025, 8, 10), onestop=D("30000"), total=D("90000"), in_policy=D("80000"))
    crosscheck_now()
    lead = Lead.objects.get()
    assert lead.estimate == D("30000.00")
    case = lead_convert(lead=lead, user=clerk)
    case = case_review(case=case_submit(case=case_accept(case=case, user=clerk), user=clerk), user=reviewer)
    assert case.proposed_amount == lead.estimate


def test_a_lead_converted_while_the_job_runs_is_not_reopened_with_its_settlements(person, clerk):
    from applications.proactive.candidates import find_candidates
    from applications.proactive.estimate import estimate
    from applications.proactive.leads import write_leads

    settle(person)
    crosscheck_now()
    settle(person, day=datetime.date(2025, 7, 1))
    groups = estimate(find_candidates())  # the job has read its candidates ...
    case = lead_convert(lead=Lead.objects.get(), user=clerk)  # ... and the clerk converts meanwhile
    counts = write_leads(groups, year=None, job=None)
    lead = Lead.objects.get()
    assert counts.reopened == 1  # for the July stay only
    assert list(lead.items.filter(active=True).values_list("service_date", flat=True)) == [datetime.date(2025, 7, 1)]
    assert (
        Bill.objects.filter(settlement_number__in=lead.items.filter(active=True).values("settlement_number")).count()
        == 0
    )
    assert case.bills.count() == 1
