from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lib.outfiles import output_path, write_file
from monitoring.exports import listing_push
from monitoring.models import Listing, Push
from monitoring.run import MonitoringRefused, month_of


class Command(BaseCommand):
    help = "导出监测名单（DATA-FORMATS §10，完整身份证号），并记录推送。"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件 .xlsx")
        parser.add_argument("--month", help="监测月份，如 2026-11（默认当月）")
        parser.add_argument("--new-only", action="store_true", help="只导出本月新增")
        parser.add_argument("--to", default="民政", choices=["民政", "乡村振兴"], help="推送部门（默认 民政）")

    def handle(self, *args, out, month=None, new_only=False, to="民政", **options):
        path = output_path(out)
        try:
            first = month_of(month, begun=True)
        except MonitoringRefused as exc:
            raise CommandError(str(exc)) from None
        listings = Listing.objects.filter(month=first).select_related("watch", "watch__township")
        if new_only:
            listings = listings.filter(reason=Listing.Reason.NEW)
        listings = listings.order_by("watch__county", "watch__township", "watch__id_number")
        department = {label: value for value, label in Push.Department.choices}[to]
        with transaction.atomic():  # the push is recorded only with its file written
            push, content = listing_push(
                listings=listings, month=first, department=department, new_only=new_only, file_name=str(path)
            )
            write_file(path, content)
        self.stdout.write(
            f"已导出 {first:%Y-%m} 监测名单 {push.rows:,} 人（新增 {push.new_rows:,} 人）到 {path}，推送{to}已记录"
        )
