"""Nothing stays stuck: hostile files end with a reason, a check or write whose worker died is failed by the sweep,
a step whose task was lost is sent again, a killed database connection still ends the import 失败, and the owner
can check a failed file again or cancel it."""

import datetime
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone

from imports.services import (
    INTERRUPTED,
    MAX_ATTEMPTS,
    ImportRejected,
    import_apply,
    import_cancel,
    import_confirm,
    import_create,
    import_retry,
    import_validate,
    imports_sweep,
)
from recipients.models import RosterImport
from tests.conftest import client_for
from tests.lib.test_hostile_files import cell, workbook

S = RosterImport.Status
BOMB = workbook(f'<row r="1">{cell("A1", "身份证号")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>')


def test_a_hostile_workbook_ends_the_upload_with_a_reason(sample, reviewer):
    record = import_create(
        kind=sample.kind, user=reviewer, file_name="炸弹.xlsx", content=BOMB, options=sample.options, enqueue=False
    )
    record = import_validate(kind=sample.kind, pk=record.pk)
    assert record.status == S.INVALID
    assert "16,384 列" in record.errors[0]["reason"] and record.heartbeat_at is None


@pytest.mark.parametrize("command", ["import_recipients", "import_settlements"])
def test_the_commands_refuse_a_hostile_workbook_with_a_message_and_a_nonzero_exit(tmp_path, command):
    path = tmp_path / "炸弹.xlsx"
    path.write_bytes(BOMB)
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_TESTING": "1"}
    database = tmp_path / "db.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{database}"
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, capture_output=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr.decode()[-500:]
    result = subprocess.run(
        [sys.executable, "manage.py", command, str(path)], env=env, capture_output=True, timeout=120
    )
    assert result.returncode == 1  # an error exit, not a signal (a negative code)
    assert "16,384 列" in result.stderr.decode()


def running(sample, reviewer, status, minutes_ago):
    record = sample.create(reviewer)
    beat = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    type(record).objects.filter(pk=record.pk).update(status=status, heartbeat_at=beat, attempts=1)
    return type(record).objects.get(pk=record.pk)


def test_the_sweep_fails_a_check_or_write_whose_heartbeat_stopped(sample, reviewer):
    dead = running(sample, reviewer, S.VALIDATING, minutes_ago=10)
    writing = running(sample, reviewer, S.APPLYING, minutes_ago=10)
    alive = running(sample, reviewer, S.VALIDATING, minutes_ago=0)
    assert imports_sweep()["failed"] == 2
    for record, status in ((dead, S.FAILED), (writing, S.FAILED), (alive, S.VALIDATING)):
        record.refresh_from_db()
        assert record.status == status
    assert dead.message == INTERRUPTED and sample.written() == 0


def test_the_sweep_sends_again_a_step_whose_task_never_started(
    sample, reviewer, django_capture_on_commit_callbacks, eager_tasks
):
    record = sample.create(reviewer)
    type(record).objects.filter(pk=record.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert imports_sweep()["resent"] == 1
    record.refresh_from_db()
    assert record.status == S.VALID


def test_a_check_delivered_again_and_again_fails_instead_of_looping(sample, reviewer):
    record = sample.create(reviewer)
    type(record).objects.filter(pk=record.pk).update(status=S.VALIDATING, attempts=MAX_ATTEMPTS)
    record = import_validate(kind=sample.kind, pk=record.pk)
    assert record.status == S.FAILED and "不再自动重试" in record.message


def test_a_failed_file_can_be_checked_again_or_cancelled(
    sample, reviewer, client, django_capture_on_commit_callbacks, eager_tasks
):
    record = running(sample, reviewer, S.VALIDATING, minutes_ago=10)
    imports_sweep()
    client_for(client, reviewer)
    page = client.get(type(record).objects.get(pk=record.pk).get_absolute_url()).text
    assert 'data-testid="retry"' in page and INTERRUPTED in page
    with django_capture_on_commit_callbacks(execute=True):
        import_retry(record=record, user=reviewer)
    record.refresh_from_db()
    assert record.status == S.VALID
    with pytest.raises(ImportRejected):
        import_retry(record=record, user=reviewer)
    other = running(sample, reviewer, S.APPLYING, minutes_ago=10)
    imports_sweep()
    assert import_cancel(record=other, user=reviewer).status == S.CANCELLED


@pytest.mark.postgres
def test_a_write_whose_database_connection_is_killed_ends_failed(sample, reviewer, override_format, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("kills its own PostgreSQL backend")
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer).pk)
    import_confirm(record=record, user=reviewer, enqueue=False)

    def killed(record, content):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        raise AssertionError("not reached: the connection is gone")

    override_format(sample.kind, write=killed)
    with pytest.raises(Exception):  # noqa: B017  (the connection's own error, whatever the driver calls it)
        import_apply(kind=sample.kind, pk=record.pk)
    record.refresh_from_db()
    assert record.status == S.FAILED and "未写入任何数据" in record.message
    assert sample.written() == 0


@pytest.mark.postgres
def test_a_check_whose_database_connection_is_killed_ends_failed(sample, reviewer, override_format, transactional_db):
    """The check runs outside a transaction: the broken connection must be replaced before the record is marked."""
    if connection.vendor != "postgresql":
        pytest.skip("kills its own PostgreSQL backend")
    record = sample.create(reviewer)

    def killed(record, content, progress):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        raise AssertionError("not reached: the connection is gone")

    override_format(sample.kind, check=killed)
    with pytest.raises(Exception):  # noqa: B017
        import_validate(kind=sample.kind, pk=record.pk)
    record.refresh_from_db()
    assert record.status == S.FAILED and "未写入任何数据" in record.message
