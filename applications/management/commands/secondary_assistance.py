from django.core.management.base import BaseCommand, CommandError

from applications.models import Job
from applications.policy.engine import yuan
from applications.secondary.services import secondary_now


class Command(BaseCommand):
    help = "二次救助测算：按年度个人负担为达到标准的人员生成或更新已测算好的二次救助案件（待审批）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="只测算这一年度（默认所有有结算数据的年度）")

    def handle(self, *args, year, **options):
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError(f"年度不正确：{year}")
        job = secondary_now(year=year, reason="命令行运行")
        if job.status != Job.Status.DONE:
            raise CommandError(job.message or "测算失败")
        self.stdout.write(
            f"二次救助测算完成（任务 #{job.pk}，{job.message}）：测算 {job.people} 人，新建案件 {job.created}，"
            f"更新 {job.updated}，撤回 {job.closed}，提示复核 {job.reopened}，本次拟救助合计 {yuan(job.total_amount)}"
        )
