from django.core.management.base import BaseCommand

from applications.models import Lead
from applications.proactive.exports import leads_workbook
from audit.services import audit_record
from lib.months import year_arg
from lib.outfiles import output_path, write_file


class Command(BaseCommand):
    help = "导出主动救助线索清单（完整身份证号和联系电话，供乡镇下发）。默认只导出待跟进的线索。"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件 .xlsx")
        parser.add_argument("--year", type=year_arg, help="年度")
        parser.add_argument("--all", action="store_true", help="包括已转申请和已关闭的线索")

    def handle(self, *args, out, year, all, **options):
        path = output_path(out)
        leads = Lead.objects.select_related("person", "township", "person__village").order_by(
            "township__name", "-estimate", "id"
        )
        if year:
            leads = leads.filter(year=year)
        if not all:
            leads = leads.filter(status=Lead.Status.OPEN)
        count = leads.count()
        write_file(path, leads_workbook(leads.iterator(chunk_size=2000), masked=False))
        audit_record(
            actor=None,
            action="lead.export",
            object_type="applications.lead",
            object_repr="线索清单",
            after={"rows": count, "masked": False, "file": str(path)},
            comment="命令行导出，含完整身份证号和联系电话",
        )
        self.stdout.write(f"已导出 {count} 条线索到 {path}")
