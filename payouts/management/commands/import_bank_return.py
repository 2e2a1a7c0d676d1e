from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lib.errors import error_line
from payouts.models import PayoutBatch
from payouts.services import PayoutRefused, ReturnRejected, bank_return_import


class Command(BaseCommand):
    help = "导入银行回盘文件（DATA-FORMATS §6）。有任何不符则整份不导入并列出问题；同一文件导入两次不会重复处理。"

    def add_arguments(self, parser):
        parser.add_argument("batch", help="批次号")
        parser.add_argument("file", help="回盘文件 .xlsx 或 .csv")

    def handle(self, *args, batch, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        record = PayoutBatch.objects.filter(number=batch.strip().upper()).first()
        if record is None:
            raise CommandError(f"没有批次 {batch}")
        try:
            outcome = bank_return_import(batch=record, user=None, file_name=path.name, content=path.read_bytes())
        except ReturnRejected as exc:
            for e in exc.errors[:100]:
                self.stderr.write(error_line(e))
            raise CommandError(str(exc)) from None
        except PayoutRefused as exc:
            raise CommandError(str(exc)) from None
        r = outcome.record
        if outcome.repeated:
            self.stdout.write(f"该文件已于 {r.imported_at:%Y-%m-%d %H:%M} 导入过，未做任何更改")
        else:
            self.stdout.write(
                f"回盘已导入（{record.number}）：成功 {r.paid} 笔，失败 {r.failed} 笔，此前已处理 {r.unchanged} 笔"
            )
