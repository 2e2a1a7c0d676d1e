"""Services of the recipient registry: roster import and audited views of personal data."""

import datetime
import hashlib
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record
from lib.tasks import enqueue_on_commit

from .models import Person, RosterImport
from .roster import clerk_scope_errors, validate_roster
from .roster_apply import apply_roster
from .signals import roster_applied

logger = logging.getLogger(__name__)


class ImportRejected(ValueError):
    """The request cannot be carried out; the message is shown to the user."""


def _lock_roster_imports() -> None:
    """Serialise applying rosters: two imports touching the same people must not interleave."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('recipients.roster_import'))")


def _write(roster_import: RosterImport, rows):
    """Apply checked rows to the registry under the import lock (inside the caller's transaction)."""
    _lock_roster_imports()
    if roster_import.township_id is not None:
        # Checked again under the lock: a county import may have moved someone since validation.
        errors = clerk_scope_errors(rows, roster_import.township)
        if errors:
            raise _ScopeChanged(errors)
    return apply_roster(
        rows,
        import_id=roster_import.pk,
        snapshot_date=roster_import.snapshot_date,
        snapshot_source=roster_import.source,
        township_id=roster_import.township_id,
    )


def roster_import_create(
    *,
    user,
    file_name: str,
    content: bytes,
    source: str,
    snapshot_date: datetime.date | None = None,
    enqueue: bool = True,
) -> RosterImport:
    """Store an uploaded roster and queue its validation. Nothing in the registry changes yet."""
    if not content:
        raise ImportRejected("上传的文件是空的")
    if len(content) > settings.ROSTER_MAX_UPLOAD_BYTES:
        raise ImportRejected(f"文件过大（上限 {settings.ROSTER_MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
    lower = file_name.lower()
    if not (lower.endswith(".xlsx") or lower.endswith(".csv")):
        raise ImportRejected("文件类型不支持：只接受 .xlsx 或 .csv 文件")
    if snapshot_date is not None and snapshot_date > timezone.localdate():
        raise ImportRejected("快照日期不能晚于今天")
    township = user.township if user is not None and user.township_scoped else None
    with transaction.atomic():
        roster_import = RosterImport.objects.create(
            created_by=user,
            file_name=file_name[:255],
            file_hash=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
            content=content,
            source=source,
            snapshot_date=snapshot_date,
            township=township,
        )
        audit_record(
            actor=user,
            action="roster_import.upload",
            obj=roster_import,
            after={
                "file_name": roster_import.file_name,
                "file_hash": roster_import.file_hash,
                "source": source,
                "snapshot_date": snapshot_date.isoformat() if snapshot_date else None,
            },
        )
        if enqueue:
            enqueue_on_commit("recipients.validate_roster_import", roster_import.pk)
    return roster_import


def _progress_updater(roster_import_id: int):
    def update(done: int, total: int) -> None:
        RosterImport.objects.filter(pk=roster_import_id).update(processed_rows=done, total_rows=total)

    return update


def _check(roster_import: RosterImport):
    return validate_roster(
        bytes(roster_import.content),
        roster_import.file_name,
        default_source=roster_import.source,
        township=roster_import.township,
        progress=_progress_updater(roster_import.pk),
        today=timezone.localdate(),
    )


def roster_import_validate(*, roster_import_id: int) -> RosterImport:
    """Check every row of the file and store the report: status becomes VALID or INVALID.

    Read-only on the registry, so a redelivered task (a worker died mid-way) simply runs again.
    """
    claimed = RosterImport.objects.filter(
        pk=roster_import_id, status__in=[RosterImport.Status.PENDING, RosterImport.Status.VALIDATING]
    ).update(status=RosterImport.Status.VALIDATING, processed_rows=0)
    roster_import = RosterImport.objects.get(pk=roster_import_id)
    if not claimed:
        return roster_import  # already validated by an earlier delivery of the task
    try:
        check = _check(roster_import)
        roster_import.total_rows = check.total_rows
        roster_import.processed_rows = check.total_rows
        roster_import.errors = check.errors
        roster_import.error_count = len(check.errors)
        roster_import.status = RosterImport.Status.VALID if check.ok else RosterImport.Status.INVALID
        if check.ok:
            # Preview what confirming would change, by applying and rolling back, so the user
            # confirms knowing how many identities will be added, changed and ended.
            with transaction.atomic():
                counts = _write(roster_import, check.rows)
                transaction.set_rollback(True)
            _set_counts(roster_import, counts)
    except _ScopeChanged as exc:
        roster_import.errors = exc.errors
        roster_import.error_count = len(exc.errors)
        roster_import.status = RosterImport.Status.INVALID
    except Exception:
        logger.exception("validating roster import %s failed", roster_import_id)
        _mark_failed(
            roster_import_id, RosterImport.Status.VALIDATING, "校验时发生系统错误，未写入任何数据；请联系系统管理员。"
        )
        raise
    with transaction.atomic():
        roster_import.save(
            update_fields=["total_rows", "processed_rows", "errors", "error_count", "status", *COUNT_FIELDS]
        )
        audit_record(
            actor=None,
            action="roster_import.validate",
            obj=roster_import,
            after={"status": roster_import.status, "rows": check.total_rows, "errors": len(check.errors)},
        )
    return roster_import


def _mark_failed(roster_import_id: int, from_status: str, message: str) -> None:
    # The details (which may quote personal data from the file) go to the log, not to the page.
    RosterImport.objects.filter(pk=roster_import_id, status=from_status).update(
        status=RosterImport.Status.FAILED, message=message
    )


COUNT_FIELDS = ["rows_added", "rows_changed", "rows_unchanged", "rows_ended", "persons_added"]


def _set_counts(roster_import: RosterImport, counts) -> None:
    roster_import.rows_added = counts.added
    roster_import.rows_changed = counts.changed
    roster_import.rows_unchanged = counts.unchanged
    roster_import.rows_ended = counts.ended
    roster_import.persons_added = counts.persons_added


def roster_import_confirm(*, roster_import: RosterImport, user, enqueue: bool = True) -> RosterImport:
    """Accept a validated file for import; the writing runs as a background task."""
    with transaction.atomic():
        claimed = RosterImport.objects.filter(pk=roster_import.pk, status=RosterImport.Status.VALID).update(
            status=RosterImport.Status.APPLYING, applied_by=user, processed_rows=0
        )
        if not claimed:
            raise ImportRejected("该文件当前状态不能确认导入（可能已导入、已取消或未通过校验）")
        audit_record(
            actor=user,
            action="roster_import.confirm",
            obj=roster_import,
            before={"status": RosterImport.Status.VALID},
            after={"status": RosterImport.Status.APPLYING},
        )
        if enqueue:
            enqueue_on_commit("recipients.apply_roster_import", roster_import.pk)
    roster_import.refresh_from_db()
    return roster_import


def roster_import_run(*, roster_import: RosterImport, user) -> RosterImport:
    """Check and write a stored roster in one go, without the preview step (operator command).

    The file is still checked in full before anything is written; on any error nothing is.
    """
    with transaction.atomic():
        claimed = RosterImport.objects.filter(pk=roster_import.pk, status=RosterImport.Status.PENDING).update(
            status=RosterImport.Status.APPLYING, applied_by=user
        )
        if not claimed:
            raise ImportRejected("该文件已在处理中或已处理")
        audit_record(
            actor=user, action="roster_import.confirm", obj=roster_import, comment="命令行导入：校验后直接写入"
        )
    return roster_import_apply(roster_import_id=roster_import.pk)


class _ScopeChanged(Exception):
    def __init__(self, errors):
        self.errors = errors


def roster_import_apply(*, roster_import_id: int) -> RosterImport:
    """Write a confirmed roster in one transaction, all or nothing.

    The file is checked again first: the registry (townships, villages, people) may have changed
    since validation, and nothing is written unless every row is still valid.
    """
    roster_import = RosterImport.objects.get(pk=roster_import_id)
    if roster_import.status != RosterImport.Status.APPLYING:
        return roster_import  # done by an earlier delivery of the task, or cancelled
    try:
        check = _check(roster_import)
        if check.ok:
            with transaction.atomic():
                locked = RosterImport.objects.select_for_update().defer("content", "errors").get(pk=roster_import_id)
                if locked.status != RosterImport.Status.APPLYING:
                    return locked
                counts = _write(locked, check.rows)
                locked.status = RosterImport.Status.DONE
                _set_counts(locked, counts)
                locked.total_rows = check.total_rows
                locked.processed_rows = check.total_rows
                locked.applied_at = timezone.now()
                locked.message = ""
                locked.save(
                    update_fields=["status", *COUNT_FIELDS, "total_rows", "processed_rows", "applied_at", "message"]
                )
                audit_record(
                    actor=locked.applied_by,
                    action="roster_import.apply",
                    obj=locked,
                    after={
                        "file_hash": locked.file_hash,
                        "rows": check.total_rows,
                        "added": counts.added,
                        "changed": counts.changed,
                        "ended": counts.ended,
                        "unchanged": counts.unchanged,
                        "persons_added": counts.persons_added,
                        "snapshot_date": locked.snapshot_date.isoformat() if locked.snapshot_date else None,
                    },
                )
                roster_applied.send(
                    sender=RosterImport,
                    record=locked,
                    changed=bool(counts.added or counts.changed or counts.ended),
                    user=locked.applied_by,
                )
            return locked
        errors = check.errors
    except _ScopeChanged as exc:
        errors = exc.errors
    except Exception:
        logger.exception("roster import %s failed", roster_import_id)
        _mark_failed(
            roster_import_id, RosterImport.Status.APPLYING, "导入时发生系统错误，未写入任何数据；请联系系统管理员。"
        )
        raise
    RosterImport.objects.filter(pk=roster_import_id, status=RosterImport.Status.APPLYING).update(
        status=RosterImport.Status.INVALID,
        errors=errors,
        error_count=len(errors),
        message="写入前的校验未通过，未写入任何数据",
    )
    roster_import.refresh_from_db()
    return roster_import


def roster_import_cancel(*, roster_import: RosterImport, user) -> RosterImport:
    with transaction.atomic():
        cancelled = RosterImport.objects.filter(
            pk=roster_import.pk, status__in=[RosterImport.Status.VALID, RosterImport.Status.INVALID]
        ).update(status=RosterImport.Status.CANCELLED)
        if not cancelled:
            raise ImportRejected("该文件当前状态不能取消")
        roster_import.refresh_from_db()
        audit_record(actor=user, action="roster_import.cancel", obj=roster_import)
    return roster_import


def person_reveal_pii(*, person: Person, user, request=None) -> dict:
    """Return a person's full ID, phone and bank account, and record that the user saw them."""
    if not user.has_perm("recipients.view_full_pii"):
        raise PermissionError("没有查看完整个人信息的权限")
    audit_record(
        actor=user,
        action="recipient.pii_view",
        obj=person,
        object_repr=person.name,
        comment="查看完整身份证号、联系电话、银行账号",
        request=request,
    )
    return {"id_number": person.id_number, "phone": person.phone, "bank_account": person.bank_account}
