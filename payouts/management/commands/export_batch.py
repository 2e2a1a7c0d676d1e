from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payouts.models import PayoutBatch
from payouts.services import PayoutRefused, batch_export


class Command(BaseCommand):
    help = "导出支付批次的代发文件（DATA-FORMATS §5）。只能导出已复核的批次；同一批次每次导出内容相同。"

    def add_arguments(self, parser):
        parser.add_argument("batch", help="批次号，如 ZF20261123001")
        parser.add_argument("out", help="输出文件 .xlsx")

    def handle(self, *args, batch, out, **options):
        path = Path(out)
        if path.suffix.lower() != ".xlsx":
            raise CommandError("输出文件须为 .xlsx")
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        record = PayoutBatch.objects.filter(number=batch.strip().upper()).first()
        if record is None:
            raise CommandError(f"没有批次 {batch}")
        try:
            content = batch_export(batch=record, user=None)
        except PayoutRefused as exc:
            raise CommandError(str(exc)) from None
        path.write_bytes(content)
        record.refresh_from_db()
        self.stdout.write(
            f"已导出 {record.number}：{record.line_count} 笔，合计 {record.total} 元，SHA-256 {record.content_hash} → {path}"
        )
