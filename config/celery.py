import os
import resource

from billiard.process import current_process
from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("medaid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def apply_memory_ceiling() -> None:
    """Cap this process's address space at WORKER_MEMORY_LIMIT_MB: past it, allocation fails with MemoryError."""
    from django.conf import settings  # the child's settings, configured by now

    limit = settings.WORKER_MEMORY_LIMIT_MB * 1024 * 1024
    if limit > 0:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


@worker_process_init.connect
def limit_memory(**kwargs):
    """Each pool child of a worker gets its memory ceiling. A worker running tasks in its own process (the solo
    pool, the test suite's in-thread worker) is left alone: its limits are the process's own."""
    if current_process().name != "MainProcess":
        apply_memory_ceiling()
