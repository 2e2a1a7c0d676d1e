"""抽查 (DOMAIN §12.2): each month a random, reproducible sample of a county's approved 零星 cases, re-checked by
reviewers who had no part in them.

The population is the county's window and lead cases approved in the month (批准 then, whether paid since or not;
二次救助 is computed, not claimed, and is left out). Per township, in order of township id, a share of its cases set
in the policy in force on the month's last day is drawn — at least `sample_minimum` (2 by default), all of them
when it has fewer — with Python's Mersenne Twister seeded by the recorded seed over the case ids in order; the
reviewers are dealt from a second generator seeded from the same seed, least loaded first. The sample keeps the
population, the seed, the share and the minimum, so anyone can draw it again (`sample_redraw`) and get the same
cases.
"""

import calendar
import datetime
import math
import random
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from applications.models import GRANTED_STATUSES, Case, CaseTransition
from applications.policy.selectors import policy_in_force
from audit.services import audit_record
from recipients.models import County

from .models import AuditSample, Reason, SampleItem
from .recoveries import RecoveryRefused, recovery_create, require

DEFAULT_SHARE, DEFAULT_MINIMUM = Decimal("0.05"), 2
OUTCOME, FOLLOW = SampleItem.Outcome, SampleItem.FollowUp


def draw(population: dict[int, list[int]], *, seed: int, share: Decimal, minimum: int) -> list[int]:
    """The sampled case ids: per township (in id order), ⌈share × n⌉ of its n cases but at least `minimum` (all when
    n is smaller), drawn from the case ids in order with a generator seeded by `seed`. Pure: the same population,
    seed, share and minimum give the same sample."""
    rng = random.Random(seed)
    chosen: list[int] = []
    for township in sorted(population, key=int):
        ids = sorted(population[township])
        k = min(len(ids), max(minimum, math.ceil(Decimal(share) * len(ids))))
        chosen += sorted(rng.sample(ids, k))
    return chosen


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def population_of(county_id: int, month: datetime.date) -> dict[str, list[int]]:
    """The month's approved window and lead cases of the county, by township (keys as text: stored as JSON)."""
    first, last = month_bounds(month)
    rows = (
        Case.objects.filter(
            township__county_id=county_id,
            status__in=GRANTED_STATUSES,
            decided_at__date__gte=first,
            decided_at__date__lte=last,
        )
        .exclude(source=Case.Source.SECONDARY)
        .values_list("township_id", "pk")
        .order_by("township_id", "pk")
    )
    population: dict[str, list[int]] = {}
    for township_id, pk in rows:
        population.setdefault(str(township_id), []).append(pk)
    return population


def involved(case_ids: list[int]) -> dict[int, set[int]]:
    """Everyone who had a part in each case: received, reviewed, approved (either level), or moved it."""
    people: dict[int, set[int]] = {pk: set() for pk in case_ids}
    for pk, *users in Case.objects.filter(pk__in=case_ids).values_list(
        "pk", "received_by_id", "reviewed_by_id", "decided_by_id", "first_approved_by_id"
    ):
        people[pk].update(u for u in users if u)
    for pk, actor in CaseTransition.objects.filter(case_id__in=case_ids, actor__isnull=False).values_list(
        "case_id", "actor_id"
    ):
        people[pk].add(actor)
    return people


def assign(
    case_ids: list[int], reviewers: list[int], barred: dict[int, set[int]], *, seed: int
) -> dict[int, int | None]:
    """A reviewer for each case who had no part in it, the least loaded first (ties drawn), or None."""
    rng = random.Random(seed + 1)
    load = dict.fromkeys(reviewers, 0)
    chosen: dict[int, int | None] = {}
    for pk in case_ids:
        free = [r for r in reviewers if r not in barred.get(pk, set())]
        if not free:
            chosen[pk] = None
            continue
        least = min(load[r] for r in free)
        pick = rng.choice([r for r in free if load[r] == least])
        load[pick] += 1
        chosen[pk] = pick
    return chosen


def sample_draw(
    *, county: County, month: datetime.date, user=None, seed: int | None = None
) -> tuple[AuditSample, bool]:
    """The county's sample of the month, drawn now (and audited) or the one already drawn: (sample, created)."""
    first, last = month_bounds(month)
    existing = AuditSample.objects.filter(county=county, month=first).first()
    if existing is not None:
        return existing, False
    require(user, "supervision.draw_auditsample", "抽取抽查样本")
    version = policy_in_force(county_id=county.pk, day=last)
    share = version.sample_share if version else DEFAULT_SHARE
    minimum = version.sample_minimum if version else DEFAULT_MINIMUM
    seed = secrets.randbelow(2**31) if seed is None else seed
    population = population_of(county.pk, first)
    chosen = draw({int(k): v for k, v in population.items()}, seed=seed, share=share, minimum=minimum)
    reviewers = list(
        User.objects.filter(role=Role.REVIEWER, county=county, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    dealt = assign(chosen, reviewers, involved(chosen), seed=seed)
    townships = dict(Case.objects.filter(pk__in=chosen).values_list("pk", "township_id"))
    try:
        with transaction.atomic():
            sample = AuditSample.objects.create(
                county=county,
                month=first,
                seed=seed,
                share=share,
                minimum=minimum,
                population=population,
                population_count=sum(len(v) for v in population.values()),
                drawn_by=user if getattr(user, "is_authenticated", False) else None,
            )
            SampleItem.objects.bulk_create(
                SampleItem(sample=sample, case_id=pk, township_id=townships[pk], reviewer_id=dealt[pk]) for pk in chosen
            )
            audit_record(
                actor=user,
                action="audit_sample.draw",
                obj=sample,
                after={
                    "month": f"{first:%Y-%m}",
                    "seed": seed,
                    "share": str(share),
                    "minimum": minimum,
                    "population": sample.population_count,
                    "sampled": len(chosen),
                    "unassigned": sum(1 for r in dealt.values() if r is None),
                },
            )
    except IntegrityError:  # drawn at the same moment by another request: that one stands
        return AuditSample.objects.get(county=county, month=first), False
    return sample, True


def sample_redraw(sample: AuditSample) -> list[int]:
    """The same draw made again from what the sample recorded."""
    population = {int(k): v for k, v in sample.population.items()}
    return draw(population, seed=sample.seed, share=sample.share, minimum=sample.minimum)


def sample_summary(sample: AuditSample, created: bool) -> str:
    items = sample.items.count()
    unassigned = sample.items.filter(reviewer__isnull=True).count()
    reviewers = sample.items.exclude(reviewer__isnull=True).values("reviewer").distinct().count()
    head = f"{sample.month:%Y年%m月}抽查 {sample.county.name}：" + ("" if created else "（此前已抽取）")
    tail = f"，{unassigned:,} 件没有未参与办理的审核人员，待指派" if unassigned else ""
    return (
        f"{head}样本 {items:,} 件（总体 {sample.population_count:,} 件，比例 {sample.share * 100:.2f}%，"
        f"每乡镇至少 {sample.minimum} 件），种子 {sample.seed}，指派审核人员 {reviewers:,} 名{tail}"
    )


@transaction.atomic
def sample_check(
    *,
    item: SampleItem,
    user,
    outcome: str,
    note: str = "",
    follow_up: str = "",
    correction: str = "",
    reason: str = "",
    amount: Decimal | None = None,
) -> SampleItem:
    """The reviewer's finding: 无误, or 有误 with a note and what follows — a correction (what was corrected) or a
    recovery (registered here, on a paid case). Only the assigned reviewer (any reviewer with no part in the
    case when none was assigned)."""
    require(user, "supervision.check_auditsample", "抽查复核")
    locked = SampleItem.objects.select_for_update().select_related("case", "sample").get(pk=item.pk)
    if locked.outcome != OUTCOME.PENDING:
        raise RecoveryRefused("该案件已复核")
    if user is not None:
        if locked.reviewer_id is not None and locked.reviewer_id != user.pk:
            raise RecoveryRefused("该案件已指派给另一名审核人员复核")
        if user.pk in involved([locked.case_id])[locked.case_id]:
            raise RecoveryRefused("参与过本案件办理的人员不能抽查复核本案件")
    if outcome not in (OUTCOME.CORRECT, OUTCOME.WRONG):
        raise RecoveryRefused("请选择复核结论")
    if outcome == OUTCOME.WRONG:
        if not note.strip():
            raise RecoveryRefused("有误须写明复核意见")
        if follow_up == FOLLOW.CORRECTION:
            if not correction.strip():
                raise RecoveryRefused("请写明更正的内容")
            locked.correction = correction.strip()
        elif follow_up == FOLLOW.RECOVERY:
            locked.recovery = recovery_create(
                case=locked.case,
                user=user,
                reason=reason or Reason.CALCULATION,
                amount=amount,
                note=f"抽查（{locked.sample}）发现：{note.strip()}",
            )
        else:
            raise RecoveryRefused("有误须选择处理：更正或追回")
        locked.follow_up = follow_up
    locked.outcome, locked.note, locked.checked_at = outcome, note.strip(), timezone.now()
    if locked.reviewer_id is None and user is not None:
        locked.reviewer = user
    locked.save()
    audit_record(
        actor=user,
        action="audit_sample.check",
        obj=locked.case,
        after={
            "sample": str(locked.sample),
            "outcome": locked.get_outcome_display(),
            "follow_up": locked.get_follow_up_display() if locked.follow_up else "",
            "recovery": locked.recovery.number if locked.recovery else "",
        },
        comment=locked.note,
    )
    return locked


def previous_month(day: datetime.date | None = None) -> datetime.date:
    day = day or timezone.localdate()
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
