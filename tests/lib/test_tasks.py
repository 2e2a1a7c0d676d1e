"""lib.tasks: Celery tasks queued by name once the transaction commits, once per once_key."""

import pytest
from django.db import transaction

from config.celery import app
from lib import tasks

ran = []


@app.task(name="tests.lib.record")
def record(*args):
    ran.append(args)


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "send_task", lambda name, *args: calls.append((name, *args)))
    return calls


def test_a_task_is_sent_when_the_transaction_commits_not_before(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_on_commit("imports.apply", 7)
        assert sent == []
    assert sent == [("imports.apply", 7)]


def test_requests_with_one_once_key_send_once_and_other_keys_their_own(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_on_commit("jobs.run", 1, once_key="crosscheck")
        tasks.enqueue_on_commit("jobs.run", 1, once_key="crosscheck")
        tasks.enqueue_on_commit("jobs.run", 2, once_key="secondary")
        tasks.enqueue_on_commit("jobs.plain", 3)
        tasks.enqueue_on_commit("jobs.plain", 3)
    assert sent == [("jobs.run", 1), ("jobs.run", 2), ("jobs.plain", 3), ("jobs.plain", 3)]


def test_a_request_in_a_rolled_back_savepoint_is_never_sent_and_does_not_block_its_key(
    db, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            tasks.enqueue_on_commit("jobs.run", 1, once_key="k")
            transaction.set_rollback(True)
        tasks.enqueue_on_commit("jobs.run", 2, once_key="k")
    assert sent == [("jobs.run", 2)]


@pytest.mark.django_db(transaction=True)
def test_with_real_transactions_commit_sends_rollback_does_not_and_autocommit_sends_at_once(sent):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        tasks.enqueue_on_commit("jobs.run", "rolled back")
        raise Abort
    assert sent == []
    with transaction.atomic():
        tasks.enqueue_on_commit("jobs.run", "committed", once_key="k")
        tasks.enqueue_on_commit("jobs.run", "committed", once_key="k")
        assert sent == []
    assert sent == [("jobs.run", "committed")]
    tasks.enqueue_on_commit("jobs.run", "no transaction")
    assert sent == [("jobs.run", "committed"), ("jobs.run", "no transaction")]


def test_a_registered_task_runs_in_process_in_eager_mode(eager_tasks):
    ran.clear()
    tasks.send_task("tests.lib.record", 1, "a")
    assert ran == [(1, "a")]


def test_an_unknown_task_name_goes_to_the_broker(monkeypatch):
    to_broker = []
    monkeypatch.setattr(app, "send_task", lambda name, args, countdown=None: to_broker.append((name, args)))
    tasks.send_task("elsewhere.only_a_worker_knows", 5)
    assert to_broker == [("elsewhere.only_a_worker_knows", (5,))]
