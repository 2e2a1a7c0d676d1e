"""Background work of the registry. Tasks take ids, re-fetch, and call one service."""

from celery import shared_task

from . import services


@shared_task(name="recipients.validate_roster_import")
def validate_roster_import(roster_import_id: int) -> None:
    services.roster_import_validate(roster_import_id=roster_import_id)


@shared_task(name="recipients.apply_roster_import")
def apply_roster_import(roster_import_id: int) -> None:
    services.roster_import_apply(roster_import_id=roster_import_id)
