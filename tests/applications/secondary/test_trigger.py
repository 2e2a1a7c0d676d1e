"""The 二次救助 trigger: yearly burdens, the cases it proposes, re-runs, approval."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from applications.cases.services import case_accept, case_add_bill, case_approve, case_create, case_review, case_submit
from applications.cases.workflow import TransitionRefused
from applications.models import Case, Job, Lead, LedgerEntry, YearlyBurden
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now
from applications.secondary.burden import yearly_burdens
from applications.secondary.services import secondary_now
from tests.applications.cases.queue import approve_through_queue
from tests.factories import IdentityFactory, PersonFactory, settle

D = Decimal
TODAY = datetime.datetime(2025, 12, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def maoming(township):
    policy_load_preset(name="maoming-2018", county=township.county)


def person_with(township, category, since=datetime.date(2024, 1, 1), until=None):
    p = PersonFactory(township=township)
    IdentityFactory(person=p, category=category, valid_from=since, valid_to=until)
    return p


def burden_of(person, amount, *, day=datetime.date(2025, 5, 1)):
    """A one-stop stay leaving `amount` to pay after insurance and one-stop assistance: R − A0 = amount."""
    total = amount + D("10000")
    return settle(
        person,
        day=day,
        total=total,
        in_policy=D("9000"),
        basic=D("6000"),
        critical=D("0"),
        onestop=D("2000") if amount else D("0"),
    )


def secondary_case(person):
    return Case.objects.get(person=person, source=Case.Source.SECONDARY)


def test_maoming_db_10000_gives_5600_and_tk_10000_gives_10000(maoming, township):
    db = person_with(township, "DB")
    tk = person_with(township, "TK")
    burden_of(db, D("8000"))  # R = 18,000 − 6,000 = 12,000, minus 2,000 one-stop = 10,000
    burden_of(tk, D("8000"))
    job = secondary_now(year=2025)
    assert job.status == Job.Status.DONE and job.created == 2
    case = secondary_case(db)
    assert case.status == Case.Status.APPROVAL and case.year == 2025
    assert case.proposed_amount == D("5600.00")  # (10,000 − 3,000) × 80 %
    assert case.calculation[0]["steps"] and case.calculation[0]["burden"] == "10000.00"
    assert secondary_case(tk).proposed_amount == D("10000.00")
    assert YearlyBurden.objects.get(person=db, year=2025).burden == D("10000.00")


def test_rerunning_creates_nothing_new(maoming, township):
    db = person_with(township, "DB")
    burden_of(db, D("8000"))
    secondary_now(year=2025)
    job = secondary_now(year=2025)
    assert (job.created, job.updated) == (0, 0)
    assert Case.objects.filter(source=Case.Source.SECONDARY).count() == 1


def test_approval_posts_the_ledger_and_a_higher_burden_proposes_only_the_difference(maoming, township, approver):
    db = person_with(township, "DB")
    burden_of(db, D("8000"))
    secondary_now(year=2025)
    case = case_approve(case=secondary_case(db), user=approver)
    assert case.approved_amount == D("5600.00")
    assert LedgerEntry.objects.get(person=db, year=2025, pool=LedgerEntry.SECONDARY).granted == D("5600.00")
    burden_of(db, D("3000"), day=datetime.date(2025, 9, 1))  # 5,000 more burden: due (15,000 − 3,000) × 80 %
    secondary_now(year=2025)
    top_up = Case.objects.get(person=db, source=Case.Source.SECONDARY, status=Case.Status.APPROVAL)
    assert top_up.proposed_amount == D("4000.00")  # 9,600 − 5,600
    assert secondary_now(year=2025).created == 0


def test_the_cap_holds_across_runs(maoming, township, approver):
    db = person_with(township, "DB")
    burden_of(db, D("38000"))  # burden 40,000: (40,000 − 3,000) × 80 % = 29,600
    secondary_now(year=2025)
    case_approve(case=secondary_case(db), user=approver)
    burden_of(db, D("10000"), day=datetime.date(2025, 10, 1))
    secondary_now(year=2025)
    top_up = Case.objects.get(person=db, source=Case.Source.SECONDARY, status=Case.Status.APPROVAL)
    assert top_up.proposed_amount == D("400.00")  # cap 30,000
    case_approve(case=top_up, user=approver)
    assert LedgerEntry.objects.get(person=db, year=2025, pool=LedgerEntry.SECONDARY).granted == D("30000.00")
    burden_of(db, D("10000"), day=datetime.date(2025, 11, 1))
    assert secondary_now(year=2025).created == 0


def test_jiangmen_style_trigger_pays_nothing_below_and_the_whole_band_above(township):
    from applications.models import PolicyVersion, SecondaryRule

    policy_load_preset(name="maoming-2018", county=township.county)
    version = PolicyVersion.objects.get()
    SecondaryRule.objects.filter(version=version, category="DB").update(
        trigger=D("2000"), deductible=D("0"), bands=[{"upto": None, "ratio": "0.7"}], cap=None
    )
    below, above = person_with(township, "DB"), person_with(township, "DB")
    burden_of(below, D("-200"))  # burden 1,800
    burden_of(above, D("500"))  # burden 2,500
    secondary_now(year=2025)
    assert not Case.objects.filter(person=below, source=Case.Source.SECONDARY).exists()
    assert secondary_case(above).proposed_amount == D("1750.00")  # 2,500 × 70 %, no deductible


def test_category_changing_mid_year_takes_the_most_favourable(maoming, township):
    p = person_with(township, "DB", until=datetime.date(2025, 6, 30))
    IdentityFactory(person=p, category="TK", valid_from=datetime.date(2025, 7, 1))
    burden_of(p, D("4000"), day=datetime.date(2025, 3, 1))
    burden_of(p, D("4000"), day=datetime.date(2025, 9, 1))
    secondary_now(year=2025)
    assert secondary_case(p).proposed_amount == D("12000.00")  # TK: 100 % of 12,000, no deductible


def test_a_settlement_outside_every_identity_window_does_not_count(maoming, township):
    p = person_with(township, "DB", since=datetime.date(2025, 6, 1))
    burden_of(p, D("8000"), day=datetime.date(2025, 3, 1))
    secondary_now(year=2025)
    assert not Case.objects.filter(source=Case.Source.SECONDARY).exists()


def test_one_stop_settlements_and_an_approved_case_add_up_each_counted_once(
    maoming, township, clerk, reviewer, approver
):
    p = person_with(township, "DB")
    burden_of(p, D("3000"))  # 5,000 after one-stop
    s = settle(p, day=datetime.date(2025, 7, 10))  # Taishan stay: R = 16,000, E = 12,000 → 9,600 first round
    case = case_create(person=p, user=clerk)
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
    case = case_review(case=case_submit(case=case_accept(case=case, user=clerk), user=clerk), user=reviewer)
    assert yearly_burdens(year=2025)[p.pk].pending == 1  # the stay waits while the case is under way
    case_approve(case=case, user=approver)
    b = yearly_burdens(year=2025)[p.pk]
    assert (b.items, b.pending, b.burden) == (2, 0, D("5000") + D("16000") - D("9600"))


def test_a_pending_lead_holds_its_settlement_back(maoming, township):
    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    settle(p, day=datetime.date(2025, 7, 10))  # eligible, never assisted: a lead
    crosscheck_now()
    assert Lead.objects.filter(person=p, status=Lead.Status.OPEN).exists()
    b = yearly_burdens(year=2025)[p.pk]
    assert (b.items, b.pending, b.burden) == (1, 1, D("10000.00"))


def test_a_lower_recomputation_flags_the_approved_case_and_is_never_negative(maoming, township, approver):
    p = person_with(township, "DB")
    s = burden_of(p, D("8000"))
    secondary_now(year=2025)
    approved = case_approve(case=secondary_case(p), user=approver)
    s.total = D("12000")  # the platform corrected the extract: burden now 4,000
    s.save()
    job = secondary_now(year=2025)
    approved.refresh_from_db()
    assert "低于已救助" in approved.review_flag and job.reopened == 1  # flagged
    assert not Case.objects.filter(person=p, source=Case.Source.SECONDARY, status=Case.Status.APPROVAL).exists()
    assert LedgerEntry.objects.get(person=p, year=2025, pool=LedgerEntry.SECONDARY).granted == D("5600.00")


def test_a_proposal_no_longer_due_is_withdrawn(maoming, township):
    p = person_with(township, "DB")
    s = burden_of(p, D("8000"))
    secondary_now(year=2025)
    s.total = D("11000")  # burden 3,000: nothing due
    s.save()
    job = secondary_now(year=2025)
    assert job.closed == 1 and secondary_case(p).status == Case.Status.WITHDRAWN


def test_approval_never_grants_more_than_proposed_or_twice(maoming, township, approver):
    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    secondary_now(year=2025)
    case = secondary_case(p)
    burden_of(p, D("5000"), day=datetime.date(2025, 9, 1))  # more burden since the proposal
    case = case_approve(case=case, user=approver)
    assert case.approved_amount == D("5600.00")
    with pytest.raises(TransitionRefused):
        case_approve(case=case, user=approver)


def test_approving_a_first_round_case_queues_the_persons_recompute(
    maoming, township, clerk, reviewer, approver, django_capture_on_commit_callbacks, eager_tasks
):
    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    case = case_create(person=p, user=clerk)
    case_add_bill(
        case=case,
        user=clerk,
        hospital="医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 8, 1),
        discharged_on=datetime.date(2025, 8, 5),
        invoice_number="F9",
        total=D("5000"),
        in_policy=D("4000"),
        basic=D("2000"),
    )
    case = case_review(case=case_submit(case=case_accept(case=case, user=clerk), user=clerk), user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        case_approve(case=case, user=approver)
    job = Job.objects.get(kind=Job.Kind.SECONDARY)
    assert job.people_ids == [p.pk] and job.status == Job.Status.DONE
    # burden 10,000 + (5,000 − 2,000 − 1,600 first round) = 11,400 → (11,400 − 3,000) × 80 %
    assert secondary_case(p).proposed_amount == D("6720.00")


def test_the_secondary_assistance_command_prints_a_summary(maoming, township, capsys):
    burden_of(person_with(township, "DB"), D("8000"))
    call_command("secondary_assistance", "--year", "2025")
    assert "二次救助测算完成" in capsys.readouterr().out


# --- pages ---------------------------------------------------------------------------------------


def test_secondary_list_and_export_masked_for_the_approver(client, maoming, township, approver):
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    secondary_now(year=2025)
    client.force_login(approver)
    page = client.get(reverse("applications:secondary_list"), {"year": 2025})
    assert page.status_code == 200 and secondary_case(p).number in page.content.decode()
    rows = list(
        load_workbook(
            io.BytesIO(client.get(reverse("applications:secondary_export"), {"year": 2025}).content)
        ).active.values
    )
    assert rows[0][0] == "案件编号" and rows[0][3] == "身份证号"
    assert rows[1][3] != p.id_number and "*" in rows[1][3]
    assert rows[1][6] == 10000 and rows[1][7] == 3000 and rows[1][10] == 5600 and rows[1][11] == "待审批"


def test_export_secondary_command_writes_full_ids(tmp_path, maoming, township):
    from openpyxl import load_workbook

    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    secondary_now(year=2025)
    out = tmp_path / "s.xlsx"
    call_command("export_secondary", str(out), "--year", "2025")
    assert list(load_workbook(out).active.values)[1][3] == p.id_number


def test_warning_list_shows_people_close_to_the_threshold_scoped_to_the_township(
    client, maoming, township, other_township, clerk
):
    from django.urls import reverse

    near = person_with(township, "DB")
    burden_of(near, D("500"))  # burden 2,500: 500 below the 3,000 deductible
    far = person_with(township, "DB")
    burden_of(far, D("-1000"))  # burden 1,000
    elsewhere = person_with(other_township, "DB")
    burden_of(elsewhere, D("600"))
    secondary_now(year=2025)
    client.force_login(clerk)
    page = client.get(reverse("applications:warning_list"), {"year": 2025, "distance": 1000})
    text = page.content.decode()
    assert near.name in text and far.name not in text and elsewhere.name not in text
    page = client.get(reverse("applications:warning_list"), {"year": 2025, "distance": 2500})
    assert far.name in page.content.decode()
    export = client.get(reverse("applications:warning_export"), {"year": 2025})
    assert export.status_code == 200


def test_approver_bulk_approves_secondary_cases(client, maoming, township, approver):
    from django.urls import reverse

    people = [person_with(township, "DB") for _ in range(3)]
    for p in people:
        burden_of(p, D("8000"))
    secondary_now(year=2025)
    client.force_login(approver)
    queue = client.get(reverse("applications:approval_queue"), {"source": "secondary"})
    assert queue.status_code == 200 and "系统测算" in queue.content.decode()
    ids = [secondary_case(p).pk for p in people]
    approve_through_queue(client, ids, query="source=secondary")
    assert Case.objects.filter(pk__in=ids, status=Case.Status.APPROVED).count() == 3
    assert sum(e.granted for e in LedgerEntry.objects.filter(pool=LedgerEntry.SECONDARY)) == D("16800.00")


def test_the_case_page_of_a_secondary_case_shows_its_calculation_and_flag(client, maoming, township, approver):
    from django.urls import reverse

    p = person_with(township, "DB")
    s = burden_of(p, D("8000"))
    secondary_now(year=2025)
    approved = case_approve(case=secondary_case(p), user=approver)
    s.total = D("12000")
    s.save()
    secondary_now(year=2025)
    client.force_login(approver)
    text = client.get(reverse("applications:case_detail", args=[approved.pk])).content.decode()
    assert "二次救助测算" in text and "低于已救助" in text and "就诊记录</h2>" not in text


def test_bands_pay_each_slice_at_its_own_ratio(township):
    from applications.models import PolicyVersion, SecondaryRule

    policy_load_preset(name="maoming-2018", county=township.county)
    SecondaryRule.objects.filter(version=PolicyVersion.objects.get(), category="DB").update(
        trigger=D("0"),
        deductible=D("3000"),
        bands=[{"upto": "10000", "ratio": "0.7"}, {"upto": None, "ratio": "0.8"}],
        cap=D("30000"),
    )
    p = person_with(township, "DB")
    burden_of(p, D("13000"))  # burden 15,000: 12,000 over the deductible
    secondary_now(year=2025)
    assert secondary_case(p).proposed_amount == D("8600.00")  # 10,000 × 70 % + 2,000 × 80 %


def test_a_proposal_is_withdrawn_when_the_person_drops_out_entirely(maoming, township):
    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    secondary_now(year=2025)
    p.identities.update(valid_from=datetime.date(2025, 11, 1))  # the identity was recognised later after all
    secondary_now(year=2025)
    assert secondary_case(p).status == Case.Status.WITHDRAWN


def test_a_returned_secondary_case_is_reviewed_on_its_yearly_figure(maoming, township, reviewer):
    from applications.cases.services import case_return

    p = person_with(township, "DB")
    burden_of(p, D("8000"))
    secondary_now(year=2025)
    case = case_return(case=secondary_case(p), user=reviewer, reason="核对负担")
    Case.objects.filter(pk=case.pk).update(status=Case.Status.REVIEW)
    case = case_review(case=Case.objects.get(pk=case.pk), user=reviewer)
    assert case.proposed_amount == D("5600.00") and case.calculation[0]["kind"] == "secondary"
