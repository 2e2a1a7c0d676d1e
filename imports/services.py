"""The import flow, written once for every format (registry.ImportFormat):

upload (`import_create`) → background check and preview (`import_validate`) → the user reads the report →
confirm (`import_confirm`) → background write, all or nothing (`import_apply`) → history; `import_cancel` for a
checked file; `import_run` checks and writes in one go for the operator commands. A system error marks the
record FAILED with a message in Chinese. Every transition is a conditional update and writes its audit row
in the same transaction; the work is queued by task name once that transaction commits.
"""

import contextlib
import datetime
import hashlib
import logging
import time

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit.services import audit_record
from lib.errors import bounded
from lib.tasks import enqueue_on_commit

from .models import ImportRecord, ImportStatus
from .registry import ImportFormat, Report, get_format

logger = logging.getLogger(__name__)
S = ImportStatus

CHECK_CRASHED = "校验时发生系统错误，未写入任何数据；请联系系统管理员。"
WRITE_CRASHED = "导入时发生系统错误，未写入任何数据；请联系系统管理员。"
RECHECK_FAILED = "写入前的校验未通过，未写入任何数据"
REPORT_FIELDS = ["total_rows", "processed_rows", "errors", "error_count", "error_kinds"]


class ImportRejected(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


@contextlib.contextmanager
def dry_run():
    """A transaction that is always rolled back: for a check that counts what writing would change by writing."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _action(fmt: ImportFormat, step: str) -> str:
    return f"{fmt.audit_prefix}.{step}"


def _refuse_file(fmt: ImportFormat, file_name: str, content: bytes) -> None:
    if not content:
        raise ImportRejected("上传的文件是空的")
    limit = getattr(settings, fmt.max_upload_setting)
    if len(content) > limit:
        raise ImportRejected(f"文件过大（上限 {limit // 1024 // 1024} MB）")
    if not file_name.lower().endswith((".xlsx", ".csv")):
        raise ImportRejected("文件类型不支持：只接受 .xlsx 或 .csv 文件")


def _plain(value):
    """A record's option as it goes into an audit row (JSON)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def import_create(
    *,
    kind: str,
    user,
    file_name: str,
    content: bytes,
    options: dict | None = None,
    enqueue: bool = True,
    keep_content: bool = True,
) -> ImportRecord:
    """Store an uploaded file and queue its check. Nothing the file is about changes yet.

    `options` are the format's (the upload form's other fields); `keep_content=False` keeps only the file's
    hash, for an operator command that passes the bytes to `import_run` itself.
    """
    fmt = get_format(kind)
    _refuse_file(fmt, file_name, content)
    fields = fmt.prepare(user, dict(options or {})) if fmt.prepare else {}
    with transaction.atomic():
        record = fmt.model.objects.create(
            created_by=user,
            file_name=file_name[:255],
            file_hash=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
            content=content if keep_content else b"",
            **fields,
        )
        audit_record(
            actor=user,
            action=_action(fmt, "upload"),
            obj=record,
            after={
                "file_name": record.file_name,
                "file_hash": record.file_hash,
                "size": record.file_size,
                **{name: _plain(value) for name, value in fields.items()},
            },
        )
        if enqueue:
            enqueue_on_commit("imports.validate", fmt.kind, record.pk)
    return record


def _progress(model, pk: int):
    def update(done: int, total: int) -> None:
        model.objects.filter(pk=pk).update(processed_rows=done, total_rows=total)

    return update


def _store(record: ImportRecord, report: Report) -> list[str]:
    """Put the report on the record, its errors bounded (lib.errors); returns the fields to save."""
    errors = bounded(report.errors)
    record.total_rows = report.total_rows
    record.processed_rows = report.total_rows
    record.errors = list(errors)
    record.error_count = errors.total
    record.error_kinds = errors.kinds if errors.total > len(errors) else []
    for name, value in report.values.items():
        setattr(record, name, value)
    return [*REPORT_FIELDS, *report.values]


def _fail(fmt: ImportFormat, pk: int, from_status: str, message: str) -> None:
    """Mark a record FAILED after a system error. The details, which may quote personal data from the file,
    go to the log, not to the page."""
    with transaction.atomic():
        if fmt.model.objects.filter(pk=pk, status=from_status).update(status=S.FAILED, message=message):
            record = fmt.model.objects.defer("content", "errors").get(pk=pk)
            audit_record(
                actor=None,
                action=_action(fmt, "fail"),
                obj=record,
                before={"status": from_status},
                after={"status": S.FAILED},
                comment=message,
            )


def import_validate(*, kind: str, pk: int) -> ImportRecord:
    """Check every row and store the report and the preview counts: status becomes VALID or INVALID.

    Read-only on what the file is about, so a redelivered task (a worker died mid-way) simply runs again; a
    record already checked is left as it is.
    """
    fmt = get_format(kind)
    claimed = fmt.model.objects.filter(pk=pk, status__in=[S.PENDING, S.VALIDATING]).update(
        status=S.VALIDATING, processed_rows=0, message="正在校验…"
    )
    record = fmt.model.objects.get(pk=pk)
    if not claimed:
        return record
    started = time.monotonic()
    try:
        report = fmt.check(record, bytes(record.content), progress=_progress(fmt.model, pk))
    except Exception:
        logger.exception("checking %s import %s failed", kind, pk)
        _fail(fmt, pk, S.VALIDATING, CHECK_CRASHED)
        raise
    fields = _store(record, report)
    record.status = S.VALID if report.ok else S.INVALID
    record.message = ""
    record.duration_seconds = round(time.monotonic() - started, 2)
    with transaction.atomic():
        record.save(update_fields=[*fields, "status", "message", "duration_seconds"])
        audit_record(
            actor=None,
            action=_action(fmt, "validate"),
            obj=record,
            after={"status": record.status, "rows": record.total_rows, "errors": record.error_count},
        )
    return record


def import_confirm(*, record: ImportRecord, user, enqueue: bool = True) -> ImportRecord:
    """Accept a checked file for writing; the writing runs as a background task."""
    fmt = record.import_format
    with transaction.atomic():
        claimed = fmt.model.objects.filter(pk=record.pk, status=S.VALID).update(
            status=S.APPLYING, applied_by=user, processed_rows=0, message="正在导入…"
        )
        if not claimed:
            raise ImportRejected("该文件当前状态不能确认导入（可能已导入、已取消或未通过校验）")
        audit_record(
            actor=user,
            action=_action(fmt, "confirm"),
            obj=record,
            before={"status": S.VALID},
            after={"status": S.APPLYING},
        )
        if enqueue:
            enqueue_on_commit("imports.apply", fmt.kind, record.pk)
    record.refresh_from_db()
    return record


def import_run(*, record: ImportRecord, user, content: bytes | None = None) -> ImportRecord:
    """Check and write an uploaded file in one go, without the preview step (operator commands).

    The file is still checked in full before anything is written; on any error nothing is. `content` is
    given when the record does not keep the file.
    """
    fmt = record.import_format
    with transaction.atomic():
        claimed = fmt.model.objects.filter(pk=record.pk, status=S.PENDING).update(status=S.APPLYING, applied_by=user)
        if not claimed:
            raise ImportRejected("该文件已在处理中或已处理")
        audit_record(actor=user, action=_action(fmt, "confirm"), obj=record, comment="命令行导入：校验后直接写入")
    return import_apply(kind=fmt.kind, pk=record.pk, content=content)


def import_apply(*, kind: str, pk: int, content: bytes | None = None) -> ImportRecord:
    """Check the file again and write it in one transaction, all or nothing; then announce it.

    What the file is about may have changed since it was checked (a township renamed, another file written),
    so nothing is written unless every row is still valid. A redelivered task finds the record no longer
    APPLYING and does nothing.
    """
    fmt = get_format(kind)
    record = fmt.model.objects.defer("content", "errors").get(pk=pk)
    if record.status != S.APPLYING:
        return record  # written by an earlier delivery of the task, or cancelled
    if content is None:
        content = bytes(fmt.model.objects.values_list("content", flat=True).get(pk=pk))
    started = time.monotonic()
    try:
        with transaction.atomic():
            locked = fmt.model.objects.select_for_update().defer("content", "errors").get(pk=pk)
            if locked.status != S.APPLYING:
                return locked
            report = fmt.write(locked, content)
            if report.ok:
                fields = _store(locked, report)
                locked.status = S.DONE
                locked.applied_at = timezone.now()
                locked.message = ""
                locked.duration_seconds = round(time.monotonic() - started, 2)
                locked.save(update_fields=[*fields, "status", "applied_at", "message", "duration_seconds"])
                audit_record(
                    actor=locked.applied_by,
                    action=_action(fmt, "apply"),
                    obj=locked,
                    after={"file_hash": locked.file_hash, "rows": report.total_rows, **report.audit_summary()},
                )
                if fmt.announce is not None:
                    fmt.announce(locked, report)
                return locked
            transaction.set_rollback(True)  # nothing of a file that no longer checks out stays written
    except Exception:
        logger.exception("writing %s import %s failed", kind, pk)
        _fail(fmt, pk, S.APPLYING, WRITE_CRASHED)
        raise
    errors = bounded(report.errors)
    with transaction.atomic():
        rejected = fmt.model.objects.filter(pk=pk, status=S.APPLYING).update(
            status=S.INVALID,
            errors=list(errors),
            error_count=errors.total,
            error_kinds=errors.kinds if errors.total > len(errors) else [],
            total_rows=report.total_rows,
            message=RECHECK_FAILED,
        )
        if rejected:
            audit_record(
                actor=None,
                action=_action(fmt, "validate"),
                obj=record,
                before={"status": S.APPLYING},
                after={"status": S.INVALID, "rows": report.total_rows, "errors": errors.total},
                comment=RECHECK_FAILED,
            )
    record.refresh_from_db()
    return record


def import_cancel(*, record: ImportRecord, user) -> ImportRecord:
    """Drop a checked file (valid or not) without writing it."""
    fmt = record.import_format
    with transaction.atomic():
        locked = fmt.model.objects.select_for_update().defer("content", "errors").get(pk=record.pk)
        if locked.status not in (S.VALID, S.INVALID):
            raise ImportRejected("该文件当前状态不能取消")
        fmt.model.objects.filter(pk=record.pk).update(status=S.CANCELLED)
        audit_record(
            actor=user,
            action=_action(fmt, "cancel"),
            obj=record,
            before={"status": locked.status},
            after={"status": S.CANCELLED},
        )
    record.refresh_from_db()
    return record
