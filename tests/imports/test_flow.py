"""Every transition of the import flow, for both formats: upload → check → preview → confirm → write → history,
cancel, failure, the checks again before writing, and tasks delivered twice."""

import pytest
from django.test import override_settings

from audit.models import AuditEvent
from imports import tasks
from imports.models import ImportStatus
from imports.registry import Report, get_format
from imports.services import (
    CHECK_CRASHED,
    RECHECK_FAILED,
    WRITE_CRASHED,
    ImportRejected,
    import_apply,
    import_cancel,
    import_confirm,
    import_create,
    import_run,
    import_validate,
)
from recipients.signals import roster_applied
from settlements.signals import settlements_applied

S = ImportStatus


def actions(record):
    return list(
        AuditEvent.objects.filter(object_type=record._meta.label_lower, object_id=str(record.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def validated(sample, user):
    record = sample.create(user)
    return import_validate(kind=sample.kind, pk=record.pk)


# --- the way through ------------------------------------------------------------------------


def test_a_good_file_goes_through_every_step_and_is_audited_at_each(sample, reviewer):
    record = sample.create(reviewer)
    assert record.status == S.PENDING and bytes(record.content) == sample.good
    record = import_validate(kind=sample.kind, pk=record.pk)
    assert record.status == S.VALID and record.error_count == 0 and record.rows_added > 0
    assert record.total_rows == record.processed_rows > 0 and record.duration_seconds is not None
    assert sample.written() == 0  # the preview wrote nothing
    record = import_confirm(record=record, user=reviewer, enqueue=False)
    assert record.status == S.APPLYING and record.applied_by == reviewer
    assert sample.written() == 0
    record = import_apply(kind=sample.kind, pk=record.pk)
    assert record.status == S.DONE and record.applied_at is not None and record.message == ""
    assert sample.written() == record.rows_added
    prefix = sample.audit_prefix
    assert actions(record) == [f"{prefix}.upload", f"{prefix}.validate", f"{prefix}.confirm", f"{prefix}.apply"]
    applied = AuditEvent.objects.get(action=f"{prefix}.apply", object_id=str(record.pk))
    assert applied.actor == reviewer and applied.after["added"] == record.rows_added
    assert applied.after["file_hash"] == record.file_hash


def test_upload_queues_the_check_by_name_once_committed(sample, reviewer, monkeypatch):
    queued = []
    monkeypatch.setattr("imports.services.enqueue_on_commit", lambda name, *args: queued.append((name, *args)))
    record = sample.create(reviewer, enqueue=True)
    assert queued == [("imports.validate", sample.kind, record.pk)]
    record = import_validate(kind=sample.kind, pk=record.pk)
    import_confirm(record=record, user=reviewer)
    assert queued[-1] == ("imports.apply", sample.kind, record.pk)


def test_queued_tasks_run_the_flow_in_process(sample, reviewer, django_capture_on_commit_callbacks, eager_tasks):
    with django_capture_on_commit_callbacks(execute=True):
        record = sample.create(reviewer, enqueue=True)
    record.refresh_from_db()
    assert record.status == S.VALID
    with django_capture_on_commit_callbacks(execute=True):
        import_confirm(record=record, user=reviewer)
    record.refresh_from_db()
    assert record.status == S.DONE and sample.written() == record.rows_added


def test_a_bad_file_is_reported_row_by_row_and_nothing_is_written(sample, reviewer):
    record = sample.create(reviewer, content=sample.bad)
    record = import_validate(kind=sample.kind, pk=record.pk)
    assert record.status == S.INVALID
    assert record.error_count == len(record.errors) > 0
    assert all(e["row"] == 3 and e["reason"] for e in record.errors)
    assert sample.written() == 0
    with pytest.raises(ImportRejected, match="该文件当前状态不能确认导入"):
        import_confirm(record=record, user=reviewer, enqueue=False)


def test_the_operator_path_checks_and_writes_in_one_go(sample, reviewer):
    record = import_run(record=sample.create(reviewer), user=reviewer)
    assert record.status == S.DONE and sample.written() == record.rows_added
    prefix = sample.audit_prefix
    assert actions(record) == [f"{prefix}.upload", f"{prefix}.confirm", f"{prefix}.apply"]
    assert AuditEvent.objects.get(action=f"{prefix}.confirm").comment == "命令行导入：校验后直接写入"
    with pytest.raises(ImportRejected, match="该文件已在处理中或已处理"):
        import_run(record=record, user=reviewer)


def test_the_operator_path_can_keep_only_the_hash(sample, reviewer):
    record = sample.create(reviewer, keep_content=False)
    assert bytes(record.content) == b"" and record.file_size == len(sample.good)
    record = import_run(record=record, user=None, content=sample.good)
    assert record.status == S.DONE and sample.written() == record.rows_added


def test_the_operator_path_writes_nothing_of_a_bad_file(sample, reviewer):
    record = import_run(record=sample.create(reviewer, content=sample.bad), user=None)
    assert record.status == S.INVALID and record.error_count > 0
    assert record.message == RECHECK_FAILED
    assert sample.written() == 0


# --- refused at upload ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("a.csv", b"", "上传的文件是空的"), ("a.txt", b"x", "只接受 .xlsx 或 .csv"), ("a.xls", b"x", "只接受")],
)
def test_an_unreadable_upload_is_refused_and_nothing_is_kept(sample, reviewer, name, content, message):
    with pytest.raises(ImportRejected, match=message):
        import_create(kind=sample.kind, user=reviewer, file_name=name, content=content, options=sample.options)
    assert not AuditEvent.objects.exists()


@override_settings(ROSTER_MAX_UPLOAD_BYTES=10, SETTLEMENT_MAX_UPLOAD_BYTES=10)
def test_a_file_over_the_format_limit_is_refused(sample, reviewer):
    with pytest.raises(ImportRejected, match="文件过大"):
        sample.create(reviewer)


# --- cancel ---------------------------------------------------------------------------------


def test_a_checked_file_can_be_cancelled_and_then_not_confirmed(sample, reviewer):
    record = validated(sample, reviewer)
    record = import_cancel(record=record, user=reviewer)
    assert record.status == S.CANCELLED
    event = AuditEvent.objects.get(action=f"{sample.audit_prefix}.cancel")
    assert (event.actor, event.before, event.after) == (reviewer, {"status": "valid"}, {"status": "cancelled"})
    with pytest.raises(ImportRejected, match="该文件当前状态不能确认导入"):
        import_confirm(record=record, user=reviewer, enqueue=False)
    assert sample.written() == 0


def test_a_rejected_file_can_be_cancelled(sample, reviewer):
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer, content=sample.bad).pk)
    assert import_cancel(record=record, user=reviewer).status == S.CANCELLED


@pytest.mark.parametrize("step", ["pending", "applying", "done"])
def test_a_file_that_is_not_checked_or_is_written_cannot_be_cancelled(sample, reviewer, step):
    record = sample.create(reviewer)
    if step != "pending":
        record = import_confirm(record=validated(sample, reviewer), user=reviewer, enqueue=False)
    if step == "done":
        record = import_apply(kind=sample.kind, pk=record.pk)
    with pytest.raises(ImportRejected, match="该文件当前状态不能取消"):
        import_cancel(record=record, user=reviewer)
    record.refresh_from_db()
    assert record.status == step


def test_a_write_task_for_a_cancelled_file_does_nothing(sample, reviewer):
    record = import_cancel(record=validated(sample, reviewer), user=reviewer)
    tasks.apply(sample.kind, record.pk)
    record.refresh_from_db()
    assert record.status == S.CANCELLED and sample.written() == 0


# --- tasks delivered again ------------------------------------------------------------------


def test_a_check_delivered_twice_checks_once(sample, reviewer):
    record = sample.create(reviewer)
    tasks.validate(sample.kind, record.pk)
    tasks.validate(sample.kind, record.pk)
    record.refresh_from_db()
    assert record.status == S.VALID
    assert actions(record).count(f"{sample.audit_prefix}.validate") == 1


def test_a_write_delivered_twice_writes_once(sample, reviewer):
    record = import_confirm(record=validated(sample, reviewer), user=reviewer, enqueue=False)
    tasks.apply(sample.kind, record.pk)
    written = sample.written()
    tasks.apply(sample.kind, record.pk)
    record.refresh_from_db()
    assert record.status == S.DONE and sample.written() == written
    assert actions(record).count(f"{sample.audit_prefix}.apply") == 1


def test_the_announcement_is_sent_once_with_its_contract(sample, reviewer):
    heard = []

    def listen(sender, **kwargs):
        heard.append((sender, kwargs))

    signal = roster_applied if sample.kind == "roster" else settlements_applied
    signal.connect(listen)
    try:
        record = import_confirm(record=validated(sample, reviewer), user=reviewer, enqueue=False)
        tasks.apply(sample.kind, record.pk)
        tasks.apply(sample.kind, record.pk)
    finally:
        signal.disconnect(listen)
    assert len(heard) == 1
    sender, kwargs = heard[0]
    assert sender is type(record) and kwargs["record"].pk == record.pk
    assert kwargs["changed"] is True and kwargs["user"] == reviewer
    expected = {"signal", "record", "changed", "user"} | ({"person_ids"} if sample.kind == "settlement" else set())
    assert set(kwargs) == expected


# --- failure --------------------------------------------------------------------------------


def test_a_system_error_while_checking_marks_the_file_failed_in_chinese(sample, reviewer, override_format):
    def broken(record, content, *, progress):
        raise RuntimeError("disk full: 44098119560308002X")

    override_format(sample.kind, check=broken)
    record = sample.create(reviewer)
    with pytest.raises(RuntimeError):
        import_validate(kind=sample.kind, pk=record.pk)
    record.refresh_from_db()
    assert record.status == S.FAILED and record.message == CHECK_CRASHED
    assert "4409" not in record.message  # the details go to the log, not to the page
    event = AuditEvent.objects.get(action=f"{sample.audit_prefix}.fail")
    assert (event.before, event.after, event.comment) == ({"status": "validating"}, {"status": "failed"}, CHECK_CRASHED)


def test_a_system_error_while_writing_leaves_nothing_half_written(sample, reviewer, override_format):
    real_write = get_format(sample.kind).write

    def write_then_crash(record, content):
        real_write(record, content)
        assert sample.written() > 0  # written, then the transaction is rolled back
        raise RuntimeError("connection lost")

    override_format(sample.kind, write=write_then_crash)
    record = import_confirm(record=validated(sample, reviewer), user=reviewer, enqueue=False)
    with pytest.raises(RuntimeError):
        import_apply(kind=sample.kind, pk=record.pk)
    record.refresh_from_db()
    assert record.status == S.FAILED and record.message == WRITE_CRASHED
    assert sample.written() == 0
    assert f"{sample.audit_prefix}.apply" not in actions(record)
    assert actions(record)[-1] == f"{sample.audit_prefix}.fail"


def test_a_file_that_no_longer_checks_out_when_written_is_rejected_whole(sample, reviewer, override_format):
    real_write = get_format(sample.kind).write

    def write_then_find_errors(record, content):
        report = real_write(record, content)
        return Report(total_rows=report.total_rows, errors=[{"row": 2, "column": "", "value": "", "reason": "已变化"}])

    override_format(sample.kind, write=write_then_find_errors)
    record = import_confirm(record=validated(sample, reviewer), user=reviewer, enqueue=False)
    record = import_apply(kind=sample.kind, pk=record.pk)
    assert record.status == S.INVALID and record.message == RECHECK_FAILED
    assert record.errors[0]["reason"] == "已变化" and record.error_count == 1
    assert sample.written() == 0
    event = AuditEvent.objects.filter(action=f"{sample.audit_prefix}.validate").order_by("id").last()
    assert event.after["status"] == "invalid" and event.comment == RECHECK_FAILED
