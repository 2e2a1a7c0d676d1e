import datetime

from django.core.management.base import BaseCommand, CommandError

from recipients.models import County

from ...sampling import previous_month, sample_draw, sample_summary


def parse_month(text: str) -> datetime.date:
    try:
        year, number = (int(part) for part in text.strip().split("-"))
        return datetime.date(year, number, 1)
    except ValueError:
        raise CommandError(f"月份格式应为 2026-11：{text}") from None


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
