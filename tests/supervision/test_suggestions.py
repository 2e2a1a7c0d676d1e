"""Recoveries the imports suggest: a paid bill outside every identity window the person now has (after a roster
import), a paid 零星 stay since seen assisted one-stop (after a settlement import); in the reviewer's queue with the
evidence, never a recovery by themselves, never raised twice for the same evidence."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from recipients.models import Identity, RosterImport
from recipients.signals import roster_applied
from settlements.models import SettlementImport
from settlements.signals import settlements_applied
from supervision.models import Reason, Recovery, Suggestion
from supervision.recoveries import RecoveryRefused, recovery_create
from supervision.suggestions import suggest, suggestion_confirm, suggestion_dismiss
from tests.conftest import client_for
from tests.factories import settle

from .conftest import STAY, paid_case

D = Decimal
R = Suggestion.Rule


def end_identity(case, day):
    Identity.objects.filter(person=case.person).update(valid_to=day)


def test_an_identity_ended_before_the_stay_suggests_recovering_the_bill(paid):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    counts = suggest(rules=[R.IDENTITY], found_by="名册导入 #1")
    assert counts.created[R.IDENTITY] == 1 and counts.amount == D("9600.00") and counts.open == 1
    suggestion = Suggestion.objects.get()
    assert (suggestion.case, suggestion.rule, suggestion.amount, suggestion.status) == (
        paid,
        R.IDENTITY,
        D("9600.00"),
        "open",
    )
    evidence = suggestion.evidence[0]
    assert evidence["service_date"] == "2026-06-10" and "2025-01-01～2026-06-09" in evidence["windows"][0]
    assert not Recovery.objects.exists()  # nothing recovered silently
    assert AuditEvent.objects.filter(action="suggestion.create", object_id=str(suggestion.pk)).exists()
    assert "身份已不覆盖就诊日期 1 条" in counts.summary()


def test_an_identity_still_covering_the_stay_suggests_nothing(paid):
    end_identity(paid, STAY)  # the last day is inside the window
    assert sum(suggest(rules=[R.IDENTITY]).created.values()) == 0


def test_a_one_stop_settlement_of_the_same_stay_suggests_the_smaller_of_grant_and_a0(paid):
    person = paid.person
    settle(person, day=STAY, onestop=D("3000"))  # overlapping stay of the same person, assisted one-stop
    counts = suggest(rules=[R.DUPLICATE])
    suggestion = Suggestion.objects.get(rule=R.DUPLICATE)
    assert counts.created[R.DUPLICATE] == 1 and suggestion.amount == D("3000.00")
    assert suggestion.evidence[0]["settlements"][0]["onestop"] == "3000.00"
    assert suggestion.reason == Reason.DUPLICATE


def test_an_outpatient_visit_at_another_hospital_the_same_day_is_another_cost(
    maoming, township, clerk, reviewer, approver
):
    from .conftest import db_person

    case = paid_case(
        db_person(township),
        clerk=clerk,
        reviewer=reviewer,
        approver=approver,
        visit_type="门诊",
        total=D("6000"),
        in_policy=D("6000"),
        basic=D("1000"),
        critical=D("0"),
    )
    settle(
        case.person,
        day=STAY,
        visit_type="门诊",
        onestop=D("500"),
        total=D("800"),
        in_policy=D("800"),
        basic=D("100"),
        critical=D("0"),
    )
    assert sum(suggest(rules=[R.DUPLICATE]).created.values()) == 0  # 广州医科大学附属第一医院 ≠ 高州市人民医院


def test_re_running_updates_never_duplicates_and_a_dismissal_stands(paid, reviewer):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    suggest()
    again = suggest()
    assert sum(again.created.values()) == 0 and again.updated == 0 and Suggestion.objects.count() == 1
    suggestion = Suggestion.objects.get()
    with pytest.raises(RecoveryRefused, match="不予追回须写明理由"):
        suggestion_dismiss(suggestion=suggestion, user=reviewer, note="")
    suggestion_dismiss(suggestion=suggestion, user=reviewer, note="民政已更正身份，追溯有效")
    assert sum(suggest().created.values()) == 0  # the same evidence is not raised again
    settle(paid.person, day=STAY, onestop=D("3000"))  # new evidence, another rule: raised
    assert suggest().created[R.DUPLICATE] == 1


def test_confirming_registers_the_recovery_capped_by_what_the_case_can_still_give_back(paid, reviewer):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    recovery_create(case=paid, user=reviewer, reason=Reason.CALCULATION, amount=D("1600"), note="另案")
    suggest()
    suggestion = Suggestion.objects.get()
    assert suggestion.amount == D("8000.00")  # 9,600 paid, 1,600 already registered
    with pytest.raises(RecoveryRefused, match="最多还可登记 8,000.00 元"):
        suggestion_confirm(suggestion=suggestion, user=reviewer, amount=D("8000.01"))
    recovery = suggestion_confirm(suggestion=suggestion, user=reviewer, amount=D("8000"))
    assert recovery.reason == Reason.IDENTITY and "不在现有救助身份期间内" in recovery.note
    suggestion.refresh_from_db()
    assert suggestion.status == "confirmed" and suggestion.recovery == recovery
    assert sum(suggest().created.values()) == 0  # nothing left to recover on the case


def test_imports_queue_the_rules_once_they_commit(paid, django_capture_on_commit_callbacks, eager_tasks):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    settle(paid.person, day=STAY, onestop=D("3000"))
    roster = RosterImport.objects.create(file_name="x.csv", file_hash="0" * 64, file_size=1, source="MZ", status="done")
    with django_capture_on_commit_callbacks(execute=True):
        roster_applied.send(sender=RosterImport, record=roster, changed=True)
    assert list(Suggestion.objects.values_list("rule", "found_by")) == [(R.IDENTITY, f"名册导入 #{roster.pk}")]
    record = SettlementImport.objects.create(file_name="s.csv", file_hash="1" * 64, file_size=1, status="done")
    with django_capture_on_commit_callbacks(execute=True):
        settlements_applied.send(sender=SettlementImport, record=record, changed=True, person_ids=[paid.person_id])
    assert Suggestion.objects.filter(rule=R.DUPLICATE, found_by=f"结算数据导入 #{record.pk}").exists()


def test_the_command_prints_a_summary(paid, capsys):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    call_command("suggest_recoveries", "--year", "2026")
    assert "追回建议：新增 1 条" in capsys.readouterr().out
    call_command("suggest_recoveries", "--year", "2025")
    out = capsys.readouterr().out
    assert "新增 0 条" in out and "待确认共 1 条" in out


def test_the_reviewer_confirms_from_the_queue_and_a_clerk_cannot_see_it(client, paid, reviewer, clerk):
    end_identity(paid, STAY - datetime.timedelta(days=1))
    suggest()
    suggestion = Suggestion.objects.get()
    client_for(client, reviewer)
    page = client.get(reverse("supervision:suggestion_list")).text
    assert paid.number in page and "9,600.00 元" in page and paid.person.id_number not in page
    detail = client.get(reverse("supervision:suggestion_detail", args=[suggestion.pk])).text
    assert "2025-01-01～2026-06-09" in detail and "data-confirm" in detail
    response = client.post(
        reverse("supervision:suggestion_detail", args=[suggestion.pk]),
        {"amount": "9600.00", "note": "民政名册更正后身份不覆盖住院日期"},
        follow=True,
    )
    assert "已登记追回" in response.text and Recovery.objects.get().reason == Reason.IDENTITY
    assert client_for(client, clerk).get(reverse("supervision:suggestion_list")).status_code == 403
