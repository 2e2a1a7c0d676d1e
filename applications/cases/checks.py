"""What must be resolved before an application is approved (DOMAIN §6 审核): the same invoice or settlement
claimed twice, overlapping stays, a stay already assisted one-stop, and claims past the deadline."""

from django.db.models import Q
from django.utils import timezone

from settlements.models import Settlement
from settlements.visits import INPATIENT

from ..models import LIVE_STATUSES, Bill, Case
from ..models.cases import normalized_key
from ..policy import engine
from ..policy.selectors import PolicyBook


def case_duplicates(case: Case) -> list[str]:
    """Problems to resolve before approval: the same invoice or settlement claimed twice (in this case
    or another live one), stays that overlap, and bills past the policy's claim deadline."""
    problems = []
    # Other cases that hold their bills, a draft excepted (a draft is not yet an application).
    live = Q(case__status__in=[s for s in LIVE_STATUSES if s != Case.Status.DRAFT])
    bills = list(case.bills.all())
    for bill in bills:
        key = bill.invoice_key or Bill.make_invoice_key(bill.hospital, bill.invoice_number)
        same_invoice = (
            Bill.objects.filter(live | Q(case=case), invoice_key=key).exclude(pk=bill.pk).select_related("case")
        )
        for other in same_invoice:
            where = "本案件另一张就诊记录" if other.case_id == case.pk else f"案件 {other.case.number}"
            problems.append(f"发票 {bill.invoice_number}（{bill.hospital}）已在{where}中申请")
        if bill.settlement_number:
            others = Bill.objects.filter(live | Q(case=case), settlement_number=bill.settlement_number).exclude(
                pk=bill.pk
            )
            for other in others.select_related("case"):
                problems.append(f"结算单 {bill.settlement_number} 已在案件 {other.case.number} 中申请")
        stays = Bill.objects.filter(live | Q(case=case), case__person_id=case.person_id).exclude(pk=bill.pk)
        if bill.visit_type == INPATIENT and bill.admitted_on and bill.discharged_on:
            overlapping = stays.filter(
                Q(visit_type=INPATIENT, admitted_on__lte=bill.discharged_on, discharged_on__gte=bill.admitted_on)
                | Q(visit_on__gte=bill.admitted_on, visit_on__lte=bill.discharged_on)
            )
        elif bill.visit_on:
            overlapping = stays.filter(
                visit_type=INPATIENT, admitted_on__lte=bill.visit_on, discharged_on__gte=bill.visit_on
            )
        else:
            overlapping = stays.none()
        for other in overlapping.select_related("case"):
            span = (
                f"{other.admitted_on}～{other.discharged_on}" if other.visit_type == INPATIENT else str(other.visit_on)
            )
            problems.append(
                f"{bill.visit_type} {bill.service_date} 与案件 {other.case.number} 的{other.visit_type} {span} 时间重叠"
            )
    problems.extend(_assisted_one_stop(case, bills))
    problems.extend(_late_claims(case, bills))
    return list(dict.fromkeys(problems))


def _assisted_one_stop(case: Case, bills) -> list[str]:
    """Bills for a stay or visit the hospital already settled with medical assistance (A0 > 0): the
    same cost must not be assisted twice. Matched by settlement number, or by the person and dates."""
    problems = []
    assisted = Settlement.objects.filter(id_number=case.person.id_number, onestop__gt=0)
    for bill in bills:
        match = Q(number=bill.settlement_number) if bill.settlement_number else Q(pk__in=[])
        if bill.visit_type == INPATIENT and bill.admitted_on and bill.discharged_on:
            match |= Q(visit_type=INPATIENT, admitted_on__lte=bill.discharged_on, discharged_on__gte=bill.admitted_on)
        elif bill.visit_on:
            match |= Q(visit_on=bill.visit_on, visit_type=bill.visit_type)
        for s in assisted.filter(match):
            same_hospital = normalized_key(s.hospital) == normalized_key(bill.hospital)
            if bill.visit_type != INPATIENT and not same_hospital:
                continue  # two visits on one day at different hospitals are two costs
            problems.append(
                f"{bill.visit_type} {bill.service_date}（{bill.hospital}）已在{s.hospital}一站式结算中获得医疗救助 "
                f"{engine.yuan(s.onestop)}（结算单号 {s.number}）"
            )
    return problems


def _late_claims(case: Case, bills) -> list[str]:
    """Bills applied for after the policy's claim deadline (days after discharge or visit)."""
    applied_on = case.accepted_on or timezone.localdate()
    book = PolicyBook(county_id=case.township.county_id)
    late = []
    for bill in bills:
        day = bill.service_date
        version = book.version_on(case.township.county_id, day) if day else None
        if version and version.claim_deadline_days and (applied_on - day).days > version.claim_deadline_days:
            late.append(
                f"就诊记录 {bill.invoice_number} 超过申请期限（出院或就诊后 {version.claim_deadline_days} 天内）"
            )
    return late
