import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lib import months
from recipients.models import County

from ...sampling import previous_month, sample_draw, sample_summary


def parse_month(text: str) -> datetime.date:
    try:
        return months.not_after(months.parse_month(text), timezone.localdate())
    except months.MonthError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "抽查：随机抽取该月批准的零星报销案件（政策规定的比例，每乡镇至少 2 件），指派给未参与办理的审核人员；"
        "每县每月一次，已抽取的不重抽。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="月份，如 2026-11（默认上月）")
        parser.add_argument("--county", help="只抽这个县（区），按代码（默认全部县区）")
        parser.add_argument("--seed", type=int, help="随机种子（默认随机生成；同一种子和同一总体抽出同样的样本）")

    def handle(self, *args, month: str | None, county: str | None, seed: int | None, **options):
        first = parse_month(month) if month else previous_month()
        if seed is not None and not 0 <= seed < 2**63:
            raise CommandError(f"随机种子应为 0～{2**63 - 1} 的整数")
        counties = County.objects.order_by("code")
        if county:
            counties = counties.filter(code=county)
            if not counties.exists():
                raise CommandError(f"没有代码为 {county} 的县（区）")
        if not counties.exists():
            raise CommandError("还没有县（区）")
        for c in counties:
            sample, created = sample_draw(county=c, month=first, seed=seed)
            self.stdout.write(sample_summary(sample, created))
