"""A heartbeat on long-running work: a row's timestamp refreshed every few seconds while the work runs, so that
a periodic sweep can tell work whose process died (no heartbeat for minutes) from work that is merely long.

On PostgreSQL the beat comes from a thread with its own connection, so it keeps going through a long SQL
statement; elsewhere (the embedded SQLite of `make run`, one process) the work's own progress updates beat.
"""

import contextlib
import logging
import threading

from django.db import connection, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

EVERY_SECONDS = 15


def touch(model, pk, field: str = "heartbeat_at") -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now()})


@contextlib.contextmanager
def heartbeat(model, pk, *, field: str = "heartbeat_at", every: float = EVERY_SECONDS):
    """Beat for the row while the block runs."""
    touch(model, pk, field)
    if connection.vendor != "postgresql":
        yield
        return
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every):
                try:
                    touch(model, pk, field)
                except Exception:  # a beat missed is not the work's failure; the next one may succeed
                    logger.warning("heartbeat of %s %s failed", model.__name__, pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
