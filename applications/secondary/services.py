"""The secondary trigger as a job, and the review and grant of 二次救助 cases (registered with the case
services at start-up, see applications.apps)."""

import time
from decimal import Decimal

from recipients.models import Person

from ..cases.services import Grant, SourceRules
from ..cases.workflow import TransitionRefused
from ..jobs.runner import job_finish, job_now, job_request, job_request_on_commit, job_run
from ..models import Case, Job, LedgerEntry
from ..policy import engine
from ..policy.ledger import CapExceeded, ledger_post
from ..policy.selectors import PolicyBook
from .burden import Burden, yearly_burdens
from .trigger import evaluate, granted_secondary, secondary_calculation, secondary_run

ZERO = Decimal("0")


def secondary_request(
    *, user=None, year: int | None = None, reason: str = "", person_ids: list[int] | None = None, enqueue=True
) -> Job:
    """Ask for a run of the trigger; a request while one waits joins it (widening to everybody)."""
    return job_request(
        kind=Job.Kind.SECONDARY, user=user, year=year, reason=reason, person_ids=person_ids, enqueue=enqueue
    )


def secondary_after_commit(*, person_ids: list[int], reason: str) -> None:
    """Recompute these people once the current transaction commits (after an approval, an import)."""
    job_request_on_commit(kind=Job.Kind.SECONDARY, reason=reason, person_ids=person_ids)


def secondary_run_job(*, job_id: int) -> Job | None:
    """Run a queued secondary job to the end. Waits while another one runs."""
    return job_run(
        kind=Job.Kind.SECONDARY, job_id=job_id, work=_secondary_job, failure="测算时发生系统错误；请联系系统管理员。"
    )


def _secondary_job(job: Job) -> None:
    started = time.monotonic()
    counts = secondary_run(year=job.year, person_ids=job.people_ids, job=job)
    job_finish(
        job,
        started=started,
        audit_action="job.secondary",
        audit_after={
            "year": job.year,
            "people": counts.people,
            "created": counts.created,
            "updated": counts.updated,
            "withdrawn": counts.withdrawn,
            "flagged": counts.flagged,
            "total": str(counts.total),
            "cases": counts.numbers,
        },
        people=counts.people,
        processed=counts.people,
        created=counts.created,
        updated=counts.updated,
        closed=counts.withdrawn,
        reopened=counts.flagged,
        total_amount=counts.total,
    )


def secondary_now(*, user=None, year: int | None = None, reason: str = "") -> Job:
    return job_now(kind=Job.Kind.SECONDARY, run=secondary_run_job, user=user, year=year, reason=reason)


# --- review and approval -------------------------------------------------------------------------------


def secondary_recalculate(case: Case) -> tuple[engine.SecondaryResult | None, Burden | None, object]:
    """The person-year's figure as it is now, with the policy rule behind it (review and approval recompute)."""
    burden = yearly_burdens(year=case.year, person_ids=[case.person_id]).get(case.person_id)
    if burden is None:
        return None, None, None
    county_id = case.township.county_id
    granted = granted_secondary([case.person_id], case.year).get(case.person_id, ZERO)
    result, rule = evaluate(PolicyBook(county_id=county_id), county_id, burden, granted)
    return result, burden, rule


def _review(case: Case) -> tuple[Decimal, list]:
    """A returned secondary case is reviewed on its yearly figure, not on bills (it has none)."""
    result, burden, rule = secondary_recalculate(case)
    if result is None or result.pay_now <= 0:
        raise TransitionRefused("按当前数据重新测算，本年度已无需再给予二次救助")
    return result.pay_now, secondary_calculation(result, burden, rule.deductible if rule else None)


def _grant(locked: Case) -> Grant:
    """The person-year is recomputed now, never more than proposed, and posted to the year's 二次救助 ledger
    under its cap, so that no recomputation can pay twice."""
    Person.objects.select_for_update().filter(pk=locked.person_id).first()
    result, burden, rule = secondary_recalculate(locked)
    amount = min(result.pay_now, locked.proposed_amount or ZERO) if result else ZERO
    if amount <= 0:
        # Not a 0.00 grant to confirm: a secondary case with nothing due is withdrawn by the next recomputation.
        raise TransitionRefused("按当前数据重新测算，本年度已无需再给予二次救助；请等待下次测算自动撤回本案件")
    note = ""
    if amount < (locked.proposed_amount or 0):
        note = f"拟救助 {engine.yuan(locked.proposed_amount)}，按重新测算的 {engine.yuan(amount)}批准"
    try:
        ledger_post(
            person_id=locked.person_id,
            year=locked.year,
            pool=LedgerEntry.SECONDARY,
            granted=amount,
            cap=rule.cap if rule else None,
        )
    except CapExceeded as exc:
        raise TransitionRefused(str(exc)) from None
    return Grant(amount, secondary_calculation(result, burden, rule.deductible if rule else None), note)


def _preview(case: Case) -> Decimal:
    result, _, _ = secondary_recalculate(case)
    return min(result.pay_now, case.proposed_amount or ZERO) if result else ZERO


SECONDARY_RULES = SourceRules(review=_review, grant=_grant, preview=_preview)
