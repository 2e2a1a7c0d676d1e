"""The materials of a case as a checklist from the policy (DOMAIN §6): ticked, 容缺受理, supplemented.

The list and its key materials come from the policy in force on the day the case was accepted (today while it
is a draft). Before acceptance the clerk ticks what was received — a scan uploaded for a listed material ticks
it; acceptance records the unticked ones as missing (refused if a key material is among them) and 容缺受理 needs a
deadline; afterwards each missing material is ticked off as it arrives, and a 容缺受理 case whose list is then
complete becomes an ordinary accepted case. The 一次告知书 lists exactly what is still unticked.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from ..models import CLOSED_STATUSES, Case
from ..policy.selectors import policy_in_force
from .workflow import TransitionRefused, check_actor, transition

S = Case.Status
OTHER = "其他材料"


@dataclass
class Material:
    name: str
    key: bool
    supplied: bool
    scans: list = field(default_factory=list)


def materials_listed(case: Case) -> tuple[list[str], list[str]]:
    """(every listed material, the key ones) of the policy the case falls under."""
    day = case.accepted_on or timezone.localdate()
    version = policy_in_force(county_id=case.township.county_id, day=day)
    if version is None:
        return [], []
    return list(version.materials), [m for m in version.key_materials if m in version.materials]


def _supplied(case: Case, listed: list[str]) -> set[str]:
    if case.status == S.DRAFT:
        return set(case.materials_supplied)
    # Once accepted, what was missing is on the case; everything else on the list was received.
    return set(listed) - set(case.missing_materials)


def case_checklist(case: Case) -> list[Material]:
    """The policy's list with what was received and the scans of each, then scans of other materials."""
    listed, key = materials_listed(case)
    supplied = _supplied(case, listed)
    scans: dict[str, list] = {}
    for attachment in case.attachments.all():
        scans.setdefault(attachment.material if attachment.material in listed else OTHER, []).append(attachment)
    items = [Material(name, name in key, name in supplied, scans.get(name, [])) for name in listed]
    # Missing materials recorded on the case that the present list no longer names stay visible.
    items += [Material(name, False, False) for name in case.missing_materials if name not in listed]
    if OTHER in scans:
        items.append(Material(OTHER, False, True, scans[OTHER]))
    return items


def still_missing(case: Case) -> list[str]:
    """What the 一次告知书 asks for: every listed material not ticked as received."""
    return [m.name for m in case_checklist(case) if not m.supplied]


def acceptance(case: Case, *, supplied: list[str] | None, missing: list[str] | None, deadline) -> dict:
    """The materials fields an acceptance records, refused if a key material is missing.

    `supplied` is the clerk's ticks; `missing` the unticked ones named directly. With neither, every listed
    material was received."""
    listed, key = materials_listed(case)
    if supplied is not None:
        unknown = [name for name in supplied if name not in listed]
        if unknown:
            raise TransitionRefused(f"材料清单中没有：{'、'.join(unknown)}")
        missing = [name for name in listed if name not in supplied]
    missing = list(dict.fromkeys(missing or []))
    key_missing = [name for name in missing if name in key]
    if key_missing:
        raise TransitionRefused(
            f"缺少关键材料：{'、'.join(key_missing)}，不能受理（关键材料不能容缺）；请打印一次告知书交申请人"
        )
    received = [name for name in listed if name not in missing]
    if not missing:
        return {"materials_supplied": received, "missing_materials": [], "materials_deadline": None}
    if deadline is None:
        raise TransitionRefused(f"容缺受理须写明补齐材料的期限（缺：{'、'.join(missing)}）")
    if deadline < timezone.localdate():
        raise TransitionRefused("补齐材料的期限不能早于今天")
    return {"materials_supplied": received, "missing_materials": missing, "materials_deadline": deadline}


def _lock_open(case: Case, user) -> Case:
    locked = Case.objects.select_for_update().select_related("township").get(pk=case.pk)
    check_actor(locked, user, "submit")
    return locked


@transaction.atomic
def case_tick_materials(*, case: Case, user, supplied: list[str]) -> Case:
    """Before acceptance: record which listed materials the applicant handed in (ticks may be undone)."""
    locked = _lock_open(case, user)
    if locked.status != S.DRAFT:
        raise TransitionRefused("案件已受理，请用“登记补齐”记录后来交的材料")
    listed, _ = materials_listed(locked)
    unknown = [name for name in supplied if name not in listed]
    if unknown:
        raise TransitionRefused(f"材料清单中没有：{'、'.join(unknown)}")
    ticked = [name for name in listed if name in supplied]
    if ticked == locked.materials_supplied:
        return locked
    before = locked.materials_supplied
    locked.materials_supplied = ticked
    locked.revision += 1
    locked.save(update_fields=["materials_supplied", "revision", "updated_at"])
    audit_record(actor=user, action="case.materials", obj=locked, before={"已收": before}, after={"已收": ticked})
    return locked


@transaction.atomic
def case_supplement(*, case: Case, user, names: list[str]) -> Case:
    """After 容缺受理: materials handed in later are ticked off; a complete 容缺受理 case becomes 已受理."""
    locked = _lock_open(case, user)
    if locked.status in CLOSED_STATUSES:
        raise TransitionRefused(f"案件当前状态为“{locked.get_status_display()}”，不能登记补齐材料")
    unknown = [name for name in names if name not in locked.missing_materials]
    if unknown:
        raise TransitionRefused(f"这些材料不在待补齐清单中：{'、'.join(unknown)}")
    if not names:
        raise TransitionRefused("请勾选已补齐的材料")
    remaining = [name for name in locked.missing_materials if name not in names]
    received = list(dict.fromkeys([*locked.materials_supplied, *names]))
    comment = f"补齐：{'、'.join(names)}" + (f"；仍缺：{'、'.join(remaining)}" if remaining else "；材料已齐全")
    changes = {"missing_materials": remaining, "materials_supplied": received}
    if not remaining:
        changes["materials_deadline"] = None
    if not remaining and locked.status == S.ACCEPTED_PENDING:
        return transition(locked, user=user, action="supplement", comment=comment, **changes)
    before = {"缺": locked.missing_materials}
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.revision += 1
    locked.save(update_fields=[*changes, "revision", "updated_at"])
    audit_record(actor=user, action="case.supplement", obj=locked, before=before, after={"缺": remaining})
    return locked


def materials_tick_on_upload(locked: Case, material: str) -> None:
    """A scan uploaded for a listed material of a draft ticks it (the caller holds the lock and audits)."""
    if locked.status == S.DRAFT and material and material not in locked.materials_supplied:
        listed, _ = materials_listed(locked)
        if material in listed:
            locked.materials_supplied = [name for name in listed if name in {*locked.materials_supplied, material}]
            locked.save(update_fields=["materials_supplied", "updated_at"])


def default_deadline(today: datetime.date | None = None) -> datetime.date:
    """The deadline offered for 容缺受理: 15 days, which the clerk may change."""
    return (today or timezone.localdate()) + datetime.timedelta(days=15)
