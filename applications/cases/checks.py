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


class Problem(str):
    """A problem's sentence, with the other case it concerns (to link to) and how to resolve it."""

    other_case: Case | None
    advice: str

    def __new__(cls, text: str, *, other_case: Case | None = None, advice: str = ""):
        problem = super().__new__(cls, text)
        problem.other_case = other_case
        problem.advice = advice
        return problem


SAME_CLAIM = (
    "同一张发票（结算单）只能申请一次：如是本案件录重了，请删除本案件中的这张就诊记录；"
    "如是对方案件录错了，请联系对方案件的经办人更正；两边都不能确定时请退回补正，核实原件"
)
SAME_CLAIM_HERE = "本案件中录了两次：请删除其中一张"
OVERLAP = "同一时间只能有一次住院：请核对两边的入院、出院日期，录错的一边更正；确为同一次住院的，只能申请一次"
ONE_STOP = "医院已按一站式结算给予救助，同一费用不能再次救助：请删除这张就诊记录；如认为结算数据有误，请县局核实"
LATE = "超过申请期限：如有正当理由（如身份后来才认定），请在审核意见中写明；否则不予救助"


def case_duplicates(case: Case, *, with_drafts: bool = False) -> list[Problem]:
    """Problems to resolve before approval: the same invoice or settlement claimed twice (in this case
    or another live one), stays that overlap, and bills past the policy's claim deadline.

    At bill entry (`with_drafts`) other drafts count too: two drafts holding one invoice are a duplicate
    the window should see before either is accepted."""
    problems = []
    statuses = LIVE_STATUSES if with_drafts else [s for s in LIVE_STATUSES if s != Case.Status.DRAFT]
    # Other cases that hold their bills (a draft is not yet an application, except at entry).
    live = Q(case__status__in=statuses)
    bills = list(case.bills.all())
    for bill in bills:
        key = bill.invoice_key or Bill.make_invoice_key(bill.hospital, bill.invoice_number)
        same_invoice = (
            Bill.objects.filter(live | Q(case=case), invoice_key=key).exclude(pk=bill.pk).select_related("case")
        )
        for other in same_invoice:
            here = other.case_id == case.pk
            where = "本案件另一张就诊记录" if here else f"案件 {other.case.number}"
            problems.append(
                Problem(
                    f"发票 {bill.invoice_number}（{bill.hospital}）已在{where}中申请",
                    other_case=None if here else other.case,
                    advice=SAME_CLAIM_HERE if here else SAME_CLAIM,
                )
            )
        if bill.settlement_number:
            others = Bill.objects.filter(live | Q(case=case), settlement_number=bill.settlement_number).exclude(
                pk=bill.pk
            )
            for other in others.select_related("case"):
                here = other.case_id == case.pk
                problems.append(
                    Problem(
                        f"结算单 {bill.settlement_number} 已在案件 {other.case.number} 中申请",
                        other_case=None if here else other.case,
                        advice=SAME_CLAIM_HERE if here else SAME_CLAIM,
                    )
                )
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
                Problem(
                    f"{bill.visit_type} {bill.service_date} 与案件 {other.case.number} 的{other.visit_type} {span} 时间重叠",
                    other_case=None if other.case_id == case.pk else other.case,
                    advice=OVERLAP,
                )
            )
    problems.extend(_assisted_one_stop(case, bills))
    problems.extend(_late_claims(case, bills))
    first: dict[str, Problem] = {}
    for problem in problems:
        first.setdefault(str(problem), problem)
    return list(first.values())


def _assisted_one_stop(case: Case, bills) -> list[Problem]:
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
                Problem(
                    f"{bill.visit_type} {bill.service_date}（{bill.hospital}）已在{s.hospital}一站式结算中获得医疗救助 "
                    f"{engine.yuan(s.onestop)}（结算单号 {s.number}）",
                    advice=ONE_STOP,
                )
            )
    return problems


def _late_claims(case: Case, bills) -> list[Problem]:
    """Bills applied for after the policy's claim deadline (days after discharge or visit)."""
    applied_on = case.accepted_on or timezone.localdate()
    book = PolicyBook(county_id=case.township.county_id)
    late = []
    for bill in bills:
        day = bill.service_date
        version = book.version_on(case.township.county_id, day) if day else None
        if version and version.claim_deadline_days and (applied_on - day).days > version.claim_deadline_days:
            late.append(
                Problem(
                    f"就诊记录 {bill.invoice_number} 超过申请期限（出院或就诊后 {version.claim_deadline_days} 天内）",
                    advice=LATE,
                )
            )
    return late
