import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.roles import Role
from applications.cases.services import (
    case_accept,
    case_add_bill,
    case_approve,
    case_create,
    case_mark_paid,
    case_reject,
    case_return,
    case_review,
    case_submit,
    case_withdraw,
)
from applications.cases.workflow import TransitionRefused
from applications.models import Case, CaseTransition, LedgerEntry
from applications.policy.services import policy_load_preset
from audit.models import AuditEvent
from tests.factories import IdentityFactory, PersonFactory, UserFactory

D = Decimal
S = Case.Status
TODAY = datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def setting(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    return person


def inpatient(invoice="F0001", admitted=datetime.date(2025, 6, 1), discharged=datetime.date(2025, 6, 10), **money):
    values = {"total": D("42000"), "in_policy": D("38000"), "basic": D("20000"), "critical": D("6000")}
    values.update(money)
    return {
        "hospital": "广州市第一人民医院",
        "visit_type": "住院",
        "admitted_on": admitted,
        "discharged_on": discharged,
        "invoice_number": invoice,
        **values,
    }


def received_case(person, clerk, **bill):
    case = case_create(person=person, user=clerk)
    case_add_bill(case=case, user=clerk, **inpatient(**bill))
    return case_accept(case=case, user=clerk)


def test_a_case_from_the_window_to_approval_gets_its_deadline_amount_ledger_and_record(
    setting, clerk, reviewer, approver
):
    case = received_case(setting, clerk)
    assert case.status == S.ACCEPTED and case.received_by == clerk
    # 30 working days across National Day 2025 (10/1–8 off, Sunday 9/28 and Saturday 10/11 worked):
    # 9/2–5 (4), 9/8–26 (19), 9/28 (20), 9/29–30 (22), 10/9–11 (25), 10/13–17 (30)
    assert case.due_on == datetime.date(2025, 10, 17)
    case = case_submit(case=case, user=clerk)
    case = case_review(case=case, user=reviewer)
    assert case.status == S.APPROVAL and case.proposed_amount == D("9600.00")  # (38,000 − 26,000) × 80%
    assert case.calculation[0]["category"] == "DB" and case.calculation[0]["steps"]
    case = case_approve(case=case, user=approver)
    assert case.status == S.APPROVED and case.approved_amount == D("9600.00")
    entry = LedgerEntry.objects.get(person=setting, year=2025, pool="住院")
    assert entry.granted == D("9600.00")
    assert case.bills.get().claimed
    assert list(CaseTransition.objects.filter(case=case).values_list("to_status", flat=True)) == [
        S.ACCEPTED,
        S.REVIEW,
        S.APPROVAL,
        S.APPROVED,
    ]
    assert AuditEvent.objects.filter(action="case.approve", object_id=str(case.pk), actor=approver).exists()


ACTIONS = {
    "accept": lambda case, users: case_accept(case=case, user=users["clerk"]),
    "accept_pending": lambda case, users: case_accept(
        case=case, user=users["clerk"], missing_materials=["费用清单"], materials_deadline=datetime.date(2025, 9, 15)
    ),
    "submit": lambda case, users: case_submit(case=case, user=users["clerk"]),
    "review": lambda case, users: case_review(case=case, user=users["reviewer"]),
    "return": lambda case, users: case_return(case=case, user=users["reviewer"], reason="缺费用清单"),
    "approve": lambda case, users: case_approve(case=case, user=users["approver"]),
    "reject": lambda case, users: case_reject(case=case, user=users["approver"], reason="不符合条件"),
    "withdraw": lambda case, users: case_withdraw(case=case, user=users["clerk"], reason="申请人撤回"),
    "mark_paid": lambda case, users: case_mark_paid(case=case, user=None),
}

# DOMAIN §6, written out by hand (not read from workflow.TRANSITIONS): the status each action leads to from
# each status; an action missing from a row is refused there.
EXPECTED = {
    S.DRAFT: {"accept": S.ACCEPTED, "accept_pending": S.ACCEPTED_PENDING, "withdraw": S.WITHDRAWN},
    S.ACCEPTED: {"submit": S.REVIEW, "withdraw": S.WITHDRAWN},
    S.ACCEPTED_PENDING: {"submit": S.REVIEW, "withdraw": S.WITHDRAWN},
    S.REVIEW: {"review": S.APPROVAL, "return": S.RETURNED, "withdraw": S.WITHDRAWN},
    S.APPROVAL: {"return": S.RETURNED, "approve": S.APPROVED, "reject": S.REJECTED},
    S.RETURNED: {"submit": S.REVIEW, "withdraw": S.WITHDRAWN},
    S.APPROVED: {"mark_paid": S.PAID},
    S.REJECTED: {},
    S.WITHDRAWN: {},
    S.PAID: {},
}


def test_the_expected_table_has_a_row_for_every_status():
    assert set(EXPECTED) == set(S.values)


@pytest.mark.parametrize("status", list(S.values))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_moves_a_case_only_from_its_states_and_to_its_state(
    setting, clerk, reviewer, approver, status, action
):
    case = case_create(person=setting, user=clerk)
    case_add_bill(case=case, user=clerk, **inpatient())
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    users = {"clerk": clerk, "reviewer": reviewer, "approver": approver}
    before = CaseTransition.objects.count()
    expected = EXPECTED[status].get(action)
    if expected is not None:
        ACTIONS[action](case, users)
        assert Case.objects.get(pk=case.pk).status == expected
        moved = CaseTransition.objects.get(case=case)
        assert (moved.from_status, moved.to_status) == (status, expected)
    else:
        with pytest.raises(TransitionRefused):
            ACTIONS[action](case, users)
        case.refresh_from_db()
        assert case.status == status and CaseTransition.objects.count() == before


def test_double_submission_is_refused_not_repeated(setting, clerk):
    case = received_case(setting, clerk)
    case_submit(case=case, user=clerk)
    with pytest.raises(TransitionRefused, match="可能已被他人处理"):
        case_submit(case=case, user=clerk)
    assert CaseTransition.objects.filter(to_status=S.REVIEW).count() == 1


def test_whoever_received_or_reviewed_cannot_approve(setting, clerk, reviewer, township):
    case = received_case(setting, clerk)
    case_submit(case=case, user=clerk)
    case_review(case=case, user=reviewer)
    # a reviewer who also holds the approver role is still refused on a case they reviewed
    reviewer.role = Role.APPROVER
    reviewer.save()
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)  # as on the next request: permissions reloaded
    assert reviewer.has_perm("applications.approve_case")
    with pytest.raises(TransitionRefused, match="不能审批本案件"):
        case_approve(case=case, user=reviewer)
    with pytest.raises(TransitionRefused):
        case_approve(case=case, user=clerk)
    colleague = UserFactory(username="colleague", role=Role.CLERK, township=township)
    with pytest.raises(TransitionRefused, match="权限"):
        case_approve(case=case, user=colleague)
    assert Case.objects.get(pk=case.pk).status == S.APPROVAL


def test_a_clerk_cannot_review_and_another_townships_clerk_cannot_submit(setting, clerk, outsider):
    case = received_case(setting, clerk)
    with pytest.raises(TransitionRefused, match="本乡镇"):
        case_submit(case=case, user=outsider)
    case_submit(case=case, user=clerk)
    with pytest.raises(TransitionRefused, match="权限"):
        case_review(case=case, user=clerk)


def test_accept_with_missing_materials_needs_a_deadline(setting, clerk):
    case = case_create(person=setting, user=clerk)
    case_add_bill(case=case, user=clerk, **inpatient())
    with pytest.raises(TransitionRefused, match="期限"):
        case_accept(case=case, user=clerk, missing_materials=["费用清单"])
    case = case_accept(
        case=case, user=clerk, missing_materials=["费用清单"], materials_deadline=datetime.date(2025, 9, 15)
    )
    assert case.status == S.ACCEPTED_PENDING and case.missing_materials == ["费用清单"]


@pytest.mark.parametrize(
    ("bill", "message"),
    [
        ({"in_policy": D("50000")}, "政策范围内费用不能大于医疗总费用"),
        ({"basic": D("40000"), "critical": D("6000")}, "支付之和"),
        ({"admitted": datetime.date(2025, 6, 10), "discharged": datetime.date(2025, 6, 1)}, "出院日期早于入院日期"),
        ({"admitted": datetime.date(2023, 1, 1), "discharged": datetime.date(2023, 1, 5)}, "没有有效的救助身份"),
        ({"admitted": datetime.date(2025, 9, 1), "discharged": datetime.date(2025, 9, 2)}, "不能晚于今天"),
    ],
)
def test_bad_bills_are_refused_and_nothing_saved(setting, clerk, bill, message):
    case = case_create(person=setting, user=clerk)
    with pytest.raises(TransitionRefused, match=message):
        case_add_bill(case=case, user=clerk, **inpatient(**bill))
    assert not case.bills.exists()


def test_duplicate_invoice_blocks_approval(setting, clerk, reviewer, approver):
    first = received_case(setting, clerk)
    second = received_case(setting, clerk, admitted=datetime.date(2025, 7, 1), discharged=datetime.date(2025, 7, 5))
    for case in (first, second):
        case_submit(case=case, user=clerk)
        case_review(case=case, user=reviewer)
    with pytest.raises(TransitionRefused, match="发票 F0001"):
        case_approve(case=second, user=approver)
    case_withdraw_second = Case.objects.get(pk=second.pk)
    case_return(case=case_withdraw_second, user=reviewer, reason="重复申请")
    case_withdraw(case=Case.objects.get(pk=second.pk), user=clerk, reason="重复")
    assert case_approve(case=Case.objects.get(pk=first.pk), user=approver).status == S.APPROVED


def test_overlapping_stays_block_approval(setting, clerk, reviewer, approver):
    received_case(setting, clerk)  # a stay 6/1–6/10
    second = received_case(
        setting, clerk, invoice="F0002", admitted=datetime.date(2025, 6, 8), discharged=datetime.date(2025, 6, 20)
    )
    case_submit(case=second, user=clerk)
    case_review(case=second, user=reviewer)
    with pytest.raises(TransitionRefused, match="重叠"):
        case_approve(case=second, user=approver)
    assert Case.objects.get(pk=second.pk).status == S.APPROVAL and not LedgerEntry.objects.exists()


def test_approval_recalculates_against_the_cap_used_since_review(setting, clerk, reviewer, approver):
    case = received_case(setting, clerk)
    case_submit(case=case, user=clerk)
    case_review(case=case, user=reviewer)
    LedgerEntry.objects.create(person=setting, year=2025, pool="住院", granted=D("55000"))
    case = case_approve(case=case, user=approver)
    assert case.approved_amount == D("5000.00")  # only 5,000 of the 60,000 cap was left
    assert LedgerEntry.objects.get(person=setting, year=2025, pool="住院").granted == D("60000.00")


def test_finance_and_supervisor_cannot_submit_and_an_approver_cannot_withdraw(setting, clerk, finance, supervisor):
    case = received_case(setting, clerk)
    for user in (finance, supervisor):
        with pytest.raises(TransitionRefused, match="权限"):
            case_submit(case=case, user=user)
    approver2 = UserFactory(username="approver2", role=Role.APPROVER)
    with pytest.raises(TransitionRefused, match="权限"):
        case_withdraw(case=case, user=approver2, reason="x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_for_one_person_never_pass_the_cap(township, clerk, reviewer):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    LedgerEntry.objects.create(person=person, year=2025, pool="住院", granted=D("50000"))
    cases = []
    for i in range(6):
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=20 * i)
        case = received_case(person, clerk, invoice=f"C{i}", admitted=day, discharged=day + datetime.timedelta(days=5))
        case_submit(case=case, user=clerk)
        cases.append(case_review(case=case, user=reviewer))
    approvers = [UserFactory(username=f"approver{i}", role=Role.APPROVER) for i in range(6)]
    outcomes = []

    def approve(case, user):
        try:
            outcomes.append(case_approve(case=case, user=user).approved_amount)
        except TransitionRefused as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(cases, approvers, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entry = LedgerEntry.objects.get(person=person, year=2025, pool="住院")
    assert entry.granted == D("60000.00")  # 10,000 was left of the 60,000 cap: used exactly, never passed
    approved = sum(a for a in outcomes if isinstance(a, Decimal))
    assert approved == D("10000.00")
    # 9,600 and 400 are approved; the later ones would grant 0.00 and, unconfirmed, are refused and wait.
    assert Case.objects.filter(status=S.APPROVED).count() == 2
    refused = [o for o in outcomes if isinstance(o, str)]
    assert len(refused) == 4 and all("确认以 0 元批准" in o for o in refused)
    assert Case.objects.filter(status=S.APPROVAL).count() == 4


def test_new_applicant_is_received_and_checked_before_review(township, clerk, reviewer, setting):
    from recipients.models import Person
    from tests.factories import valid_id_number

    number = valid_id_number(datetime.date(1960, 4, 4))
    case = cs_new(clerk, number)
    assert case.identity_pending and Person.objects.get(id_number=number).township == township
    # bills can be entered while the identity is not yet on the roster
    case_add_bill(case=case, user=clerk, **inpatient(invoice="N1"))
    case = case_accept(case=case, user=clerk)
    case = case_submit(case=case, user=clerk)
    with pytest.raises(TransitionRefused, match="身份待核实"):
        case_review(case=case, user=reviewer)
    # the roster arrives: the person held DB since January
    IdentityFactory(person=case.person, category="DB", valid_from=datetime.date(2025, 1, 1))
    case = case_review(case=case, user=reviewer)
    assert case.status == S.APPROVAL and not case.identity_pending and case.proposed_amount == D("9600.00")


def test_new_applicant_already_in_registry_is_refused(clerk, setting):
    with pytest.raises(TransitionRefused, match="已在救助对象库中"):
        cs_new(clerk, setting.id_number)


def test_only_a_township_window_registers_new_applicants(reviewer, setting):
    from tests.factories import valid_id_number

    with pytest.raises(TransitionRefused, match="乡镇窗口"):
        cs_new(reviewer, valid_id_number(datetime.date(1961, 5, 5)))


def cs_new(user, number):
    from applications.cases.services import case_create_for_new_person

    return case_create_for_new_person(user=user, id_number=number, name="新申请人", bank_account="6228480000999988887")


# --- found in review ------------------------------------------------------------------------


def test_same_invoice_typed_differently_is_still_a_duplicate(setting, clerk, reviewer, approver):
    first = received_case(setting, clerk)
    second = case_create(person=setting, user=clerk)
    bill = inpatient(invoice=" f０００1 ", admitted=datetime.date(2025, 7, 1), discharged=datetime.date(2025, 7, 5))
    bill["hospital"] = "广州市 第一人民医院"
    case_add_bill(case=second, user=clerk, **bill)
    second = case_accept(case=second, user=clerk)
    for case in (first, second):
        case_submit(case=case, user=clerk)
        case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    with pytest.raises(TransitionRefused, match="发票"):
        case_approve(case=Case.objects.get(pk=second.pk), user=approver)


def test_the_same_invoice_twice_in_one_case_blocks_approval(setting, clerk, reviewer, approver):
    case = case_create(person=setting, user=clerk)
    case_add_bill(case=case, user=clerk, **inpatient())
    case_add_bill(
        case=case, user=clerk, **inpatient(admitted=datetime.date(2025, 7, 1), discharged=datetime.date(2025, 7, 5))
    )
    case_accept(case=case, user=clerk)
    case_submit(case=Case.objects.get(pk=case.pk), user=clerk)
    case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    with pytest.raises(TransitionRefused, match="本案件另一张就诊记录"):
        case_approve(case=Case.objects.get(pk=case.pk), user=approver)


def test_an_outpatient_visit_inside_an_inpatient_stay_blocks_approval(setting, clerk, reviewer, approver):
    received_case(setting, clerk)  # stay 6/1–6/10
    case = case_create(person=setting, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="高州市人民医院",
        visit_type="门诊",
        visit_on=datetime.date(2025, 6, 5),
        invoice_number="M1",
        total=D("500"),
        in_policy=D("400"),
    )
    case_accept(case=case, user=clerk)
    case_submit(case=Case.objects.get(pk=case.pk), user=clerk)
    case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    with pytest.raises(TransitionRefused, match="时间重叠"):
        case_approve(case=Case.objects.get(pk=case.pk), user=approver)


def test_approval_never_grants_more_than_was_reviewed(setting, clerk, reviewer, approver):
    case = received_case(setting, clerk)
    case_submit(case=case, user=clerk)
    case = case_review(case=case, user=reviewer)
    assert case.proposed_amount == D("9600.00")
    IdentityFactory(person=setting, category="TK", valid_from=datetime.date(2025, 1, 1))  # would now give 12,000
    with pytest.raises(TransitionRefused, match="请退回重新审核"):
        case_approve(case=case, user=approver)
    assert not LedgerEntry.objects.exists()


def test_bills_past_the_claim_deadline_block_approval(setting, clerk, reviewer, approver):
    from applications.models import PolicyVersion

    PolicyVersion.objects.update(claim_deadline_days=60)
    case = received_case(setting, clerk)  # discharged 6/10, accepted 9/1: 83 days
    case_submit(case=case, user=clerk)
    case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    with pytest.raises(TransitionRefused, match="超过申请期限"):
        case_approve(case=Case.objects.get(pk=case.pk), user=approver)


def test_acceptance_notes_a_deadline_in_a_year_without_a_holiday_calendar(setting, clerk):
    with time_machine.travel(datetime.datetime(2026, 12, 15, 10, 0, tzinfo=datetime.UTC), tick=False):
        case = received_case(setting, clerk)
    note = CaseTransition.objects.get(case=case, to_status=S.ACCEPTED).comment
    assert "2027 年的法定节假日尚未录入" in note


def test_an_earlier_reviewer_cannot_approve_after_a_return(setting, clerk, reviewer, township):
    case = received_case(setting, clerk)
    case_submit(case=case, user=clerk)
    case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    case_return(case=Case.objects.get(pk=case.pk), user=reviewer, reason="补费用清单")
    case_submit(case=Case.objects.get(pk=case.pk), user=clerk)
    second_reviewer = UserFactory(username="reviewer2", role=Role.REVIEWER)
    case_review(case=Case.objects.get(pk=case.pk), user=second_reviewer)
    reviewer.role = Role.APPROVER
    reviewer.save()
    former = type(reviewer).objects.get(pk=reviewer.pk)
    with pytest.raises(TransitionRefused, match="不能审批本案件"):
        case_approve(case=Case.objects.get(pk=case.pk), user=former)
