"""Hostile text in every name-like field (person, township, village, hospital, policy, batch summary, notes) is
shown escaped on every page, no page carries inline script or inline event handlers, and every page is sent with
a Content-Security-Policy that forbids inline script: a township renamed `</script><script>…` in 系统管理 ran in every
supervisor's dashboard."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications.cases.services import case_accept, case_add_bill, case_approve, case_create, case_review, case_submit
from applications.models import Case, Lead, PolicyVersion
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now
from applications.secondary.services import secondary_now
from followups.calls import Result, call_record
from followups.plans import plan_create, plan_scope
from monitoring.models import Threshold
from monitoring.run import monitoring_now
from payouts import services as payouts
from recipients.models import Township, Village
from reports.facts import refresh_facts
from subsidies.listing import build_list
from subsidies.models import SubsidyEntry
from subsidies.services import subsidy_rules_load_preset
from supervision.models import Reason
from supervision.recoveries import recovery_create
from tests.factories import ApprovedCaseFactory, IdentityFactory, PersonFactory, UserFactory, settle

# Short enough for a 50-character name with a two-character prefix.
HOSTILE = "</script><script>alert(1)</script>\"'<img src=x>"
SCRIPT_TAG = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+)\s*=\s*[\"']", re.I)
NOW = datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def hostile_county(db, township, village, clerk, reviewer, approver, finance):
    Township.objects.filter(pk=township.pk).update(name=f"石鼓{HOSTILE}")
    Village.objects.filter(pk=village.pk).update(name=f"石鼓村{HOSTILE}")
    version, _ = policy_load_preset(name="maoming-2018", county=township.county)
    PolicyVersion.objects.filter(pk=version.pk).update(name=f"茂名{HOSTILE}", notes=HOSTILE)
    township.refresh_from_db()
    person = PersonFactory(township=township, village_id=village.pk, name=f"张{HOSTILE}")
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    stay = settle(person)
    type(stay).objects.filter(pk=stay.pk).update(hospital=f"医院{HOSTILE}"[:100], diagnosis=HOSTILE)
    with time_machine.travel(NOW, tick=False):
        crosscheck_now(reason=HOSTILE[:50])
        case = case_create(person=person, user=clerk)
        case_add_bill(
            case=case,
            user=clerk,
            hospital=f"医院{HOSTILE}",
            visit_type="住院",
            admitted_on=datetime.date(2025, 7, 1),
            discharged_on=datetime.date(2025, 7, 10),
            invoice_number=f"F{HOSTILE}"[:50],
            total=Decimal("42000"),
            in_policy=Decimal("38000"),
            basic=Decimal("20000"),
            critical=Decimal("6000"),
            diagnosis=HOSTILE[:100],
        )
        case_accept(case=case, user=clerk)
        case_submit(case=case, user=clerk, comment=HOSTILE)
        case_review(case=case, user=reviewer, comment=HOSTILE)
        case_approve(case=case, user=approver, comment=HOSTILE)
        secondary_now(reason=HOSTILE[:50])
        batch = payouts.batch_create(user=finance, purpose=f"救助{HOSTILE}"[:50])
        refresh_facts(year=2025)
        # A follow-up of a line the bank paid, whose call found the money missing: a plan, a call, a ticket.
        batch.lines.update(status="paid", resolved_at=NOW)
        plan = plan_create(user=None, scope=plan_scope(user=None, batch=batch), method="all", note=HOSTILE)
        call, ticket = call_record(call=plan.calls.first(), user=clerk, result=Result(receipt="missing", note=HOSTILE))
        Threshold.objects.create(county=township.county, year=2025, population="registry", amount=Decimal("1000"))
        monitoring_now(month=datetime.date(2025, 9, 1))
        # 资助参保: the year's list names the person; 基金监管: a recovery on a paid case, its note hostile.
        rules, _ = subsidy_rules_load_preset(
            name="jiangmen-2022", county=township.county, year=2025, premium=Decimal("380"), activate=True
        )
        build_list(rules)
        paid = ApprovedCaseFactory(person=person, township=township, status=Case.Status.PAID)
        recovery = recovery_create(case=paid, user=reviewer, reason=Reason.OTHER, amount=Decimal("100"), note=HOSTILE)
    return {
        "person": person,
        "case": Case.objects.filter(source=Case.Source.WINDOW).exclude(status=Case.Status.PAID).get(),
        "batch": batch,
        "plan": plan,
        "call": call,
        "ticket": ticket,
        "rules": rules,
        "recovery": recovery,
    }


def pages(objects):
    person, case, batch = objects["person"], objects["case"], objects["batch"]
    lead = Lead.objects.first()
    policy = PolicyVersion.objects.get()
    yield reverse("home")
    yield reverse("recipients:person_list") + "?q=张"
    yield reverse("recipients:person_detail", args=[person.pk])
    yield reverse("recipients:import_list")
    yield reverse("settlements:hospital_list")
    yield reverse("audit:event_list")
    yield reverse("payouts:batch_list")
    yield reverse("payouts:batch_detail", args=[batch.pk])
    yield reverse("payouts:line_search") + "?q=张"
    yield reverse("reports:dashboard") + "?year=2025"
    yield reverse("applications:policy_list")
    yield reverse("applications:policy_detail", args=[policy.pk])
    yield reverse("applications:calculator")
    yield reverse("applications:lead_list") + "?status=&year=2025"
    if lead is not None:
        yield reverse("applications:lead_detail", args=[lead.pk])
    yield reverse("applications:secondary_list") + "?year=2025"
    yield reverse("applications:warning_list") + "?year=2025&distance=100000"
    yield reverse("applications:job_list")
    yield reverse("monitoring:listing_list") + "?month=2025-09"
    yield reverse("monitoring:zb_list")
    yield reverse("applications:case_list")
    yield reverse("applications:approval_queue")
    yield reverse("applications:case_detail", args=[case.pk])
    yield reverse("applications:case_notice", args=[case.pk])
    yield reverse("applications:case_print", args=[case.pk])
    plan, call = objects["plan"], objects["call"]
    yield reverse("followups:plan_list")
    yield reverse("followups:plan_detail", args=[plan.pk])
    yield reverse("followups:call_list", args=[plan.pk, call.township_id])
    yield reverse("followups:call_detail", args=[call.pk])
    yield reverse("followups:ticket_list")
    yield reverse("followups:ticket_detail", args=[objects["ticket"].pk])
    yield reverse("followups:ticket_new") + f"?person={person.pk}"
    yield reverse("followups:import_list")
    entry = SubsidyEntry.objects.get(person=person)
    yield reverse("subsidies:entry_list") + "?year=2025"
    yield reverse("subsidies:entry_detail", args=[entry.pk])
    yield reverse("subsidies:rules_list")
    yield reverse("subsidies:rules_detail", args=[objects["rules"].pk])
    yield reverse("supervision:recovery_list")
    yield reverse("supervision:recovery_detail", args=[objects["recovery"].pk])
    yield reverse("supervision:suggestion_list")
    yield reverse("supervision:sample_list")
    yield reverse("admin:recipients_township_changelist")
    yield reverse("admin:recipients_township_change", args=[case.township_id])


def test_every_page_escapes_hostile_names_and_carries_no_inline_script(client, hostile_county):
    root = UserFactory(username="root", role="admin", is_superuser=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    checked = 0
    for url in pages(hostile_county):
        response = client.get(url, secure=False)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert HOSTILE not in html and "<script>alert(1)" not in html and "<img src=x>" not in html, url
        assert not SCRIPT_TAG.search(html), (url, SCRIPT_TAG.search(html).group(0))
        handler = HANDLER.search(html)
        assert handler is None, (url, handler.group(0)[:120])
        policy = response["Content-Security-Policy"]
        script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert "unsafe-inline" not in script and "'self'" in script, url
        assert response["Permissions-Policy"].startswith("camera=()")
        checked += 1
    assert checked >= 43
