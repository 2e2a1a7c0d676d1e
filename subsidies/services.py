"""Writing premium-subsidy rules: presets, drafts, confirmation of the 待确认 values, activation; and the list
that follows the rules in force (rebuilt when they change, once the change commits).

Nothing here touches the assistance policy (applications.PolicyVersion and its rules)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from lib.tasks import enqueue_on_commit

from . import rules as R
from .models import Mode, SubsidyContact, SubsidyRule, SubsidyRuleSet, default_reference_date
from .presets import preset

REBUILD_TASK = "subsidies.rebuild_list"


class RulesRejected(ValueError):
    """The rules cannot be saved or put in force; `errors` lists every reason, in Chinese."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("；".join(self.errors))


def _summary(rule_set: SubsidyRuleSet) -> dict:
    return {
        "premium": None if rule_set.premium is None else str(rule_set.premium),
        "premium_to_confirm": rule_set.premium_to_confirm,
        "reference_date": rule_set.reference_date.isoformat(),
        "new_in_year": rule_set.new_in_year,
        "target": str(rule_set.target),
        "rules": {
            r.category: [r.mode, None if r.amount is None else str(r.amount), r.to_confirm]
            for r in rule_set.rules.order_by("category")
        },
    }


def _check(rows: list[dict], premium: Decimal | None) -> None:
    errors = R.rule_errors([R.Rule(row["category"], row["mode"], row.get("amount")) for row in rows], premium)
    if errors:
        raise RulesRejected(errors)


def _create_rules(rule_set: SubsidyRuleSet, rows: list[dict]) -> None:
    SubsidyRule.objects.bulk_create(
        SubsidyRule(
            rule_set=rule_set,
            category=row["category"],
            mode=row["mode"],
            amount=row.get("amount") if row["mode"] == Mode.FIXED else None,
            to_confirm=bool(row.get("to_confirm")),
            note=row.get("note", "")[:200],
        )
        for row in rows
    )


@transaction.atomic
def subsidy_rules_load_preset(
    *, name: str, county, year: int, premium: Decimal | None = None, user=None, activate: bool = False
) -> tuple[SubsidyRuleSet, bool]:
    """Install a preset for a county and insurance year; returns (rule set, created). Loading it again changes
    nothing (the existing version is returned). Values the preset does not know stay 待确认: such a rule set is
    saved as a draft, and `activate` puts it in force only when nothing is left to confirm."""
    spec = preset(name, year=year, premium=premium)
    existing = SubsidyRuleSet.objects.filter(county=county, year=year, preset=name).order_by("-pk").first()
    if existing is not None:
        if activate and existing.status == SubsidyRuleSet.Status.DRAFT:
            subsidy_rules_activate(rule_set=existing, user=user)
            existing.refresh_from_db()
        return existing, False
    rows = [{"category": category, **rule} for category, rule in spec["rules"].items()]
    _check(rows, premium)
    rule_set = SubsidyRuleSet.objects.create(
        county=county,
        year=year,
        name=spec["name"],
        document_number=spec["document_number"],
        preset=name,
        premium=premium,
        reference_date=default_reference_date(year),
        new_in_year=spec["new_in_year"],
        notes=spec.get("notes", ""),
    )
    _create_rules(rule_set, rows)
    audit_record(
        actor=user,
        action="subsidy_rules.load_preset",
        obj=rule_set,
        after={"preset": name, "year": year, **_summary(rule_set)},
    )
    if activate:
        subsidy_rules_activate(rule_set=rule_set, user=user)
        rule_set.refresh_from_db()
    return rule_set, True


def _lock_draft(rule_set: SubsidyRuleSet, what: str) -> SubsidyRuleSet:
    locked = SubsidyRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if locked.status != SubsidyRuleSet.Status.DRAFT:
        raise RulesRejected(f"只有草稿可以{what}")
    return locked


@transaction.atomic
def subsidy_rules_save(*, rule_set: SubsidyRuleSet, user, fields: dict, rules: list[dict]) -> SubsidyRuleSet:
    """Save an edited draft: its fields and every rule row, all or nothing (a category listed twice or a
    negative amount saves nothing), audited with before and after."""
    locked = _lock_draft(rule_set, "修改")
    _check(rules, fields.get("premium", locked.premium))
    before = _summary(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean(exclude=["activated_by"])
    locked.save()
    locked.rules.all().delete()
    _create_rules(locked, rules)
    audit_record(actor=user, action="subsidy_rules.edit", obj=locked, before=before, after=_summary(locked))
    return locked


@transaction.atomic
def subsidy_rules_confirm(*, rule_set: SubsidyRuleSet, user) -> SubsidyRuleSet:
    """The administrator has checked the values marked 待确认 as they stand: the marks are cleared. Values still
    missing (the premium, a fixed amount) cannot be confirmed: they must be filled in first."""
    locked = _lock_draft(rule_set, "确认")
    missing = []
    if locked.premium is None:
        missing.append("请先填写个人缴费标准")
    for rule in locked.rules.filter(mode=Mode.FIXED, amount__isnull=True):
        missing.append(f"请先填写{rule.get_category_display()}的定额资助金额")
    if missing:
        raise RulesRejected(missing)
    confirmed = locked.open_items()
    locked.premium_to_confirm = False
    locked.save(update_fields=["premium_to_confirm"])
    locked.rules.filter(to_confirm=True).update(to_confirm=False)
    audit_record(actor=user, action="subsidy_rules.confirm", obj=locked, after={"confirmed": confirmed})
    return locked


@transaction.atomic
def subsidy_rules_activate(*, rule_set: SubsidyRuleSet, user) -> SubsidyRuleSet:
    """Put a draft in force for its county and insurance year. The version in force until now is retired
    (audited); the list is rebuilt once this commits. Refused while anything is 待确认."""
    locked = _lock_draft(rule_set, "生效")
    open_items = locked.open_items()
    if open_items:
        raise RulesRejected([f"还有 {len(open_items)} 项待确认，确认后才能生效：" + "、".join(open_items)])
    current = list(
        SubsidyRuleSet.objects.select_for_update().filter(
            county_id=locked.county_id, year=locked.year, status=SubsidyRuleSet.Status.ACTIVE
        )
    )
    for previous in current:
        previous.status = SubsidyRuleSet.Status.RETIRED
        previous.save(update_fields=["status"])
        audit_record(
            actor=user,
            action="subsidy_rules.succeeded",
            obj=previous,
            before={"status": "active"},
            after={"status": "retired", "succeeded_by": locked.pk},
        )
    locked.status = SubsidyRuleSet.Status.ACTIVE
    locked.activated_at = timezone.now()
    locked.activated_by = user
    locked.save(update_fields=["status", "activated_at", "activated_by"])
    audit_record(
        actor=user,
        action="subsidy_rules.activate",
        obj=locked,
        before={"status": "draft"},
        after={"status": "active", **_summary(locked)},
    )
    list_rebuild_on_commit(county_id=locked.county_id, year=locked.year)
    return locked


@transaction.atomic
def subsidy_rules_copy(*, rule_set: SubsidyRuleSet, user, year: int | None = None) -> SubsidyRuleSet:
    """A new draft with every value of the rule set, for the same insurance year (a revision) or another one
    (next year's rules; the reference date moves with the year, the premium is to be confirmed)."""
    year = year or rule_set.year
    same_year = year == rule_set.year
    draft = SubsidyRuleSet.objects.create(
        county_id=rule_set.county_id,
        year=year,
        name=f"{rule_set.name}（修订草稿）" if same_year else rule_set.name,
        document_number=rule_set.document_number,
        premium=rule_set.premium,
        premium_to_confirm=rule_set.premium_to_confirm or not same_year,
        reference_date=rule_set.reference_date if same_year else default_reference_date(year),
        new_in_year=rule_set.new_in_year,
        target=rule_set.target,
        notes=rule_set.notes,
    )
    _create_rules(
        draft,
        [
            {"category": r.category, "mode": r.mode, "amount": r.amount, "to_confirm": r.to_confirm, "note": r.note}
            for r in rule_set.rules.all()
        ],
    )
    audit_record(actor=user, action="subsidy_rules.copy", obj=draft, after={"copied_from": rule_set.pk, "year": year})
    return draft


def list_rebuild_on_commit(*, county_id: int, year: int) -> None:
    """Rebuild a county-year's list once the current transaction commits (once, however often it is asked)."""
    enqueue_on_commit(REBUILD_TASK, county_id, year, once_key=("subsidy_list", county_id, year))


@transaction.atomic
def subsidy_record_contact(*, entry, user, contacted_on, method: str, outcome: str, note: str = ""):
    """Record one call or visit of the township about a listed person not yet enrolled."""
    if not user.has_perm("subsidies.work_subsidyentry"):
        raise RulesRejected("没有跟进资助参保的权限")
    if user.township_scoped and entry.township_id != user.township_id:
        raise RulesRejected("只能跟进本乡镇的人员")
    if contacted_on > timezone.localdate():
        raise RulesRejected("联系日期不能晚于今天")
    if outcome not in SubsidyContact.Outcome.values or method not in SubsidyContact.Method.values:
        raise RulesRejected("请选择联系方式和联系结果")
    contact = SubsidyContact.objects.create(
        person_id=entry.person_id,
        year=entry.year,
        contacted_on=contacted_on,
        method=method,
        outcome=outcome,
        note=note,
        recorded_by=user,
    )
    audit_record(
        actor=user,
        action="subsidy.contact",
        obj=entry.person,
        object_repr=entry.person.name,
        after={"year": entry.year, "outcome": outcome, "method": method, "date": contacted_on.isoformat()},
        comment=note,
    )
    return contact
