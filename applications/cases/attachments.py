"""Scanned materials of a case: PDF, JPEG or PNG, recognised by content, stored outside the static tree."""

import hashlib
import os

from django.core.files.base import ContentFile
from django.db import transaction

from audit.services import audit_record

from ..models import CLOSED_STATUSES, Attachment, Case
from .materials import OTHER, case_supplement, materials_listed, materials_tick_on_upload
from .workflow import TransitionRefused, check_actor

S = Case.Status
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
AT_THE_WINDOW = (S.DRAFT, S.ACCEPTED, S.ACCEPTED_PENDING, S.RETURNED)


def sniff_content_type(content: bytes) -> str | None:
    """The file's type from its first bytes, never from its name."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


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
    if not content:
        raise TransitionRefused("文件是空的")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise TransitionRefused(f"文件过大：上限 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
    detected = sniff_content_type(content)
    if detected is None:
        raise TransitionRefused("只接受 PDF、JPEG 或 PNG 扫描件（按文件内容判断）")
    claimed = _EXTENSIONS.get(os.path.splitext(name.lower())[1])
    if claimed != detected:
        raise TransitionRefused("文件内容与扩展名不符，请确认文件没有被改名")
    attachment = Attachment(
        case=locked,
        material=material[:100],
        original_name=name[:255],
        content_type=detected,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save("scan", ContentFile(content), save=False)
    attachment.save()
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
