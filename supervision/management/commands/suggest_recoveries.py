from django.core.management.base import BaseCommand, CommandError

from lib.months import year_arg
from recipients.models import County

from ...suggestions import suggest


class Command(BaseCommand):
    help = (
        "追回建议：已发放案件的就诊日期不在此人现有任何救助身份期间内的、零星报销的就诊已一站式救助的，"
        "放入审核人员的追回建议队列（不直接登记追回）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_arg, help="只看这一年度就诊的记录（默认全部年度）")
        parser.add_argument("--county", help="只看这个县（区），按代码（默认全部县区）")

    def handle(self, *args, year, county, **options):
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError(f"年度不正确：{year}")
        county_id = None
        if county:
            county_id = County.objects.filter(code=county).values_list("pk", flat=True).first()
            if county_id is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
        counts = suggest(county_id=county_id, year=year, found_by="命令行 suggest_recoveries")
        self.stdout.write(counts.summary())
