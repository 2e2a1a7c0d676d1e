"""Writing policy versions: presets, drafts, activation."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record

from ..models import FirstRoundRule, PolicyVersion, SecondaryRule
from ..signals import policy_copied
from .presets import KEY_MATERIALS, MATERIALS, preset


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
    # A new version succeeds an open-ended one that started earlier: that one ends the day before.
    for previous in _overlapping_active(version).filter(
        effective_to__isnull=True, effective_from__lt=version.effective_from
    ):
        previous.effective_to = version.effective_from - datetime.timedelta(days=1)
        previous.save(update_fields=["effective_to"])
        audit_record(
            actor=user,
            action="policy.succeeded",
            obj=previous,
            after={"effective_to": previous.effective_to.isoformat(), "succeeded_by": version.pk},
        )
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
        key_materials=KEY_MATERIALS,
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


@transaction.atomic
def policy_copy_to_draft(*, version: PolicyVersion, user) -> PolicyVersion:
    """A new draft with every parameter of the version, to be edited and then activated."""
    draft = PolicyVersion.objects.create(
        county_id=version.county_id,
        name=f"{version.name}（修订草稿）",
        document_number=version.document_number,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        notes=version.notes,
        key_categories=version.key_categories,
        major_disease_codes=version.major_disease_codes,
        time_limit_working_days=version.time_limit_working_days,
        claim_deadline_days=version.claim_deadline_days,
        public_notice_required=version.public_notice_required,
        second_approval_threshold=version.second_approval_threshold,
        sample_share=version.sample_share,
        sample_minimum=version.sample_minimum,
        materials=version.materials,
        key_materials=version.key_materials,
        to_confirm=version.to_confirm,
    )
    rules = list(version.first_round_rules.all())
    for rule in rules:
        rule.pk = None
        rule.version = draft
    FirstRoundRule.objects.bulk_create(rules)
    secondary = list(version.secondary_rules.all())
    for rule in secondary:
        rule.pk = None
        rule.version = draft
    SecondaryRule.objects.bulk_create(secondary)
    audit_record(actor=user, action="policy.copy", obj=draft, after={"copied_from": version.pk})
    policy_copied.send(sender=PolicyVersion, source=version, draft=draft, user=user)
    return draft


def _rule_summary(version: PolicyVersion) -> dict:
    first = {
        f"{r.category}/{r.visit_type}": [
            r.eligible,
            str(r.ratio),
            r.deductible_kind,
            str(r.deductible_value),
            str(r.cap),
            r.pool,
        ]
        for r in version.first_round_rules.all()
    }
    second = {
        r.category: [str(r.trigger), str(r.deductible), r.bands, str(r.cap)] for r in version.secondary_rules.all()
    }
    return {"first_round": first, "secondary": second}


@transaction.atomic
def policy_save_draft(*, version: PolicyVersion, user, fields: dict, first_round: list[dict], secondary: list[dict]):
    """Save an edited draft: the version's fields and every rule row, audited with before and after."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise PolicyRejected("只有草稿可以修改")
    before = _rule_summary(version)
    for name, value in fields.items():
        setattr(version, name, value)
    version.full_clean(exclude=["activated_by"])
    version.save()
    version.first_round_rules.all().delete()
    FirstRoundRule.objects.bulk_create(FirstRoundRule(version=version, **row) for row in first_round)
    version.secondary_rules.all().delete()
    SecondaryRule.objects.bulk_create(SecondaryRule(version=version, **row) for row in secondary)
    audit_record(actor=user, action="policy.edit", obj=version, before=before, after=_rule_summary(version))
    return version
