"""Queueing Celery tasks by name once the current transaction commits.

Services never import task modules (the tasks import the services): they name the task. Without a broker
(`make run`, tests on SQLite) tasks run in-process, as Celery's eager mode does for `delay`.
"""

from celery import current_app, group
from django.db import connection, transaction


def _task(name: str):
    app = current_app
    task = app.tasks.get(name)
    if task is None:
        app.loader.import_default_modules()  # the tasks modules of the installed apps
        task = app.tasks.get(name)
    return task


def send_task(name: str, *args, countdown: float | None = None) -> None:
    """Send now (or to run after `countdown` seconds). A task registered in this process honours eager mode; an
    unknown name goes to the broker."""
    task = _task(name)
    if task is not None:
        task.apply_async(args, countdown=countdown)
    else:
        current_app.send_task(name, args=args, countdown=countdown)


def send_group(name: str, arguments: list[tuple]) -> None:
    """Send one task per tuple of arguments, as one Celery group: as many workers as are free take them (in eager
    mode they run one after the other in this process)."""
    task = _task(name)
    if task is not None:
        group(task.si(*args) for args in arguments).apply_async()
    else:
        group(current_app.signature(name, args=args, immutable=True) for args in arguments).apply_async()


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
