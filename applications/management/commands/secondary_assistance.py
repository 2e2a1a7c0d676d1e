from django.core.management.base import BaseCommand, CommandError

from applications.models import Job
from applications.policy.engine import yuan
from applications.secondary.services import secondary_now
from lib.months import year_arg
from recipients.models import County


class Command(BaseCommand):
    help = "二次救助测算：按年度个人负担为达到标准的人员生成或更新已测算好的二次救助案件（待审批）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_arg, help="只测算这一年度（默认所有有结算数据的年度）")

        parser.add_argument("--county", help="只运行这个县（区），按代码（默认全部县区）")

    def handle(self, *args, year, county, **options):
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError(f"年度不正确：{year}")
        county_id = None
        if county:
            county_id = County.objects.filter(code=county).values_list("pk", flat=True).first()
            if county_id is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
        job = secondary_now(year=year, reason="命令行运行", county_id=county_id)
        if job.status != Job.Status.DONE:
            raise CommandError(job.message or "测算失败")
        self.stdout.write(
            f"二次救助测算完成（任务 #{job.pk}，{job.message}）：测算 {job.people} 人，新建案件 {job.created}，"
            f"更新 {job.updated}，撤回 {job.closed}，提示复核 {job.reopened}，本次拟救助合计 {yuan(job.total_amount)}"
        )
