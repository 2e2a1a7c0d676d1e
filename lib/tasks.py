"""Queueing Celery tasks by name once the current transaction commits.

Services never import task modules (the tasks import the services): they name the task. Without a broker
(`make run`, tests on SQLite) tasks run in-process, as Celery's eager mode does for `delay`.
"""

from celery import current_app
from django.db import connection, transaction


def send_task(name: str, *args) -> None:
    """Send now. A task registered in this process honours eager mode; an unknown name goes to the broker."""
    app = current_app
    task = app.tasks.get(name)
    if task is None:
        app.loader.import_default_modules()  # the tasks modules of the installed apps
        task = app.tasks.get(name)
    if task is not None:
        task.delay(*args)
    else:
        app.send_task(name, args=args)


def enqueue_on_commit(name: str, *args, once_key=None) -> None:
    """Send the task when the transaction commits (at once outside one).

    With `once_key`, several requests in one transaction send the task once.
    """
    if once_key is not None:
        for _, func, _ in connection.run_on_commit:
            if getattr(func, "once_key", None) == once_key:
                return

    def send():
        send_task(name, *args)

    send.once_key = once_key
    transaction.on_commit(send)
