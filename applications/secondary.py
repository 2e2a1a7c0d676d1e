"""The 二次救助 trigger (DOMAIN §5, §8): each person's yearly burden after first-round assistance, and a
ready-calculated secondary case awaiting approval where the policy gives more than already granted.

Yearly burden, set-based per year:
- a settlement counts when its service date lies in one of the person's identity windows and its first round
  is decided: paid one-stop (A0 > 0), granted or refused through an application, or not applicable (no
  first-round benefit for the categories valid that day, or E = 0). A settlement still waiting (an open case,
  or eligible and not yet applied for) does not count until decided;
- its burden is R = T − B − C − O minus the first-round assistance it received (A0 and approved bills linked to
  it by settlement number), so a bill linked to a settlement counts once;
- approved bills not linked to any imported settlement count as R − their first-round assistance;
- out-of-policy costs are part of R.

The category is the most favourable among the identities valid on the counted dates; the policy is the one in
force on the latest counted date. Recomputation never pays twice: what is proposed is due − already granted;
a person-year never has two secondary cases in progress (a database constraint); a new figure lower than
what was already granted flags the last approved case for review instead of going negative.
"""

import datetime
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from recipients.models import Person

from . import policy_engine as engine
from .crosscheck import _chunks, _Policies
from .jobs import job_request, job_run
from .models import Case, CaseTransition, Job, LedgerEntry, YearlyBurden
from .workdays import add_working_days

logger = logging.getLogger(__name__)
ZERO = Decimal("0")
S = Case.Status
OPEN_STATUSES = ["draft", "accepted", "accepted_pending", "review", "approval", "returned"]
DECIDED_STATUSES = ["approved", "paid", "rejected"]
GRANTED_STATUSES = ["approved", "paid"]

_IDENTITY_ON_DATE = """
EXISTS (SELECT 1 FROM recipients_identity i
        WHERE i.person_id = p.id AND i.valid_from <= {d} AND (i.valid_to IS NULL OR i.valid_to >= {d}))
"""

_ELIGIBLE_ON_DATE = """
EXISTS (SELECT 1 FROM recipients_identity i
        JOIN applications_firstroundrule r ON r.category = i.category
        JOIN applications_policyversion v ON v.id = r.version_id
        WHERE i.person_id = p.id
          AND i.valid_from <= s.service_date AND (i.valid_to IS NULL OR i.valid_to >= s.service_date)
          AND r.visit_type = s.visit_type AND r.eligible AND r.ratio > 0
          AND v.county_id = t.county_id AND v.status = 'active'
          AND v.effective_from <= s.service_date AND (v.effective_to IS NULL OR v.effective_to >= s.service_date))
"""

# Settlements with their burden after first round and whether their first round is decided.
_SETTLEMENTS_SQL = (
    """
SELECT p.id AS person_id, p.township_id AS township_id, s.service_date AS service_date,
       s.total - s.basic - s.critical - s.other - s.onestop - COALESCE(g.granted, 0) AS burden,
       CASE
         WHEN EXISTS (SELECT 1 FROM applications_bill b JOIN applications_case c ON c.id = b.case_id
                      WHERE b.settlement_number = s.number AND c.status IN ('draft', 'accepted', 'accepted_pending',
                                                                            'review', 'approval', 'returned'))
           THEN 1
         WHEN s.onestop = 0 AND s.in_policy - s.basic - s.critical - s.other > 0
              AND g.settlement_number IS NULL
              AND NOT EXISTS (SELECT 1 FROM applications_leadsettlement ls
                              WHERE ls.settlement_number = s.number AND ls.handled)
              AND """
    + _ELIGIBLE_ON_DATE
    + """
           THEN 1
         ELSE 0
       END AS pending
FROM settlements_settlement s
JOIN recipients_person p ON p.id_number = s.id_number
JOIN recipients_township t ON t.id = p.township_id
LEFT JOIN (
    SELECT b.settlement_number, SUM(COALESCE(b.granted, 0)) AS granted
    FROM applications_bill b JOIN applications_case c ON c.id = b.case_id
    WHERE c.status IN ('approved', 'paid', 'rejected') AND b.settlement_number <> ''
    GROUP BY b.settlement_number
) g ON g.settlement_number = s.number
WHERE s.service_date >= %(start)s AND s.service_date < %(end)s
  {people}
  AND """
    + _IDENTITY_ON_DATE.format(d="s.service_date")
)

# Approved bills with no imported settlement behind them.
_BILLS_SQL = """
SELECT p.id, p.township_id,
       CASE WHEN b.visit_type = '住院' THEN b.discharged_on ELSE b.visit_on END,
       b.total - b.basic - b.critical - b.other - b.donation - COALESCE(b.granted, 0), 0
FROM applications_bill b
JOIN applications_case c ON c.id = b.case_id
JOIN recipients_person p ON p.id = c.person_id
WHERE c.status IN ('approved', 'paid')
  AND NOT EXISTS (SELECT 1 FROM settlements_settlement s WHERE s.number = b.settlement_number)
  AND CASE WHEN b.visit_type = '住院' THEN b.discharged_on ELSE b.visit_on END >= %(start)s
  AND CASE WHEN b.visit_type = '住院' THEN b.discharged_on ELSE b.visit_on END < %(end)s
  {people}
  AND """ + _IDENTITY_ON_DATE.format(d="CASE WHEN b.visit_type = '住院' THEN b.discharged_on ELSE b.visit_on END")


@dataclass
class Burden:
    person_id: int
    township_id: int
    year: int
    burden: Decimal = ZERO
    items: int = 0
    pending: int = 0
    last_date: datetime.date | None = None
    categories: set[str] = field(default_factory=set)


def _people_clause(person_ids) -> str:
    if person_ids is None:
        return ""
    return "AND p.id IN (SELECT person_id FROM secondary_people)"


def yearly_burdens(*, year: int, person_ids: list[int] | None = None) -> dict[int, Burden]:
    """Burden after first-round assistance of every person (or of the given people) in one year."""
    params = {"start": datetime.date(year, 1, 1), "end": datetime.date(year + 1, 1, 1)}
    people = _people_clause(person_ids)
    result: dict[int, Burden] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_nestloop = off")
        if person_ids is not None:
            cursor.execute("CREATE TEMP TABLE secondary_people (person_id bigint PRIMARY KEY)")
            for chunk in _chunks(sorted(set(person_ids)), 5000):
                cursor.execute(
                    "INSERT INTO secondary_people (person_id) VALUES " + ", ".join(["(%s)"] * len(chunk)), chunk
                )
        cursor.execute(
            "CREATE TEMP TABLE secondary_items AS "
            + _SETTLEMENTS_SQL.format(people=people)
            + " UNION ALL "
            + _BILLS_SQL.format(people=people),
            params,
        )
        cursor.execute(
            """
            SELECT person_id, township_id,
                   SUM(CASE WHEN pending = 0 THEN burden ELSE 0 END),
                   SUM(1 - pending), SUM(pending),
                   MAX(CASE WHEN pending = 0 THEN service_date END)
            FROM secondary_items GROUP BY person_id, township_id
            """
        )
        for person_id, township_id, burden, items, pending, last in cursor.fetchall():
            if isinstance(last, str):  # SQLite hands back dates of an expression as text
                last = datetime.date.fromisoformat(last)
            result[person_id] = Burden(
                person_id, township_id, year, _dec(burden), int(items or 0), int(pending or 0), last
            )
        cursor.execute(
            """
            SELECT DISTINCT c.person_id, i.category
            FROM secondary_items c JOIN recipients_identity i ON i.person_id = c.person_id
            WHERE c.pending = 0 AND i.valid_from <= c.service_date
              AND (i.valid_to IS NULL OR i.valid_to >= c.service_date)
            """
        )
        for person_id, category in cursor.fetchall():
            result[person_id].categories.add(category)
        cursor.execute("DROP TABLE secondary_items")
        if person_ids is not None:
            cursor.execute("DROP TABLE secondary_people")
    return result


def _dec(value) -> Decimal:
    # SQLite hands sums back as int or float; their repr is the exact sum of two-decimal amounts.
    if value is None:
        return engine.money(ZERO)
    return engine.money(value if isinstance(value, Decimal) else Decimal(str(value)))


# --- the trigger ---------------------------------------------------------------------------------


@dataclass
class TriggerCounts:
    people: int = 0
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    flagged: int = 0
    total: Decimal = ZERO
    numbers: list[str] = field(default_factory=list)


def _years() -> list[int]:
    from settlements.models import Settlement

    first = Settlement.objects.order_by("service_date").values_list("service_date", flat=True).first()
    last = Settlement.objects.order_by("-service_date").values_list("service_date", flat=True).first()
    if first is None:
        return [timezone.localdate().year]
    return list(range(first.year, last.year + 1))


def secondary_run(*, year: int | None = None, person_ids: list[int] | None = None, job: Job | None = None):
    """Recompute burdens and bring the secondary cases in line, for one year (or every year with data)."""
    counts = TriggerCounts()
    for y in [year] if year else _years():
        burdens = yearly_burdens(year=y, person_ids=person_ids)
        if job is not None:
            _progress(job, phase=f"{y} 年：计算年度负担", people=job.people + len(burdens))
        _apply_year(y, burdens, counts, person_ids=person_ids, job=job)
    return counts


def _progress(job: Job, **fields) -> None:
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def _apply_year(year, burdens: dict[int, Burden], counts: TriggerCounts, *, person_ids, job) -> None:
    now = timezone.now()
    today = timezone.localdate()
    policies = _Policies()
    county_of = {}
    for chunk in _chunks(list(burdens)):
        county_of.update(Person.objects.filter(pk__in=chunk).values_list("pk", "township__county_id"))
    granted: dict[int, Decimal] = {}
    for chunk in _chunks(list(burdens)):
        granted.update(
            LedgerEntry.objects.filter(person_id__in=chunk, year=year, pool=LedgerEntry.SECONDARY).values_list(
                "person_id", "granted"
            )
        )
    rows = []
    results = {}
    deductibles: dict[int, Decimal] = {}
    for pid, b in burdens.items():
        result = None
        threshold = None
        if b.items and b.last_date and b.categories:
            policy = policies.on(county_of.get(pid), b.last_date)
            if policy is not None:
                result = engine.best_secondary(policy, b.categories, b.burden, granted.get(pid, ZERO))
                rule = policy.secondary.get(result.category)
                if rule is not None:
                    threshold = max(rule.trigger, rule.deductible)
                    deductibles[pid] = rule.deductible
        results[pid] = result
        rows.append(
            YearlyBurden(
                person_id=pid,
                township_id=b.township_id,
                year=year,
                burden=b.burden,
                items=b.items,
                pending=b.pending,
                category=(result.category if result else "") or "",
                threshold=threshold,
                due=result.due if result else ZERO,
                granted=granted.get(pid, ZERO),
                computed_at=now,
            )
        )
    with transaction.atomic():
        YearlyBurden.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["person", "year"],
            update_fields=[
                "township",
                "burden",
                "items",
                "pending",
                "category",
                "threshold",
                "due",
                "granted",
                "computed_at",
            ],
        )
        # People with nothing counted any more this year (a settlement corrected, an identity ended).
        stale = YearlyBurden.objects.filter(year=year, computed_at__lt=now)
        if person_ids is not None:
            stale = stale.filter(person_id__in=person_ids)
        stale.delete()

    _write_cases(year, burdens, results, deductibles, counts, today, job, person_ids=person_ids)


def _system_event(action: str, case: Case, *, before=None, after=None, comment: str = "") -> AuditEvent:
    return AuditEvent(
        actor=None,
        actor_name="系统",
        action=action,
        object_type="applications.case",
        object_id=str(case.pk),
        object_repr=case.number,
        before=before,
        after=after,
        comment=comment,
    )


def _write_cases(year, burdens, results, deductibles, counts: TriggerCounts, today, job, person_ids=None) -> None:
    """Create, update, withdraw and flag the year's secondary cases: in bulk, in one transaction, with the
    person-year's cases in progress locked so that an approval cannot interleave."""
    wanted = {pid: r for pid, r in results.items() if r is not None}
    counts.people += len(results)
    if job is not None:
        _progress(job, phase=f"{year} 年：写入二次救助案件", processed=job.processed + len(results))
    with transaction.atomic():
        open_cases: dict[int, Case] = {}
        serial: dict[int, int] = defaultdict(int)
        for chunk in _chunks(list(wanted)):
            for case in Case.objects.select_for_update().filter(
                person_id__in=chunk, year=year, source=Case.Source.SECONDARY, status__in=OPEN_STATUSES
            ):
                open_cases[case.person_id] = case
            for pid, n in (
                Case.objects.filter(person_id__in=chunk, year=year, source=Case.Source.SECONDARY)
                .values_list("person_id")
                .annotate(n=Count("pk"))
            ):
                serial[pid] = n
        people = {}
        new_ids = [pid for pid, r in wanted.items() if r.pay_now > 0 and pid not in open_cases]
        for chunk in _chunks(new_ids):
            people.update(Person.objects.filter(pk__in=chunk).in_bulk())
        due_on = add_working_days(today, _time_limit())
        new_cases, changed, events = [], [], []
        for pid, result in wanted.items():
            burden = burdens[pid]
            case = open_cases.get(pid)
            if result.pay_now > 0:
                calculation = _calculation(result, burden, deductibles.get(pid))
                if case is None:
                    person = people[pid]
                    new_cases.append(
                        Case(
                            number=f"EC{year}{pid:08d}{serial[pid]:02d}",
                            person=person,
                            township_id=person.township_id,
                            source=Case.Source.SECONDARY,
                            status=S.APPROVAL,
                            year=year,
                            accepted_on=today,
                            due_on=due_on,
                            payee_name=person.name,
                            payee_bank=person.bank_name,
                            payee_account=person.bank_account,
                            proposed_amount=result.pay_now,
                            calculation=calculation,
                        )
                    )
                    counts.total += result.pay_now
                elif case.status == S.APPROVAL and (
                    case.proposed_amount != result.pay_now or case.calculation != calculation
                ):
                    events.append(
                        _system_event(
                            "secondary.update",
                            case,
                            before={"proposed_amount": str(case.proposed_amount)},
                            after={"proposed_amount": str(result.pay_now)},
                            comment="二次救助重新测算",
                        )
                    )
                    case.proposed_amount, case.calculation = result.pay_now, calculation
                    case.revision += 1
                    case.updated_at = timezone.now()
                    changed.append(case)
                    counts.updated += 1
                    counts.total += result.pay_now
            elif case is not None and case.status == S.APPROVAL:
                _withdraw(case, counts)
            if result.due < result.already_granted:
                _flag(pid, year, result, counts)
        # People with a proposal in progress who no longer get a result at all (identity ended, settlement
        # corrected away): their proposal is withdrawn too.
        dropped = (
            Case.objects.select_for_update()
            .filter(year=year, source=Case.Source.SECONDARY, status=S.APPROVAL)
            .exclude(person_id__in=[pid for pid, r in wanted.items() if r.pay_now > 0])
        )
        if person_ids is not None:
            dropped = dropped.filter(person_id__in=person_ids)
        for case in dropped:
            if case.person_id not in wanted:
                _withdraw(case, counts)
        Case.objects.bulk_create(new_cases, batch_size=1000)
        created = {}
        for chunk in _chunks([c.number for c in new_cases]):
            created.update(Case.objects.filter(number__in=chunk).in_bulk(field_name="number"))
        transitions = []
        for case in new_cases:
            case = created[case.number]
            transitions.append(
                CaseTransition(
                    case=case,
                    from_status=S.DRAFT,
                    to_status=S.APPROVAL,
                    actor=None,
                    comment="年度个人负担达到标准，系统测算生成",
                )
            )
            events.append(
                _system_event(
                    "secondary.create",
                    case,
                    after={
                        "year": year,
                        "burden": case.calculation[0]["burden"],
                        "proposed_amount": str(case.proposed_amount),
                    },
                )
            )
            if len(counts.numbers) < 200:
                counts.numbers.append(case.number)
        counts.created += len(new_cases)
        CaseTransition.objects.bulk_create(transitions, batch_size=1000)
        Case.objects.bulk_update(changed, ["proposed_amount", "calculation", "revision", "updated_at"], batch_size=1000)
        AuditEvent.objects.bulk_create(events, batch_size=1000)


def _time_limit() -> int:
    from .models import PolicyVersion

    version = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).order_by("-effective_from").first()
    return version.time_limit_working_days if version else 30


def _calculation(result: engine.SecondaryResult, burden: Burden, deductible: Decimal | None = None) -> list[dict]:
    return [
        {
            "kind": "secondary",
            "year": burden.year,
            "category": result.category,
            "burden": str(burden.burden),
            "items": burden.items,
            "deductible": None if deductible is None else str(deductible),
            "due": str(result.due),
            "already_granted": str(result.already_granted),
            "amount": str(result.pay_now),
            "pool": LedgerEntry.SECONDARY,
            "steps": [[s.label, s.detail] for s in result.steps],
        }
    ]


def _withdraw(case: Case, counts: TriggerCounts) -> None:
    """Inside _write_cases' transaction, the case already locked."""
    case.status = S.WITHDRAWN
    case.decision_reason = "重新测算后无需再救助"
    case.revision += 1
    case.save(update_fields=["status", "decision_reason", "revision", "updated_at"])
    CaseTransition.objects.create(
        case=case, from_status=S.APPROVAL, to_status=S.WITHDRAWN, actor=None, comment=case.decision_reason
    )
    audit_record(actor=None, action="secondary.withdraw", obj=case, comment=case.decision_reason)
    counts.withdrawn += 1


def _flag(pid, year, result, counts: TriggerCounts) -> None:
    last = (
        Case.objects.select_for_update()
        .filter(person_id=pid, year=year, source=Case.Source.SECONDARY, status__in=GRANTED_STATUSES)
        .order_by("-decided_at")
        .first()
    )
    if last is None:
        return
    flag = (
        f"重新测算的年度应救助金额 {engine.yuan(result.due)} 低于已救助 {engine.yuan(result.already_granted)}，"
        "不会扣减，请复核"
    )
    if last.review_flag == flag:
        return
    last.review_flag = flag
    last.save(update_fields=["review_flag", "updated_at"])
    audit_record(actor=None, action="secondary.flag", obj=last, comment=flag)
    counts.flagged += 1


# --- jobs ----------------------------------------------------------------------------------------


def secondary_request(
    *, user=None, year: int | None = None, reason: str = "", person_ids: list[int] | None = None, enqueue=True
) -> Job:
    """Ask for a run of the trigger; a request while one waits joins it (widening to everybody)."""
    from .tasks import run_secondary_job

    return job_request(
        kind=Job.Kind.SECONDARY,
        user=user,
        year=year,
        reason=reason,
        person_ids=person_ids,
        task=run_secondary_job if enqueue else None,
    )


def secondary_after_commit(*, person_ids: list[int], reason: str) -> None:
    """Recompute these people once the current transaction commits (after an approval)."""
    if not person_ids:
        return
    for _, func, _ in connection.run_on_commit:
        if getattr(func, "secondary_people", None) is not None:
            func.secondary_people.update(person_ids)
            return

    def request():
        secondary_request(person_ids=sorted(request.secondary_people), reason=reason)

    request.secondary_people = set(person_ids)
    transaction.on_commit(request)


def secondary_run_job(*, job_id: int) -> Job | None:
    """Run a queued secondary job to the end. Waits while another one runs."""
    return job_run(
        kind=Job.Kind.SECONDARY, job_id=job_id, work=_secondary_job, failure="测算时发生系统错误；请联系系统管理员。"
    )


def _secondary_job(job: Job) -> None:
    started = time.monotonic()
    counts = secondary_run(year=job.year, person_ids=job.people_ids, job=job)
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE,
            finished_at=timezone.now(),
            phase="完成",
            people=counts.people,
            processed=counts.people,
            created=counts.created,
            updated=counts.updated,
            closed=counts.withdrawn,
            reopened=counts.flagged,
            total_amount=counts.total,
            message=f"用时 {time.monotonic() - started:.1f} 秒",
        )
        job.refresh_from_db()
        audit_record(
            actor=None,
            action="job.secondary",
            obj=job,
            after={
                "year": job.year,
                "people": counts.people,
                "created": counts.created,
                "updated": counts.updated,
                "withdrawn": counts.withdrawn,
                "flagged": counts.flagged,
                "total": str(counts.total),
                "cases": counts.numbers,
            },
        )


def secondary_now(*, user=None, year: int | None = None, reason: str = "") -> Job:
    job = secondary_request(user=user, year=year, reason=reason, enqueue=False)
    return secondary_run_job(job_id=job.pk)


# --- approval ------------------------------------------------------------------------------------


def secondary_recalculate(case: Case) -> tuple[engine.SecondaryResult | None, Burden | None]:
    """The person-year's figure as it is now (the approval of a secondary case recomputes it)."""
    burdens = yearly_burdens(year=case.year, person_ids=[case.person_id])
    burden = burdens.get(case.person_id)
    if burden is None or not burden.items or not burden.categories:
        return None, burden
    policy = _Policies().on(case.township.county_id, burden.last_date)
    if policy is None:
        return None, burden
    granted = (
        LedgerEntry.objects.filter(person_id=case.person_id, year=case.year, pool=LedgerEntry.SECONDARY)
        .values_list("granted", flat=True)
        .first()
    ) or ZERO
    return engine.best_secondary(policy, burden.categories, burden.burden, granted), burden


def secondary_cap(case: Case, category: str, day: datetime.date) -> Decimal | None:
    policy = _Policies().on(case.township.county_id, day)
    rule = policy.secondary.get(category) if policy else None
    return rule.cap if rule else None
