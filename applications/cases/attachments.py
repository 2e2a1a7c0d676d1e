"""Scanned materials of a case: PDF, JPEG or PNG, recognised by content, stored outside the static tree."""

from django.db import transaction

from audit.services import audit_record
from lib.scans import MAX_SCAN_BYTES, ScanRefused

from ..models import CLOSED_STATUSES, Attachment, Case
from .materials import OTHER, case_supplement, materials_listed, materials_tick_on_upload
from .workflow import TransitionRefused, check_actor

S = Case.Status
MAX_ATTACHMENT_BYTES = MAX_SCAN_BYTES  # (the upload view refuses larger files before reading them)
AT_THE_WINDOW = (S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED)


@transaction.atomic
def case_attach(*, case: Case, user, name: str, content: bytes, material: str = ""):
    """Store a scan (PDF, JPEG or PNG, by content) for a listed material of a case still at the window.

    The scan ticks its material as received; after submission only a material still to be supplemented
    (容缺受理) may be uploaded, and that supplements it."""
    locked = Case.objects.select_for_update().select_related("township").get(pk=case.pk)
    check_actor(locked, user, "submit")
    material = material.strip() or OTHER
    listed, _ = materials_listed(locked)
    if material != OTHER and material not in listed and material not in locked.missing_materials:
        raise TransitionRefused(f"材料清单中没有“{material[:40]}”，请选择这份扫描件对应的材料")
    supplementing = material in locked.missing_materials and locked.status not in CLOSED_STATUSES
    if locked.status not in AT_THE_WINDOW and not supplementing:
        raise TransitionRefused("案件已提交审核，只能上传待补齐的容缺材料；其他补充请由审核人退回补正")
    try:
        attachment = Attachment(case=locked, material=material[:100]).store(name=name, content=content, user=user)
    except ScanRefused as exc:
        raise TransitionRefused(str(exc)) from None
    audit_record(
        actor=user,
        action="case.attach",
        obj=locked,
        after={"file": attachment.original_name, "material": material, "sha256": attachment.sha256},
    )
    if supplementing:
        case_supplement(case=locked, user=user, names=[material])
    else:
        materials_tick_on_upload(locked, material)
    return attachment
