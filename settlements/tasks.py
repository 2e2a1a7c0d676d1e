"""Background work of the settlement data. Tasks take ids, re-fetch, and call one service."""

from celery import shared_task

from . import services


@shared_task(name="settlements.validate_settlement_import")
def validate_settlement_import(import_id: int) -> None:
    services.settlement_import_validate(import_id=import_id)


@shared_task(name="settlements.apply_settlement_import")
def apply_settlement_import(import_id: int) -> None:
    services.settlement_import_apply(import_id=import_id)
