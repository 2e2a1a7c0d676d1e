"""The import flow, written once for every format (registry.ImportFormat):

upload (`import_create`) → background check and preview (`import_validate`) → the user reads the report →
confirm (`import_confirm`) → background write, all or nothing (`import_apply`) → history; `import_cancel` for a
checked file; `import_run` checks and writes in one go for the operator commands. A system error marks the
record FAILED with a message in Chinese. Every transition is a conditional update and writes its audit row
in the same transaction; the work is queued by task name once that transaction commits. A format that declares
its columns has its file's column profile chosen when the file is checked (imports.profiles) and kept on the record.
"""

import contextlib
import datetime
import hashlib
import logging
import time

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from lib.binary import write_bytes
from lib.errors import bounded
from lib.heartbeat import heartbeat
from lib.tasks import enqueue_on_commit

from .models import ImportRecord, ImportStatus
from .profiles import Choice, choose_for
from .registry import ImportFormat, Report, all_formats, get_format

logger = logging.getLogger(__name__)
S = ImportStatus

CHECK_CRASHED = "校验时发生系统错误，未写入任何数据；请联系系统管理员。"
WRITE_CRASHED = "导入时发生系统错误，未写入任何数据；请联系系统管理员。"
OUT_OF_MEMORY = "文件太大，处理时超出了内存上限，未写入任何数据；请分成几个文件导入，或改用 CSV。"
INTERRUPTED = "处理中断：运行它的进程已停止响应，未写入任何数据。可点“重新校验”再次处理，或取消。"
TOO_MANY_ATTEMPTS = "处理已中断 {n} 次，不再自动重试，未写入任何数据。可点“重新校验”再次处理，或取消。"
MAX_ATTEMPTS = 3
STALE_AFTER = datetime.timedelta(minutes=3)  # a running check or write without a heartbeat for this long is dead
RESEND_AFTER = datetime.timedelta(minutes=30)  # a queued step whose task never started is sent again
RECHECK_FAILED = "写入前的校验未通过，未写入任何数据"
REPORT_FIELDS = ["total_rows", "processed_rows", "errors", "error_count", "error_kinds"]
PROFILE_FIELDS = ["profile_name", "profile_mapping"]


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


def _refuse_file(fmt: ImportFormat, file_name: str, content: bytes, *, kept: bool = True) -> None:
    if not content:
        raise ImportRejected("上传的文件是空的")
    limit = getattr(settings, fmt.max_upload_setting)
    # The limit is on files kept in the database (uploads); an operator's file read from its disk has none.
    if kept and len(content) > limit:
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
    _refuse_file(fmt, file_name, content, kept=keep_content)
    fields = fmt.prepare(user, dict(options or {})) if fmt.prepare else {}
    fields.setdefault("county_id", _county_of(fmt, user, options))
    with transaction.atomic():
        record = fmt.model.objects.create(
            created_by=user,
            file_name=file_name[:255],
            file_hash=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
            content=content if keep_content and connection.vendor != "postgresql" else b"",
            queued_at=timezone.now(),
            **fields,
        )
        if keep_content and connection.vendor == "postgresql":
            write_bytes(record, "content", content)
            record.content = content
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


def _county_of(fmt: ImportFormat, user, options) -> int | None:
    """The county a file belongs to: the uploader's; an operator's (no user) named with --county, or the only one."""
    if user is not None:
        return user.scope_county_id
    county = (options or {}).get("county")
    if county is not None:
        return county.pk
    counties_model = fmt.model._meta.get_field("county").related_model
    counties = list(counties_model.objects.values_list("pk", flat=True)[:2])
    return counties[0] if len(counties) == 1 else None


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


def _sample(fmt: ImportFormat, record: ImportRecord) -> dict:
    """The first rows as read, for the page; a preview that cannot be made leaves the check as it is."""
    if fmt.sample is None or not record.content:
        return {}
    try:
        return fmt.sample(record, bytes(record.content))
    except Exception:
        logger.exception("the sample of %s import %s could not be read", fmt.kind, record.pk)
        return {}


def _crashed(exc: Exception, default: str) -> str:
    return OUT_OF_MEMORY if isinstance(exc, MemoryError) else default


def _fail(fmt: ImportFormat, pk: int, from_status: str, message: str) -> None:
    """Mark a record FAILED after a system error. The details, which may quote personal data from the file,
    go to the log, not to the page. A connection the error broke (killed by the database) is replaced first, so
    that the record does not stay 导入中."""
    if not connection.in_atomic_block:  # (inside a caller's transaction the connection is the caller's)
        connection.close_if_unusable_or_obsolete()
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
        status=S.VALIDATING, processed_rows=0, message="正在校验…", attempts=F("attempts") + 1
    )
    record = fmt.model.objects.get(pk=pk)
    if not claimed:
        return record
    if record.attempts > MAX_ATTEMPTS:  # delivered again and again: each time the worker died on this file
        _fail(fmt, pk, S.VALIDATING, TOO_MANY_ATTEMPTS.format(n=record.attempts - 1))
        return fmt.model.objects.get(pk=pk)
    started = time.monotonic()
    content = bytes(record.content)
    try:
        with heartbeat(fmt.model, pk):
            choice = choose_for(record, content)
            report = _checked(choice, lambda: fmt.check(record, content, progress=_progress(fmt.model, pk)))
    except Exception as exc:
        logger.exception("checking %s import %s failed", kind, pk)
        _fail(fmt, pk, S.VALIDATING, _crashed(exc, CHECK_CRASHED))
        raise
    fields = [*_store(record, report), *PROFILE_FIELDS]
    record.sample = _sample(fmt, record)
    fields.append("sample")
    record.status = S.VALID if report.ok else S.INVALID
    record.message = ""
    record.duration_seconds = round(time.monotonic() - started, 2)
    record.heartbeat_at = None  # the check is over: nothing runs until the user confirms
    with transaction.atomic():
        record.save(update_fields=[*fields, "status", "message", "duration_seconds", "heartbeat_at"])
        audit_record(
            actor=None,
            action=_action(fmt, "validate"),
            obj=record,
            after={
                "status": record.status,
                "rows": record.total_rows,
                "errors": record.error_count,
                **({"profile": record.profile_name} if record.profile_name else {}),
            },
        )
    return record


def _checked(choice: Choice, check) -> Report:
    """The format's check of a file read through the chosen profile; a file no profile can read is refused
    without it, and a profile the file nearly matches is named before the check's errors."""
    if choice.errors:
        return Report(errors=choice.errors)
    report = check()
    if choice.hints and not report.ok:
        report.errors = [*choice.hints, *report.errors]
    return report


def import_confirm(*, record: ImportRecord, user, enqueue: bool = True) -> ImportRecord:
    """Accept a checked file for writing; the writing runs as a background task."""
    fmt = record.import_format
    with transaction.atomic():
        claimed = fmt.model.objects.filter(pk=record.pk, status=S.VALID).update(
            status=S.APPLYING,
            applied_by=user,
            processed_rows=0,
            message="正在导入…",
            queued_at=timezone.now(),
            heartbeat_at=None,
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
    claimed = fmt.model.objects.filter(pk=pk, status=S.APPLYING).update(attempts=F("attempts") + 1)
    record = fmt.model.objects.defer("content", "errors").get(pk=pk)
    if not claimed:
        return record  # written by an earlier delivery of the task, or cancelled
    if record.attempts > MAX_ATTEMPTS:
        _fail(fmt, pk, S.APPLYING, TOO_MANY_ATTEMPTS.format(n=record.attempts - 1))
        return fmt.model.objects.get(pk=pk)
    if content is None:
        content = bytes(fmt.model.objects.values_list("content", flat=True).get(pk=pk))
    started = time.monotonic()
    try:
        with heartbeat(fmt.model, pk), transaction.atomic():
            locked = fmt.model.objects.select_for_update().defer("content", "errors").get(pk=pk)
            if locked.status != S.APPLYING:
                return locked
            # The profile of the check, as the preview showed it; chosen now for a command's file.
            choice = choose_for(locked, content, reuse=True)
            report = _checked(choice, lambda: fmt.write(locked, content))
            if report.ok:
                fields = [*_store(locked, report), *PROFILE_FIELDS]
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
    except Exception as exc:
        logger.exception("writing %s import %s failed", kind, pk)
        _fail(fmt, pk, S.APPLYING, _crashed(exc, WRITE_CRASHED))
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
            profile_name=locked.profile_name,
            profile_mapping=locked.profile_mapping,
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
    """Drop a checked or failed file without writing it."""
    fmt = record.import_format
    with transaction.atomic():
        locked = fmt.model.objects.select_for_update().defer("content", "errors").get(pk=record.pk)
        if locked.status not in (S.VALID, S.INVALID, S.FAILED):
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


def import_retry(*, record: ImportRecord, user) -> ImportRecord:
    """Check a failed file again from the start (the file is kept in the record)."""
    fmt = record.import_format
    with transaction.atomic():
        locked = fmt.model.objects.select_for_update().defer("content", "errors").get(pk=record.pk)
        if locked.status != S.FAILED:
            raise ImportRejected("只有处理失败的文件可以重新校验")
        if not fmt.model.objects.filter(pk=record.pk).exclude(content=b"").exists():
            raise ImportRejected("该文件是命令行导入的，系统没有保存文件内容；请重新运行导入命令")
        fmt.model.objects.filter(pk=record.pk).update(
            status=S.PENDING, message="", attempts=0, heartbeat_at=None, processed_rows=0, queued_at=timezone.now()
        )
        audit_record(
            actor=user,
            action=_action(fmt, "retry"),
            obj=record,
            before={"status": S.FAILED},
            after={"status": S.PENDING},
        )
        enqueue_on_commit("imports.validate", fmt.kind, record.pk)
    record.refresh_from_db()
    return record


def imports_sweep() -> dict[str, int]:
    """Nothing stays stuck (periodic, config/schedules.py): a check or write whose heartbeat stopped is marked
    FAILED — a write is one transaction, so nothing of it was written — and a step whose task never started (a
    broker restarted) is sent again; both tasks do nothing twice."""
    now = timezone.now()
    found = {"failed": 0, "resent": 0}
    for fmt in all_formats():
        running = fmt.model.objects.filter(status__in=[S.VALIDATING, S.APPLYING], heartbeat_at__lt=now - STALE_AFTER)
        for pk, status in running.values_list("pk", "status"):
            _fail(fmt, pk, status, INTERRUPTED)
            found["failed"] += 1
        waiting = fmt.model.objects.filter(
            status__in=[S.PENDING, S.APPLYING], heartbeat_at__isnull=True, queued_at__lt=now - RESEND_AFTER
        ).exclude(content=b"")
        for pk, status in waiting.values_list("pk", "status"):
            fmt.model.objects.filter(pk=pk).update(queued_at=now)
            enqueue_on_commit("imports.validate" if status == S.PENDING else "imports.apply", fmt.kind, pk)
            found["resent"] += 1
    return found
