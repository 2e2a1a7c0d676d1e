"""Recoveries the imports suggest (DOMAIN §12.2): never created silently, they wait in a reviewer's queue with their
evidence.

- after a roster import: a paid case's bill whose service date lies outside every identity window the person now
  has (an identity ended, or corrected, after the payment) → 身份不符 for what the bill was granted;
- after a settlement import: a paid 零星 bill for a stay or visit the hospital now shows assisted one-stop
  (A0 > 0; matched by settlement number, or the person's overlapping stay, or the same visit day and hospital
  as the review's duplicate check) → 重复享受 for the smaller of the bill's grant and A0.

Each rule is one query over the paid bills (of a county, of a year); a suggestion is kept per case and rule, its
evidence keyed by the bills and settlements it names, so that a re-run updates an open one and never raises again
what a reviewer dismissed. What a case can still be asked to give back (paid − recoveries registered) caps it.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from applications.cases.recovered import recoverable
from applications.models import Bill, Case
from applications.models.cases import normalized_key
from audit.services import audit_record, audit_record_many
from lib.chunks import chunks
from recipients.models import Person, Township
from recipients.selectors import IDENTITY_TABLE, identity_valid_sql
from settlements.models import Settlement
from settlements.visits import INPATIENT, service_date_sql

from .models import Recovery, Suggestion
from .recoveries import RecoveryRefused, recovery_create, require

ZERO = Decimal("0")
R = Suggestion.Rule
BILLS, CASES = Bill._meta.db_table, Case._meta.db_table
PERSONS, TOWNSHIPS, SETTLEMENTS = Person._meta.db_table, Township._meta.db_table, Settlement._meta.db_table
DAY = service_date_sql("b")

_PAID_BILLS = f"""
FROM {BILLS} b
JOIN {CASES} c ON c.id = b.case_id
JOIN {PERSONS} p ON p.id = c.person_id
JOIN {TOWNSHIPS} t ON t.id = c.township_id
WHERE c.status = 'paid' AND c.source <> 'secondary' AND COALESCE(b.granted, 0) > b.recovered
  {{scope}}
"""
_OUTSIDE_EVERY_WINDOW = f"""
SELECT b.id {_PAID_BILLS}
  AND NOT EXISTS (SELECT 1 FROM {IDENTITY_TABLE} i WHERE i.person_id = c.person_id AND {identity_valid_sql("i", DAY)})
"""
_ASSISTED_ONE_STOP = f"""
SELECT b.id, s.number
FROM {BILLS} b
JOIN {CASES} c ON c.id = b.case_id
JOIN {PERSONS} p ON p.id = c.person_id
JOIN {TOWNSHIPS} t ON t.id = c.township_id
JOIN {SETTLEMENTS} s ON s.id_number = p.id_number AND s.onestop > 0
WHERE c.status = 'paid' AND c.source <> 'secondary' AND COALESCE(b.granted, 0) > b.recovered
  AND ((b.settlement_number <> '' AND s.number = b.settlement_number)
       OR (b.visit_type = '{INPATIENT}' AND s.visit_type = '{INPATIENT}'
           AND s.admitted_on <= b.discharged_on AND s.discharged_on >= b.admitted_on)
       OR (b.visit_type <> '{INPATIENT}' AND s.visit_type = b.visit_type AND s.visit_on = b.visit_on))
  {{scope}}
"""


@dataclass
class SuggestCounts:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: int = 0
    amount: Decimal = ZERO
    open: int = 0

    def summary(self) -> str:
        made = "，".join(f"{R(rule).label} {n:,} 条" for rule, n in sorted(self.created.items()) if n)
        total = sum(self.created.values())
        return (
            f"追回建议：新增 {total:,} 条{f'（{made}）' if made else ''}，更新 {self.updated:,} 条，"
            f"建议追回 {self.amount:,.2f} 元；待确认共 {self.open:,} 条"
        )


def _scope(county_id: int | None, year: int | None) -> tuple[str, list]:
    sql, params = "", []
    if county_id is not None:
        sql += " AND t.county_id = %s"
        params.append(county_id)
    if year is not None:
        sql += f" AND {DAY} >= %s AND {DAY} < %s"
        params += [datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)]
    return sql, params


def _rows(query: str, county_id, year) -> list[tuple]:
    scope, params = _scope(county_id, year)
    with connection.cursor() as cursor:
        cursor.execute(query.format(scope=scope), params)
        return cursor.fetchall()


def identity_findings(*, county_id=None, year=None) -> dict[int, list[dict]]:
    """Paid bills outside every identity window the person now has, by case: the bill and the windows as they
    stand."""
    ids = [row[0] for row in _rows(_OUTSIDE_EVERY_WINDOW, county_id, year)]
    found: dict[int, list[dict]] = defaultdict(list)
    for chunk in chunks(ids, 1000):
        for bill in Bill.objects.filter(pk__in=chunk).select_related("case__person"):
            windows = [
                f"{i.get_category_display()} {i.valid_from}～{i.valid_to or '至今'}"
                for i in bill.case.person.identities.order_by("valid_from")
            ]
            found[bill.case_id].append(
                {
                    "bill": bill.pk,
                    "invoice": bill.invoice_number,
                    "hospital": bill.hospital,
                    "service_date": bill.service_date.isoformat(),
                    "granted": str(bill.granted),
                    "recovered": str(bill.recovered),
                    "suggested": str(bill.granted - bill.recovered),
                    "windows": windows or ["（已无任何救助身份）"],
                }
            )
    return found


def duplicate_findings(*, county_id=None, year=None) -> dict[int, list[dict]]:
    """Paid 零星 bills whose stay or visit a settlement shows assisted one-stop, by case."""
    pairs = _rows(_ASSISTED_ONE_STOP, county_id, year)
    bills = {}
    for chunk in chunks(sorted({b for b, _ in pairs}), 1000):
        bills.update(Bill.objects.filter(pk__in=chunk).in_bulk())
    settlements = {}
    for chunk in chunks(sorted({s for _, s in pairs}), 1000):
        settlements.update({s.number: s for s in Settlement.objects.filter(number__in=chunk)})
    by_bill: dict[int, list[Settlement]] = defaultdict(list)
    for bill_id, number in pairs:
        bill, s = bills[bill_id], settlements[number]
        linked = bill.settlement_number and bill.settlement_number == s.number
        if not linked and bill.visit_type != INPATIENT and normalized_key(s.hospital) != normalized_key(bill.hospital):
            continue  # two visits on one day at different hospitals are two costs
        by_bill[bill_id].append(s)
    found: dict[int, list[dict]] = defaultdict(list)
    for bill_id, matched in sorted(by_bill.items()):
        bill = bills[bill_id]
        onestop = sum((s.onestop for s in matched), ZERO)
        left = bill.granted - bill.recovered
        found[bill.case_id].append(
            {
                "bill": bill.pk,
                "invoice": bill.invoice_number,
                "hospital": bill.hospital,
                "service_date": bill.service_date.isoformat(),
                "granted": str(bill.granted),
                "recovered": str(bill.recovered),
                "settlements": [
                    {
                        "number": s.number,
                        "hospital": s.hospital,
                        "date": s.service_date.isoformat(),
                        "onestop": str(s.onestop),
                    }
                    for s in matched
                ],
                "suggested": str(min(left, onestop)),
            }
        )
    return found


def _key(evidence: list[dict]) -> str:
    parts = []
    for item in evidence:
        parts.append(str(item["bill"]) + "".join(f":{s['number']}" for s in item.get("settlements", [])))
    return ",".join(parts)[:200]


@transaction.atomic
def suggest(*, rules=(R.IDENTITY, R.DUPLICATE), county_id=None, year=None, found_by: str = "") -> SuggestCounts:
    """Run the rules and bring the queue in line: new evidence makes a suggestion, an open one takes the latest
    evidence, a dismissed or confirmed one is not raised again for the same bills and settlements."""
    counts = SuggestCounts()
    for rule in rules:
        findings = (identity_findings if rule == R.IDENTITY else duplicate_findings)(county_id=county_id, year=year)
        cases = {}
        for chunk in chunks(list(findings), 1000):
            cases.update(Case.objects.select_for_update().filter(pk__in=chunk).in_bulk())
        existing = defaultdict(list)
        for chunk in chunks(list(findings), 1000):
            for s in Suggestion.objects.select_for_update().filter(case_id__in=chunk, rule=rule):
                existing[s.case_id].append(s)
        new, changed = [], []
        for case_id, evidence in sorted(findings.items()):
            case = cases[case_id]
            amount = min(sum((Decimal(e["suggested"]) for e in evidence), ZERO), recoverable(case))
            key = _key(evidence)
            if amount <= 0 or any(s.key == key and s.status != Suggestion.Status.OPEN for s in existing[case_id]):
                continue
            open_one = next((s for s in existing[case_id] if s.status == Suggestion.Status.OPEN), None)
            if open_one is None:
                new.append(
                    Suggestion(
                        case=case,
                        person_id=case.person_id,
                        township_id=case.township_id,
                        rule=rule,
                        amount=amount,
                        evidence=evidence,
                        key=key,
                        found_by=found_by[:100],
                    )
                )
                counts.amount += amount
            elif (open_one.key, open_one.amount) != (key, amount):
                open_one.key, open_one.amount, open_one.evidence = key, amount, evidence
                open_one.updated_at = timezone.now()
                changed.append(open_one)
        Suggestion.objects.bulk_create(new)
        Suggestion.objects.bulk_update(changed, ["key", "amount", "evidence", "updated_at"])
        created = list(Suggestion.objects.filter(case_id__in=[s.case_id for s in new], rule=rule, status="open"))
        audit_record_many(
            actor=None,
            action="suggestion.create",
            objects=created,
            after=lambda s: {"case": s.case.number, "rule": s.get_rule_display(), "amount": str(s.amount)},
            comment=found_by,
        )
        audit_record_many(
            actor=None, action="suggestion.update", objects=changed, after=lambda s: {"amount": str(s.amount)}
        )
        counts.created[rule] += len(new)
        counts.updated += len(changed)
    open_ones = Suggestion.objects.filter(status=Suggestion.Status.OPEN)
    if county_id is not None:
        open_ones = open_ones.filter(township__county_id=county_id)
    counts.open = open_ones.count()
    return counts


@transaction.atomic
def suggestion_confirm(
    *, suggestion: Suggestion, user, amount: Decimal, note: str = "", offset_next: bool = False
) -> Recovery:
    """A reviewer confirms: the recovery is registered (the reason follows the rule) and linked to the suggestion."""
    require(user, "supervision.manage_recovery", "确认追回建议")
    locked = Suggestion.objects.select_for_update().select_related("case").get(pk=suggestion.pk)
    if locked.status != Suggestion.Status.OPEN:
        raise RecoveryRefused(f"该建议已{locked.get_status_display()}")
    text = (note or "").strip() or describe(locked)
    recovery = recovery_create(
        case=locked.case, user=user, reason=locked.reason, amount=amount, note=text, offset_next=offset_next
    )
    locked.status, locked.recovery = Suggestion.Status.CONFIRMED, recovery
    locked.decided_by, locked.decided_at, locked.decision_note = user, timezone.now(), text
    locked.save(update_fields=["status", "recovery", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_record(
        actor=user, action="suggestion.confirm", obj=locked, after={"recovery": recovery.number, "amount": str(amount)}
    )
    return recovery


@transaction.atomic
def suggestion_dismiss(*, suggestion: Suggestion, user, note: str) -> Suggestion:
    """Not to be recovered (the identity was corrected in the person's favour, the one-stop assistance was for
    another cost): kept with the reason, and not raised again for the same evidence."""
    require(user, "supervision.manage_recovery", "处理追回建议")
    if not (note or "").strip():
        raise RecoveryRefused("不予追回须写明理由")
    locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != Suggestion.Status.OPEN:
        raise RecoveryRefused(f"该建议已{locked.get_status_display()}")
    locked.status, locked.decided_by, locked.decided_at = Suggestion.Status.DISMISSED, user, timezone.now()
    locked.decision_note = note.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_record(actor=user, action="suggestion.dismiss", obj=locked, comment=locked.decision_note)
    return locked


def describe(suggestion: Suggestion) -> str:
    """The evidence in a sentence, the recovery's 情况说明 when the reviewer writes none."""
    parts = []
    for item in suggestion.evidence:
        if suggestion.rule == R.IDENTITY:
            parts.append(
                f"{item['service_date']} {item['hospital']}（发票 {item['invoice']}）不在现有救助身份期间内"
                f"（{'；'.join(item['windows'])}）"
            )
        else:
            stays = "、".join(f"{s['number']} 一站式救助 {Decimal(s['onestop']):,.2f} 元" for s in item["settlements"])
            parts.append(f"{item['service_date']} {item['hospital']}（发票 {item['invoice']}）已一站式结算：{stays}")
    return "；".join(parts)[:2000]
