from django.core.management.base import BaseCommand, CommandError

from monitoring.models import MonitoringRun
from monitoring.run import MonitoringRefused, monitoring_now, month_of
from recipients.models import County


class Command(BaseCommand):
    help = "监测预警：计算每人近 12 个月和本年度的个人负担，达到阈值的列入当月监测名单。"

    def add_arguments(self, parser):
        parser.add_argument("--month", help="监测月份，如 2026-11（默认当月）")
        parser.add_argument("--county", help="只算一个县（区），行政区划代码")

    def handle(self, *args, month=None, county=None, **options):
        try:
            first = month_of(month, begun=True)
        except MonitoringRefused as exc:
            raise CommandError(str(exc)) from None
        county_id = None
        if county:
            found = County.objects.filter(code=county).first()
            if found is None:
                raise CommandError(f"没有行政区划代码为 {county} 的县（区）")
            county_id = found.pk
        run = monitoring_now(month=first, county_id=county_id, reason="命令行")
        if run.status != MonitoringRun.Status.DONE:
            raise CommandError(run.message or "监测任务失败")
        seconds = (run.finished_at - run.started_at).total_seconds()
        note = f"；{run.message}" if run.message else ""
        self.stdout.write(
            f"{first:%Y-%m} 监测：计算 {run.people:,} 人，达到阈值 {run.above:,} 人，首次列入 {run.listed_new:,} 人，"
            f"再次列入 {run.listed_again:,} 人，用时 {seconds:.1f} 秒{note}"
        )
