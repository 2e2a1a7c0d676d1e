from django.core.management.base import BaseCommand

from applications.models import Case
from applications.secondary.exports import secondary_workbook
from audit.services import audit_record
from lib.months import year_arg
from lib.outfiles import output_path, write_file


class Command(BaseCommand):
    help = "导出二次救助名单（DATA-FORMATS §4，完整身份证号）。"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件 .xlsx")
        parser.add_argument("--year", type=year_arg, help="年度（默认全部）")

    def handle(self, *args, out, year, **options):
        path = output_path(out)
        cases = Case.objects.filter(source=Case.Source.SECONDARY).select_related("person", "township")
        if year:
            cases = cases.filter(year=year)
        cases = cases.order_by("year", "township__name", "number")
        count = cases.count()
        write_file(path, secondary_workbook(cases.iterator(chunk_size=2000), masked=False))
        audit_record(
            actor=None,
            action="secondary.export",
            object_repr="二次救助名单",
            after={"rows": count, "masked": False, "file": str(path)},
            comment="命令行导出，含完整身份证号",
        )
        self.stdout.write(f"已导出 {count} 件二次救助案件到 {path}")
