"""Follow-up plans: the paid lines of a payout batch or of a month, drawn reproducibly into calls for the township
windows (DOMAIN §12.3). Plans are made by county staff on the web and by the operator (`followup_plan`)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from applications.models import Bill
from audit.services import audit_record
from lib import months
from lib.locks import xact_lock, xact_lock_shared
from payouts.models import PayoutBatch, PayoutLine
from payouts.notice import assistance_kind
from recipients.models import County
from settlements.visits import VisitType

from . import sampling
from .models import REACHED, FollowupCall, FollowupPlan, Receipt

M = FollowupPlan.Method
SEED_MAX = 2**63 - 1  # the plan's seed column
PLAN_LOCK = "followups.plan"  # held shared while calls of the plan are recorded, alone while it is cancelled


class PlanRefused(ValueError):
    """The plan cannot be made; the message is shown to the user and nothing was written."""


def parse_month(text: str) -> tuple[datetime.date, datetime.date]:
    """2026-11, 2026/11, 202611 or 2026年11月 → the month's first and last day."""
    try:
        start = months.parse_month(text)
    except months.MonthError as exc:
        raise PlanRefused(str(exc)) from None
    return start, months.month_end(start)


def paid_lines(*, county_id: int, batch: PayoutBatch | None = None, start=None, end=None):
    """The lines the bank confirmed paid: of the batch, or paid (bank return dated) between start and end."""
    lines = PayoutLine.objects.filter(status=PayoutLine.Status.PAID, batch__county_id=county_id)
    if batch is not None:
        return lines.filter(batch=batch)
    return lines.filter(resolved_at__date__gte=start, resolved_at__date__lte=end)


@dataclass(frozen=True)
class Scope:
    county: County
    basis: str
    batch: PayoutBatch | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None

    def lines(self):
        return paid_lines(county_id=self.county.pk, batch=self.batch, start=self.start, end=self.end)

    def empty_message(self) -> str:
        if self.batch is not None:
            return f"支付批次 {self.batch.number} 没有发放成功的明细（银行回盘确认成功的），无法制订回访计划"
        if self.start.day == 1 and self.end == parse_month(f"{self.start:%Y-%m}")[1]:
            period = f"{self.start.year}年{self.start.month}月"
        else:
            period = f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"
        return f"{self.county.name}{period}没有发放成功的支付明细，无法制订回访计划"


def plan_scope(*, user, county: County | None = None, batch: PayoutBatch | None = None, month: str = "") -> Scope:
    """What the plan is drawn from, checked against what the user may see: one batch, or one county's month."""
    if user is not None and not user.has_perm("followups.manage_followupplan"):
        raise PlanRefused("没有制订回访计划的权限")
    if (batch is None) == (not month):
        raise PlanRefused("请指定一个支付批次或一个发放月份（二者选一）")
    if batch is not None:
        # The batch is the county's (its staff plan the calls; reading batches is finance's permission).
        if user is not None and not user.prefecture_wide and batch.county_id != user.scope_county_id:
            raise PlanRefused("只能对本县（区）的支付批次制订回访计划")
        return Scope(county=batch.county, basis=FollowupPlan.Basis.BATCH, batch=batch)
    start, end = parse_month(month)
    if user is not None and not user.prefecture_wide:
        county = County.objects.filter(pk=user.scope_county_id).first()
    if county is None:
        counties = list(County.objects.all()[:2])
        if len(counties) != 1:
            raise PlanRefused("请指定县（区）")
        county = counties[0]
    return Scope(county=county, basis=FollowupPlan.Basis.MONTH, start=start, end=end)


def _new_number() -> str:
    prefix = f"HF{timezone.localdate():%Y%m%d}"
    last = (
        FollowupPlan.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    ).first()
    return f"{prefix}{(int(last[-3:]) + 1 if last else 1):03d}"


def _kinds(lines) -> dict[int, str]:
    """Each line's kind of assistance as the policy names it (住院 / 门诊医疗救助, 二次救助)."""
    granted = Bill.objects.filter(case=OuterRef("case_id"), granted__gt=0)
    rows = lines.annotate(
        inpatient=Exists(granted.filter(visit_type=VisitType.INPATIENT)),
        outpatient=Exists(granted.exclude(visit_type=VisitType.INPATIENT)),
    ).values_list("pk", "source", "inpatient", "outpatient")
    return {pk: assistance_kind(source, inpatient, outpatient) for pk, source, inpatient, outpatient in rows}


def plan_create(
    *,
    user,
    scope: Scope,
    method: str,
    size: int | None = None,
    share: Decimal | None = None,
    per_township: int = 0,
    seed: int | None = None,
    note: str = "",
) -> FollowupPlan:
    """Draw the scope's paid lines into a plan of calls, numbered township by township. `seed` None draws a new
    one; it is recorded, so the plan can be drawn again (followups.sampling). `user` None: the operator."""
    if user is not None and not user.has_perm("followups.manage_followupplan"):
        raise PlanRefused("没有制订回访计划的权限")
    try:
        sampling.check_parameters(method, size=size, share=share, per_township=per_township)
    except sampling.DrawRefused as exc:
        raise PlanRefused(str(exc)) from None
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise PlanRefused(f"随机种子应为 0～{SEED_MAX} 的整数")
    seed = sampling.new_seed() if seed is None else seed
    with transaction.atomic():
        xact_lock("followups.plan_number")
        lines = scope.lines()
        population = list(lines.values_list("pk", "township_id"))
        if not population:
            raise PlanRefused(scope.empty_message())
        chosen = sampling.draw(population, method=method, seed=seed, size=size, share=share, per_township=per_township)
        try:
            with transaction.atomic():
                plan = FollowupPlan.objects.create(
                    number=_new_number(),
                    county=scope.county,
                    basis=scope.basis,
                    batch=scope.batch,
                    period_start=scope.start,
                    period_end=scope.end,
                    method=method,
                    sample_size=size if method == M.COUNT else None,
                    share=share if method == M.SHARE else None,
                    per_township=per_township,
                    seed=seed,
                    population=len(population),
                    call_count=len(chosen),
                    created_by=user,
                    note=note[:200],
                )
        except IntegrityError:  # a plan of another process took the number (SQLite has no advisory lock)
            raise PlanRefused("暂时无法生成计划编号，请稍后重试") from None
        picked = PayoutLine.objects.filter(pk__in=chosen)
        kinds = _kinds(picked)
        rows = picked.select_related("case__person", "township").order_by(
            "township__code", "township__name", "reference"
        )
        calls = [
            FollowupCall(
                plan=plan,
                number=f"{plan.number}-{n:04d}",
                line=line,
                township=line.township,
                person=line.case.person,
                name=line.case.person.name,
                kind=kinds[line.pk],
                amount=line.amount,
                paid_on=timezone.localdate(line.resolved_at) if line.resolved_at else timezone.localdate(),
            )
            for n, line in enumerate(rows, start=1)
        ]
        FollowupCall.objects.bulk_create(calls, batch_size=1000)
        audit_record(
            actor=user,
            action="followup.plan_create",
            obj=plan,
            after={
                "scope": plan.scope_text,
                "method": plan.method_text,
                "seed": seed,
                "population": plan.population,
                "calls": plan.call_count,
                "townships": len({call.township_id for call in calls}),
            },
            comment=note[:200],
        )
    return plan


def redraw(plan: FollowupPlan) -> list[int]:
    """The lines the plan's seed draws from its scope's paid lines as they are now (the same as the plan's calls
    while no line of the scope was paid or failed since)."""
    scope = Scope(county=plan.county, basis=plan.basis, batch=plan.batch, start=plan.period_start, end=plan.period_end)
    return sampling.draw(
        scope.lines().values_list("pk", "township_id"),
        method=plan.method,
        seed=plan.seed,
        size=plan.sample_size,
        share=plan.share,
        per_township=plan.per_township,
    )


def plan_townships(plan: FollowupPlan, *, user=None) -> list[dict]:
    """The plan's townships (a clerk's own only) with their calls: drawn, done, reached, not reached, tickets."""
    calls = plan.calls.all()
    if user is not None and user.township_scoped:
        calls = calls.filter(township_id=user.township_id)
    rows = (
        calls.values("township_id", "township__name")
        .annotate(
            calls=Count("pk"),
            done=Count("pk", filter=~Q(receipt="")),
            reached=Count("pk", filter=Q(receipt__in=REACHED)),
            unreachable=Count("pk", filter=Q(receipt=Receipt.UNREACHABLE)),
            tickets=Count("ticket"),
        )
        .order_by("township__code", "township__name")
    )
    return list(rows)


def plans_in_force(plan_ids) -> list[str]:
    """Hold the plans open while their calls are recorded (inside the caller's transaction): a cancel waits for the
    recording and the recording for a cancel. Returns the numbers of those already cancelled."""
    ids = sorted(set(plan_ids))
    for pk in ids:
        xact_lock_shared(PLAN_LOCK, pk)
    return list(
        FollowupPlan.objects.filter(pk__in=ids, status=FollowupPlan.Status.CANCELLED).values_list("number", flat=True)
    )


def plan_cancel(*, plan: FollowupPlan, user, reason: str) -> FollowupPlan:
    """Cancel a plan drawn by mistake: only while none of its calls is recorded (a recorded call is evidence of
    the follow-up, and may have opened a ticket). Its calls leave the windows' work; the plan stays in the list,
    marked 已作废, with who cancelled it and why. `user` None: the operator."""
    if user is not None and not user.has_perm("followups.manage_followupplan"):
        raise PlanRefused("没有作废回访计划的权限")
    reason = " ".join((reason or "").split())
    if not reason:
        raise PlanRefused("请填写作废原因")
    if len(reason) > 200:
        raise PlanRefused("作废原因不能超过 200 个字")
    with transaction.atomic():
        xact_lock(PLAN_LOCK, plan.pk)
        locked = FollowupPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.cancelled:
            raise PlanRefused(f"回访计划 {locked.number} 已作废")
        done = locked.calls.done().count()
        if done:
            raise PlanRefused(f"回访计划 {locked.number} 已有 {done:,} 笔回访记录了结果，不能作废")
        locked.status = FollowupPlan.Status.CANCELLED
        locked.cancelled_by, locked.cancelled_at, locked.cancel_reason = user, timezone.now(), reason
        locked.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
        audit_record(
            actor=user,
            action="followup.plan_cancel",
            obj=locked,
            before={"status": FollowupPlan.Status.ACTIVE},
            after={"status": FollowupPlan.Status.CANCELLED, "calls": locked.call_count},
            comment=reason,
        )
    return locked
