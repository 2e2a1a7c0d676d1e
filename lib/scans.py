"""Scanned files (PDF, JPEG or PNG) kept beside a record — a case's materials, a recovery's evidence, a 因病致贫
application's 入户核查: one shape for their rows and one check of an upload, by content, never by name. The files
are stored under MEDIA_ROOT (outside the static tree) under random names, and served only through views that check
the record they belong to is visible."""

import hashlib
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models

MAX_SCAN_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_BY_EXTENSION = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class ScanRefused(ValueError):
    """An upload that is not an acceptable scan; the message is for the user."""


def sniff_content_type(content: bytes) -> str | None:
    """The file's type from its first bytes, never from its name."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


def scan_type(name: str, content: bytes, *, limit: int = MAX_SCAN_BYTES) -> str:
    """The content type of an acceptable scan: not empty, within the limit, a PDF, JPEG or PNG by its content, and
    named as what it is. Raises ScanRefused with the reason."""
    if not content:
        raise ScanRefused("文件是空的")
    if len(content) > limit:
        raise ScanRefused(f"文件过大：上限 {limit // 1024 // 1024} MB")
    detected = sniff_content_type(content)
    if detected is None:
        raise ScanRefused("只接受 PDF、JPEG 或 PNG 扫描件（按文件内容判断）")
    if _BY_EXTENSION.get(os.path.splitext(name.lower())[1]) != detected:
        raise ScanRefused("文件内容与扩展名不符，请确认文件没有被改名")
    return detected


def scan_path(folder: str, instance: "ScannedFile") -> str:
    """`folder/<random>.pdf`: the stored name never comes from the upload."""
    return f"{folder}/{uuid.uuid4().hex}{instance.extension}"


class ScannedFile(models.Model):
    """The fields every kept scan has; a concrete model adds its record's foreign key and its `file` field (with
    an `upload_to` calling scan_path)."""

    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("文件类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.original_name

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "")

    def store(self, *, name: str, content: bytes, user, limit: int = MAX_SCAN_BYTES) -> "ScannedFile":
        """Check the upload (ScanRefused), then write the file and the row."""
        self.content_type = scan_type(name, content, limit=limit)
        self.original_name = name[:255]
        self.size = len(content)
        self.sha256 = hashlib.sha256(content).hexdigest()
        self.uploaded_by = user
        self.file.save("scan", ContentFile(content), save=False)
        self.save()
        return self
