"""Nothing stays stuck: a job whose worker died is restarted when its task comes back, or marked failed by the
sweep when nothing brings it back; its owner can run it again or cancel one still waiting."""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from applications.jobs.runner import INTERRUPTED, MAX_ATTEMPTS, JobRefused, job_cancel, job_retry, jobs_sweep
from applications.models import Job, Lead, LeadSettlement
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now, crosscheck_request, crosscheck_run_job
from audit.models import AuditEvent
from tests.factories import IdentityFactory, PersonFactory, settle

TODAY = datetime.datetime(2025, 9, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def people(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    found = []
    for _ in range(3):
        person = PersonFactory(township=township)
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
        settle(person)
        found.append(person)
    return found


def test_sweep_fails_a_running_job_whose_heartbeat_stopped_and_leaves_live_ones(db):
    now = timezone.now()
    dead = Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.RUNNING, started_at=now, heartbeat_at=now)
    live = Job.objects.create(kind=Job.Kind.SECONDARY, status=Job.Status.RUNNING, started_at=now, heartbeat_at=now)
    with time_machine.travel(now + datetime.timedelta(minutes=4)):
        Job.objects.filter(pk=live.pk).update(heartbeat_at=timezone.now())
        assert jobs_sweep() == 1
    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.status == Job.Status.FAILED and dead.message == INTERRUPTED and dead.finished_at is not None
    assert live.status == Job.Status.RUNNING
    assert AuditEvent.objects.filter(action="job.interrupted", object_id=str(dead.pk)).count() == 1


def test_a_task_delivered_again_restarts_its_running_job_without_duplicating_leads(people):
    with time_machine.travel(TODAY, tick=False):
        job = crosscheck_request(reason="test", enqueue=False)
        # The first delivery died after claiming the job (the worker was killed): the job is left running.
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=1, started_at=timezone.now())
        job = crosscheck_run_job(job_id=job.pk)
    assert job.status == Job.Status.DONE and job.attempts == 2 and job.created == 3
    assert AuditEvent.objects.filter(action="job.restart", object_id=str(job.pk)).exists()
    assert Lead.objects.count() == 3 and LeadSettlement.objects.count() == 3


def test_a_job_interrupted_again_and_again_fails_instead_of_looping(people):
    job = crosscheck_request(reason="test", enqueue=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=MAX_ATTEMPTS)
    job = crosscheck_run_job(job_id=job.pk)
    assert job.status == Job.Status.FAILED and "不再自动重试" in job.message
    assert not Lead.objects.exists()


def test_a_waiting_job_can_be_cancelled_and_its_task_then_does_nothing(people, reviewer):
    job = crosscheck_request(user=reviewer, reason="test", enqueue=False)
    job_cancel(job=job, user=reviewer)
    assert crosscheck_run_job(job_id=job.pk).status == Job.Status.CANCELLED
    assert not Lead.objects.exists()
    with pytest.raises(JobRefused, match="不能取消"):
        job_cancel(job=job, user=reviewer)


def test_a_failed_job_runs_again_with_the_same_scope(people, reviewer):
    failed = Job.objects.create(kind=Job.Kind.SECONDARY, status=Job.Status.FAILED, year=2025, people_ids=[1, 2])
    again = job_retry(job=failed, user=reviewer)
    assert again.pk != failed.pk and again.status == Job.Status.QUEUED
    assert (again.kind, again.year, again.people_ids) == (Job.Kind.SECONDARY, 2025, [1, 2])
    with pytest.raises(JobRefused):
        job_retry(job=again, user=reviewer)


def test_job_page_offers_retry_for_failed_and_cancel_for_waiting_jobs(client, reviewer, db):
    failed = Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.FAILED, message=INTERRUPTED)
    client.force_login(reviewer)
    page = client.get("/jobs/").text
    assert f'data-testid="retry-{failed.pk}"' in page and INTERRUPTED in page
    response = client.post(f"/jobs/{failed.pk}/retry/", follow=True)
    assert "已重新提交" in response.text
    waiting = Job.objects.get(status=Job.Status.QUEUED)
    assert f'data-testid="cancel-{waiting.pk}"' in client.get("/jobs/").text


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _kill_child(pid: int) -> int:
    """SIGKILL the worker's pool child as it is at this moment; its pid."""
    for _ in range(50):
        for child in _wait(lambda: _children(pid)):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:  # gone between reading and killing: read again
                continue
            return child
        time.sleep(0.1)
    raise AssertionError("no pool child to kill")


def _wait(what, *, seconds=60, step=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


@pytest.mark.postgres
def test_a_worker_killed_mid_job_hands_the_job_to_the_next_one_and_nothing_is_duplicated(
    transactional_db, township, tmp_path
):
    """A real worker (prefork, one child) is killed while its cross-check waits in the middle of writing leads;
    the task comes back to the new child, which restarts the job and finishes it."""
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs PostgreSQL and a broker (REDIS_URL)")
    policy_load_preset(name="maoming-2018", county=township.county)
    people = []
    for _ in range(5):
        person = PersonFactory(township=township)
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
        settle(person, day=datetime.date(2025, 6, 10))
        people.append(person)
    crosscheck_now(reason="first run")
    assert Lead.objects.count() == 5
    for person in people:  # new settlements: the next run must rewrite these people's open leads
        settle(person, day=datetime.date(2025, 7, 10))

    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_TESTING": "1"}
    from config.celery import app

    app.control.purge()
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    held, release = threading.Event(), threading.Event()

    def hold_the_leads():
        # Another session holds the open leads: the job, once running, waits in the middle of writing them.
        try:
            with transaction.atomic():
                list(Lead.objects.select_for_update())
                held.set()
                release.wait(120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_leads)
    try:
        _wait(lambda: _children(worker.pid))  # the pool is up
        holder.start()
        assert held.wait(30)
        job = crosscheck_request(reason="test")
        _wait(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, phase="写入线索").exists())
        time.sleep(1)  # now waiting for the leads' row locks
        # The pool child running the job now (read at the moment: a child seen at start-up may have been replaced).
        child = _kill_child(worker.pid)
        _wait(lambda: [p for p in _children(worker.pid) if p != child])
        time.sleep(2)  # the task is back on the queue, and the new child waits for the job's lock
        release.set()
        holder.join(30)
        job = _wait(lambda: Job.objects.filter(pk=job.pk, status__in=[Job.Status.DONE, Job.Status.FAILED]).first())
    finally:
        release.set()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    print(log.read_text()[-3000:])
    assert job.status == Job.Status.DONE, job.message
    assert job.attempts == 2
    assert AuditEvent.objects.filter(action="job.restart", object_id=str(job.pk)).exists()
    assert Lead.objects.count() == 5
    numbers = list(LeadSettlement.objects.filter(active=True).values_list("settlement_number", flat=True))
    assert len(numbers) == 10 and len(set(numbers)) == 10  # every settlement in exactly one lead, none lost


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_job_page_shows_times_as_clock_times_and_only_the_columns_of_each_kind(client, reviewer, db):
    Job.objects.create(kind=Job.Kind.SECONDARY, status=Job.Status.DONE, people=1234, created=3, total_amount=5600)
    client.force_login(reviewer)
    page = client.get("/jobs/").text
    assert "02:00（北京时间）" in page or "每天 02:00" in page
    assert "03:00" in page and "2:（" not in page
    assert "案件新建 3" in page and "拟救助 5,600.00 元" in page and "1,234" in page
