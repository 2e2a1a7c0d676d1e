"""Services of the settlement data: import from the web (check, preview, confirm) and from the command line."""

import hashlib
import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record
from lib.tasks import enqueue_on_commit

from .importer import Outcome, import_settlements_file
from .models import SettlementImport
from .signals import settlements_applied

logger = logging.getLogger(__name__)
S = SettlementImport.Status


class ImportRejected(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def _lock_settlement_imports() -> None:
    """One settlement import writes at a time: two files holding the same 结算单号 must not interleave."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('settlements.import'))")


def _check_file(file_name: str, content: bytes) -> None:
    if not content:
        raise ImportRejected("上传的文件是空的")
    if len(content) > settings.SETTLEMENT_MAX_UPLOAD_BYTES:
        raise ImportRejected(f"文件过大（上限 {settings.SETTLEMENT_MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
    lower = file_name.lower()
    if not (lower.endswith(".xlsx") or lower.endswith(".csv")):
        raise ImportRejected("文件类型不支持：只接受 .xlsx 或 .csv 文件")


def settlement_import_create(*, user, file_name: str, content: bytes, enqueue: bool = True) -> SettlementImport:
    """Store an uploaded settlement file and queue its check. Nothing is written to the settlements yet."""
    _check_file(file_name, content)
    with transaction.atomic():
        record = SettlementImport.objects.create(
            created_by=user,
            file_name=file_name[:255],
            file_hash=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
            content=content,
        )
        audit_record(
            actor=user,
            action="settlement_import.upload",
            obj=record,
            after={"file_name": record.file_name, "file_hash": record.file_hash, "size": record.file_size},
        )
        if enqueue:
            enqueue_on_commit("settlements.validate_settlement_import", record.pk)
    return record


def _store_outcome(record: SettlementImport, outcome: Outcome) -> None:
    record.total_rows = outcome.total_rows
    record.errors = outcome.errors
    record.error_count = len(outcome.errors)
    record.rows_added = outcome.added
    record.rows_updated = outcome.updated
    record.rows_unchanged = outcome.unchanged
    record.rows_unregistered = outcome.unregistered
    record.updated_numbers = outcome.updated_numbers


OUTCOME_FIELDS = [
    "total_rows",
    "errors",
    "error_count",
    "rows_added",
    "rows_updated",
    "rows_unchanged",
    "rows_unregistered",
    "updated_numbers",
]


def settlement_import_validate(*, import_id: int) -> SettlementImport:
    """Check every row and preview what importing would change; status becomes VALID or INVALID.

    The preview writes inside a transaction that is rolled back, so a redelivered task simply runs again.
    """
    claimed = SettlementImport.objects.filter(pk=import_id, status__in=[S.PENDING, S.VALIDATING]).update(
        status=S.VALIDATING, message="正在校验…"
    )
    record = SettlementImport.objects.get(pk=import_id)
    if not claimed:
        return record
    started = time.monotonic()
    try:
        with transaction.atomic():
            outcome = import_settlements_file(
                bytes(record.content), record.file_name, import_id=None, today=timezone.localdate(), write=False
            )
            transaction.set_rollback(True)
    except Exception:
        logger.exception("checking settlement import %s failed", import_id)
        _mark_failed(import_id, S.VALIDATING, "校验时发生系统错误，未写入任何数据；请联系系统管理员。")
        raise
    _store_outcome(record, outcome)
    record.status = S.VALID if outcome.ok else S.INVALID
    record.message = ""
    record.duration_seconds = round(time.monotonic() - started, 2)
    with transaction.atomic():
        record.save(update_fields=[*OUTCOME_FIELDS, "status", "message", "duration_seconds"])
        audit_record(
            actor=None,
            action="settlement_import.validate",
            obj=record,
            after={"status": record.status, "rows": record.total_rows, "errors": record.error_count},
        )
    return record


def _mark_failed(import_id: int, from_status: str, message: str) -> None:
    # Details (which may quote personal data) go to the log, not to the page.
    SettlementImport.objects.filter(pk=import_id, status=from_status).update(status=S.FAILED, message=message)


def settlement_import_confirm(*, record: SettlementImport, user, enqueue: bool = True) -> SettlementImport:
    """Accept a checked file; the writing runs as a background task."""
    with transaction.atomic():
        claimed = SettlementImport.objects.filter(pk=record.pk, status=S.VALID).update(
            status=S.APPLYING, applied_by=user, message="正在导入…"
        )
        if not claimed:
            raise ImportRejected("该文件当前状态不能确认导入（可能已导入、已取消或未通过校验）")
        audit_record(
            actor=user,
            action="settlement_import.confirm",
            obj=record,
            before={"status": S.VALID},
            after={"status": S.APPLYING},
        )
        if enqueue:
            enqueue_on_commit("settlements.apply_settlement_import", record.pk)
    record.refresh_from_db()
    return record


def settlement_import_apply(*, import_id: int, content: bytes | None = None) -> SettlementImport:
    """Check the file again and write it in one transaction, all or nothing.

    `content` is given by the operator command, which does not keep the file in the database.
    """
    record = SettlementImport.objects.defer("content").get(pk=import_id)
    if record.status != S.APPLYING:
        return record  # done by an earlier delivery of the task, or cancelled
    if content is None:
        content = bytes(SettlementImport.objects.values_list("content", flat=True).get(pk=import_id))
    started = time.monotonic()
    try:
        with transaction.atomic():
            locked = SettlementImport.objects.select_for_update().defer("content", "errors").get(pk=import_id)
            if locked.status != S.APPLYING:
                return locked
            _lock_settlement_imports()
            outcome = import_settlements_file(
                content, locked.file_name, import_id=locked.pk, today=timezone.localdate(), write=True
            )
            if outcome.ok:
                _store_outcome(locked, outcome)
                locked.status = S.DONE
                locked.applied_at = timezone.now()
                locked.message = ""
                locked.duration_seconds = round(time.monotonic() - started, 2)
                locked.save(update_fields=[*OUTCOME_FIELDS, "status", "applied_at", "message", "duration_seconds"])
                audit_record(
                    actor=locked.applied_by,
                    action="settlement_import.apply",
                    obj=locked,
                    after={
                        "file_hash": locked.file_hash,
                        "rows": outcome.total_rows,
                        "added": outcome.added,
                        "updated": outcome.updated,
                        "unchanged": outcome.unchanged,
                        "unregistered": outcome.unregistered,
                    },
                )
                settlements_applied.send(
                    sender=SettlementImport,
                    record=locked,
                    changed=bool(outcome.added or outcome.updated),
                    person_ids=outcome.person_ids,
                    user=locked.applied_by,
                )
                return locked
    except Exception:
        logger.exception("settlement import %s failed", import_id)
        _mark_failed(import_id, S.APPLYING, "导入时发生系统错误，未写入任何数据；请联系系统管理员。")
        raise
    SettlementImport.objects.filter(pk=import_id, status=S.APPLYING).update(
        status=S.INVALID,
        errors=outcome.errors,
        error_count=len(outcome.errors),
        total_rows=outcome.total_rows,
        message="写入前的校验未通过，未写入任何数据",
    )
    record.refresh_from_db()
    return record


def settlement_import_run(*, user, file_name: str, content: bytes) -> SettlementImport:
    """Check and write a file in one go, without the preview step (operator command).

    The file is still checked in full before anything is written; on any error nothing is.
    """
    _check_file(file_name, content)
    with transaction.atomic():
        record = SettlementImport.objects.create(
            created_by=user,
            applied_by=user,
            file_name=file_name[:255],
            file_hash=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
            status=S.APPLYING,
        )
        audit_record(actor=user, action="settlement_import.confirm", obj=record, comment="命令行导入：校验后直接写入")
    return settlement_import_apply(import_id=record.pk, content=content)


def settlement_import_cancel(*, record: SettlementImport, user) -> SettlementImport:
    with transaction.atomic():
        cancelled = SettlementImport.objects.filter(pk=record.pk, status__in=[S.VALID, S.INVALID]).update(
            status=S.CANCELLED
        )
        if not cancelled:
            raise ImportRejected("该文件当前状态不能取消")
        record.refresh_from_db()
        audit_record(actor=user, action="settlement_import.cancel", obj=record)
    return record
