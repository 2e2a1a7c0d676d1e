"""The secondary trigger as a job, chunk by chunk of people (jobs.chunks), and the review and grant of 二次救助
cases (registered with the case services at start-up, see applications.apps)."""

from decimal import Decimal

from recipients.models import Person

from ..cases.services import Grant, SourceRules
from ..cases.workflow import TransitionRefused
from ..jobs.chunks import chunk_details, chunk_progress, chunk_record, chunk_run, chunk_scope, job_close
from ..jobs.records import job_finish, job_progress
from ..jobs.runner import job_now, job_request, job_request_on_commit, job_request_per_county, job_run
from ..models import Case, Job, JobChunk, LedgerEntry
from ..policy import engine
from ..policy.ledger import CapExceeded, ledger_post
from ..policy.selectors import PolicyBook
from .burden import Burden, yearly_burdens
from .trigger import TriggerCounts, evaluate, granted_secondary, secondary_calculation, secondary_year, years_with_data

ZERO = Decimal("0")
FAILURE = "测算时发生系统错误；请联系系统管理员。"


def secondary_request(
    *,
    user=None,
    year: int | None = None,
    reason: str = "",
    person_ids: list[int] | None = None,
    enqueue=True,
    county_id: int | None = None,
) -> Job:
    """Ask for a run of the trigger for a county (None: all); a request while one of that county waits joins it
    (widening to everybody)."""
    return job_request(
        kind=Job.Kind.SECONDARY,
        user=user,
        year=year,
        reason=reason,
        person_ids=person_ids,
        enqueue=enqueue,
        county_id=county_id,
    )


def secondary_nightly_requests(*, reason: str) -> list[Job]:
    """The scheduled run: one job per county, side by side."""
    return job_request_per_county(kind=Job.Kind.SECONDARY, reason=reason)


def secondary_after_commit(*, person_ids: list[int], reason: str) -> None:
    """Recompute these people once the current transaction commits (after an approval, an import), county by
    county."""
    job_request_on_commit(kind=Job.Kind.SECONDARY, reason=reason, person_ids=person_ids)


def secondary_run_job(*, job_id: int, inline: bool = True) -> Job | None:
    """Run a queued secondary job, its chunks one after the other in this process; its Celery task
    (`inline=False`) sends the chunks to the workers instead."""
    return job_run(
        kind=Job.Kind.SECONDARY,
        job_id=job_id,
        prepare=_prepare,
        work=_chunk,
        finish=_finish,
        failure=FAILURE,
        inline=inline,
    )


def secondary_run_chunk(*, chunk_id: int) -> JobChunk | None:
    return chunk_run(chunk_id=chunk_id, work=_chunk, failure=FAILURE)


def secondary_close_job(*, job_id: int) -> Job | None:
    return job_close(job_id=job_id, finish=_finish)


def _prepare(job: Job) -> None:
    years = [job.year] if job.year else years_with_data()
    job_progress(job, phase="划分人员", options={**job.options, "years": years})


def _chunk(chunk: JobChunk) -> None:
    """One chunk's trigger, year by year; each year's burden rows, cases and figures commit together, and a
    restarted chunk goes on from the first year not written."""
    job = chunk.job
    book = PolicyBook()
    counts = TriggerCounts()
    for year in job.options.get("years", []):
        if year in chunk.details.get("years_written", []):
            continue

        def written(of_year: TriggerCounts, year=year) -> None:
            chunk_record(
                chunk,
                people=of_year.people,
                processed=of_year.people,
                created=of_year.created,
                updated=of_year.updated,
                closed=of_year.withdrawn,
                reopened=of_year.flagged,
                total_amount=of_year.total,
                details={
                    "years_written": [*chunk.details.get("years_written", []), year],
                    "cases": [*chunk.details.get("cases", []), *of_year.numbers][:200],
                },
            )

        secondary_year(
            year=year,
            counts=counts,
            book=book,
            person_ids=chunk.person_ids,
            scope=chunk_scope(chunk),
            progress=lambda phase: chunk_progress(chunk, phase=phase),
            written=written,
        )


def _finish(job: Job) -> None:
    job_finish(
        job,
        audit_action="job.secondary",
        audit_after={
            "year": job.year,
            "county": job.county_id,
            "chunks": job.chunks_total,
            "people": job.people,
            "created": job.created,
            "updated": job.updated,
            "withdrawn": job.closed,
            "flagged": job.reopened,
            "total": str(job.total_amount),
            "cases": chunk_details(job, "cases"),
        },
    )


def secondary_now(*, user=None, year: int | None = None, reason: str = "", county_id: int | None = None) -> Job:
    return job_now(
        kind=Job.Kind.SECONDARY,
        run=secondary_run_job,
        user=user,
        year=year,
        reason=reason,
        county_id=county_id,
    )


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
