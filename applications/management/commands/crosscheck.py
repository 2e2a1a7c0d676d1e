from django.core.management.base import BaseCommand, CommandError

from applications.models import Job
from applications.policy.engine import yuan
from applications.proactive.crosscheck import crosscheck_now
from lib.months import year_arg
from recipients.models import County


class Command(BaseCommand):
    help = "主动救助比对：查找就诊时有有效救助身份、结算时未获救助、也无人申请的费用，生成或更新线索。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_arg, help="只比对这一年度的结算（默认全部年度）")

        parser.add_argument("--county", help="只运行这个县（区），按代码（默认全部县区）")

    def handle(self, *args, year, county, **options):
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError(f"年度不正确：{year}")
        county_id = None
        if county:
            county_id = County.objects.filter(code=county).values_list("pk", flat=True).first()
            if county_id is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
        job = crosscheck_now(year=year, reason="命令行运行", county_id=county_id)
        if job.status != Job.Status.DONE:
            raise CommandError(job.message or "比对失败")
        self.stdout.write(
            f"比对完成（任务 #{job.pk}，{job.message}）：检查结算 {job.rows_examined} 条，符合条件 {job.candidates} 条，"
            f"线索新建 {job.created}、更新 {job.updated}、关闭 {job.closed}、重新打开 {job.reopened}，"
            f"预计救助金额合计 {yuan(job.total_amount)}"
        )
