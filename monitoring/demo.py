"""The demo county's 监测预警: 西安's thresholds, November's list, and one 因病致贫 identification under way."""

import datetime
from decimal import Decimal

from recipients.models import County, Township

from .models import Listing, Threshold
from .run import monitoring_now
from .services import watch_assign
from .zb import zb_open

MONTH = datetime.date(2026, 11, 1)


def seed_monitoring(*, county: County, reviewer, clerk, candidate: str) -> str:
    """Thresholds for 2026 (registry 10,000, everyone else 26,000, calendar year), the November run, and the
    `candidate` (in no registry, listed) handed to the clerk's township, whose window opened the application."""
    for population, amount in (("registry", "10000"), ("general", "26000")):
        Threshold.objects.get_or_create(
            county=county, year=MONTH.year, population=population, defaults={"amount": Decimal(amount)}
        )
    run = monitoring_now(month=MONTH, user=reviewer, reason="演示数据")
    line = Listing.objects.filter(month=MONTH, watch__id_number=candidate).select_related("watch").first()
    if line is not None:
        watch_assign(watch=line.watch, township=Township.objects.get(pk=clerk.township_id), user=reviewer)
        zb_open(
            listing=line,
            user=clerk,
            declared_income=Decimal("16800"),
            household=[{"name": "梁秀珍", "relation": "配偶", "income": "9600"}],
            household_size=3,
            declared_assets="自住农村房屋一处",
        )
    return f"监测预警 {MONTH:%Y-%m}：达到阈值 {run.above} 人，列入名单 {run.listed_new} 人"
