"""Background work of 资助参保. Tasks take ids and call one service; services queue them by name (lib.tasks)."""

from celery import shared_task

from .listing import rebuild_in_force


@shared_task(name="subsidies.rebuild_list")
def rebuild_list(county_id: int, year: int) -> None:
    """Rebuild a county-year's 资助参保名单 from the registry and the rules in force (idempotent)."""
    rebuild_in_force(county_id=county_id, year=year)
