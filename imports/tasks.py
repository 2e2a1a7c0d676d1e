"""Background steps of the import flow. Tasks take the format's kind and the record's id, and call one service;
both services do nothing when a redelivered task finds the record already past that step."""

from celery import shared_task

from . import services


@shared_task(name="imports.validate")
def validate(kind: str, pk: int) -> None:
    services.import_validate(kind=kind, pk=pk)


@shared_task(name="imports.apply")
def apply(kind: str, pk: int) -> None:
    services.import_apply(kind=kind, pk=pk)


@shared_task(name="imports.sweep")
def sweep() -> None:
    """Every few minutes (config/schedules.py): imports whose worker died are failed, lost steps sent again."""
    services.imports_sweep()
