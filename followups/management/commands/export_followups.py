from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_record
from followups.callsheet import call_sheet, calls_of
from followups.models import FollowupPlan
from lib.outfiles import output_path, write_file
from recipients.models import Township


class Command(BaseCommand):
    help = "导出回访清单（DATA-FORMATS §11，联系电话完整；A4 横向打印）：整个计划，或 --township 指定的一个乡镇。"

    def add_arguments(self, parser):
        parser.add_argument("plan", help="回访计划编号，如 HF20261201001")
        parser.add_argument("out", help="输出文件（.xlsx）")
        parser.add_argument("--township", help="只导出这个乡镇（街道）的清单")

    def handle(self, *args, plan, out, township, **options):
        path = output_path(out)
        found = FollowupPlan.objects.filter(number=plan.strip().upper()).select_related("batch", "county").first()
        if found is None:
            raise CommandError(f"没有编号为 {plan} 的回访计划")
        town = None
        if township:
            town = Township.objects.filter(county=found.county, name=township.strip()).first()
            if town is None or not found.calls.filter(township=town).exists():
                raise CommandError(f"回访计划 {found.number} 中没有 {township} 的回访")
        calls = calls_of(found, town)
        count = calls.count()
        content = call_sheet(found, calls, masked=False, township_name=town.name if town else "")
        write_file(path, content)
        audit_record(
            actor=None,
            action="followup.export",
            obj=found,
            after={"township": town.name if town else "全部", "calls": count, "masked": False},
            comment="命令行导出，含完整联系电话",
        )
        townships = calls.values("township_id").distinct().count()
        self.stdout.write(f"回访清单 {found.number}：{count:,} 户（{townships} 个乡镇）→ {out}")
