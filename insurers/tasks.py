"""Celery tasks of the insurer mode: each takes ids and calls one service (services queue these by name)."""

from celery import shared_task

from . import services


@shared_task(name="insurers.build_statement")
def build_statement(statement_id: int) -> None:
    services.statement_build(statement_id=statement_id)
