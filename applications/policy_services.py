"""Writing and reading policy versions, and posting to the person-year ledger."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record

from . import policy_engine as engine
from .models import FirstRoundRule, LedgerEntry, PolicyVersion, RegionIncome, SecondaryRule
from .policy_presets import CATEGORY_ORDER, MATERIALS, preset


class PolicyRejected(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def _overlapping_active(version: PolicyVersion):
    others = PolicyVersion.objects.filter(county_id=version.county_id, status=PolicyVersion.Status.ACTIVE).exclude(
        pk=version.pk
    )
    if version.effective_to is not None:
        others = others.filter(effective_from__lte=version.effective_to)
    return others.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=version.effective_from))


@transaction.atomic
def policy_activate(*, version: PolicyVersion, user) -> PolicyVersion:
    """Put a draft into force. Two active versions of one region may not overlap in time."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise PolicyRejected("只有草稿可以生效")
    # Lock the region's active versions so two activations cannot both pass the overlap check.
    list(PolicyVersion.objects.select_for_update().filter(county_id=version.county_id, status="active"))
    clash = _overlapping_active(version).first()
    if clash is not None:
        raise PolicyRejected(f"与已生效的“{clash}”（{clash.effective_from} 起）时间重叠，请先调整其失效日期")
    version.status = PolicyVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.activated_by = user
    version.save(update_fields=["status", "activated_at", "activated_by"])
    audit_record(
        actor=user, action="policy.activate", obj=version, before={"status": "draft"}, after={"status": "active"}
    )
    return version


@transaction.atomic
def policy_load_preset(*, name: str, county, user=None, activate: bool = True) -> tuple[PolicyVersion, bool]:
    """Install a preset for a region; returns (version, created). Loading it again changes nothing."""
    spec = preset(name)
    existing = PolicyVersion.objects.filter(county=county, preset=name).first()
    if existing is not None:
        return existing, False
    version = PolicyVersion.objects.create(
        county=county,
        name=spec["name"],
        document_number=spec["document_number"],
        preset=name,
        effective_from=datetime.date.fromisoformat(spec["effective_from"]),
        notes=spec.get("notes", ""),
        key_categories=spec.get("key_categories", []),
        materials=MATERIALS,
        to_confirm=spec.get("to_confirm", []),
    )
    rows = []
    for category, rules in spec["first_round"].items():
        for visit_type, rule in rules.items():
            rows.append(
                FirstRoundRule(
                    version=version,
                    category=category,
                    visit_type=visit_type,
                    eligible=rule.eligible,
                    ratio=rule.ratio,
                    deductible_kind=rule.deductible.kind,
                    deductible_value=rule.deductible.value,
                    cap=rule.cap,
                    pool=rule.pool,
                )
            )
    FirstRoundRule.objects.bulk_create(rows)
    SecondaryRule.objects.bulk_create(
        SecondaryRule(
            version=version,
            category=category,
            trigger=rule.trigger,
            deductible=rule.deductible,
            bands=[{"upto": None if b.upto is None else str(b.upto), "ratio": str(b.ratio)} for b in rule.bands],
            cap=rule.cap,
        )
        for category, rule in spec["secondary"].items()
    )
    audit_record(actor=user, action="policy.load_preset", obj=version, after={"preset": name})
    if activate:
        policy_activate(version=version, user=user)
        version.refresh_from_db()
    return version, True


def policy_in_force(*, county_id: int, day: datetime.date) -> PolicyVersion | None:
    """The active version of the region whose window contains the day (the service date)."""
    return (
        PolicyVersion.objects.filter(county_id=county_id, status=PolicyVersion.Status.ACTIVE, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )


def engine_policy(version: PolicyVersion, *, year: int) -> engine.Policy:
    """The calculator's view of a stored version, with the income standard of the year before."""
    income = RegionIncome.objects.filter(county_id=version.county_id, year=year - 1).values_list("amount", flat=True)
    first_round = {
        (r.category, r.visit_type): engine.FirstRoundRule(
            eligible=r.eligible,
            ratio=r.ratio,
            deductible=engine.Deductible(r.deductible_kind, r.deductible_value),
            cap=r.cap,
            pool=r.pool,
        )
        for r in version.first_round_rules.all()
    }
    secondary = {
        r.category: engine.SecondaryRule(
            trigger=r.trigger,
            deductible=r.deductible,
            bands=tuple(
                engine.Band(None if b["upto"] is None else Decimal(b["upto"]), Decimal(b["ratio"])) for b in r.bands
            ),
            cap=r.cap,
        )
        for r in version.secondary_rules.all()
    }
    from recipients.categories import Category

    return engine.Policy(
        name=str(version),
        first_round=first_round,
        secondary=secondary,
        category_order=CATEGORY_ORDER,
        prior_year_income=income.first(),
        category_names=dict(Category.choices),
    )


class CapExceeded(ValueError):
    """Posting would take a person-year past its cap; nothing was posted."""


def ledger_post(
    *,
    person_id: int,
    year: int,
    pool: str,
    granted: Decimal,
    deductible_used: Decimal = Decimal("0"),
    cap: Decimal | None = None,
) -> LedgerEntry:
    """Add to a person-year-pool's totals with the row locked; refuse to pass the cap.

    Call inside the transaction that records the grant. The row is created if missing (a
    conflict-ignoring insert, so two first postings cannot both create it), then locked.
    """
    LedgerEntry.objects.bulk_create([LedgerEntry(person_id=person_id, year=year, pool=pool)], ignore_conflicts=True)
    entry = LedgerEntry.objects.select_for_update().get(person_id=person_id, year=year, pool=pool)
    if cap is not None and entry.granted + granted > cap:
        raise CapExceeded(f"超过年度封顶线：已救助 {entry.granted} 元，本次 {granted} 元，封顶 {cap} 元")
    entry.granted += granted
    entry.deductible_used += deductible_used
    entry.save(update_fields=["granted", "deductible_used", "updated_at"])
    return entry
