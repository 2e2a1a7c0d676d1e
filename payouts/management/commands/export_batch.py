import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from lib.outfiles import output_path, write_file
from payouts.models import PayoutBatch
from payouts.notice import public_notice
from payouts.services import PayoutRefused, batch_export


class Command(BaseCommand):
    help = (
        "导出支付批次的代发文件（DATA-FORMATS §5）。只能导出已复核的批次；同一批次每次导出内容相同。"
        "可同时导出公示名单（--notice）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("batch", help="批次号，如 ZF20261123001")
        parser.add_argument("out", help="输出文件 .xlsx")
        parser.add_argument("--notice", help="同时导出公示名单到此 .xlsx 文件")
        parser.add_argument("--notice-date", help="公示日期 YYYY-MM-DD（默认今天），公示期从这一天起算")
        parser.add_argument("--by-township", action="store_true", help="公示名单按乡镇分表")

    def handle(self, *args, batch, out, notice, notice_date, by_township, **options):
        path = output_path(out)
        notice_path = output_path(notice) if notice else None
        if notice_path is not None and notice_path.resolve() == path.resolve():
            raise CommandError("公示名单与代发文件不能是同一个文件")
        try:
            day = datetime.date.fromisoformat(notice_date) if notice_date else timezone.localdate()
        except ValueError:
            raise CommandError(f"公示日期应为 YYYY-MM-DD：{notice_date}") from None
        record = PayoutBatch.objects.filter(number=batch.strip().upper()).first()
        if record is None:
            raise CommandError(f"没有批次 {batch}")
        try:
            with transaction.atomic():  # exported (counted, hashed, audited) only with its file written
                content = batch_export(batch=record, user=None)
                write_file(path, content)
        except PayoutRefused as exc:
            raise CommandError(str(exc)) from None
        record.refresh_from_db()
        self.stdout.write(
            f"已导出 {record.number}：{record.line_count} 笔，合计 {record.total} 元，SHA-256 {record.content_hash} → {path}"
        )
        if notice_path:
            write_file(notice_path, public_notice(record, notice_date=day, by_township=by_township))
            audit_record(
                actor=None,
                action="payout.notice",
                obj=record,
                after={"date": day.isoformat(), "by_township": by_township},
            )
            self.stdout.write(f"公示名单（公示日期 {day:%Y-%m-%d}）→ {notice_path}")
