from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from settlements.models import SettlementImport
from settlements.services import ImportRejected, settlement_import_run


class Command(BaseCommand):
    help = "导入医保结算数据（.xlsx / .csv）。任何一行有错则整份不导入，并列出全部错误；导入后自动运行主动救助比对。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="结算数据文件路径")
        parser.add_argument("--max-errors", type=int, default=50, help="最多打印多少条错误（默认 50）")

    def handle(self, *args, file, max_errors, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        try:
            record = settlement_import_run(user=None, file_name=path.name, content=path.read_bytes())
        except ImportRejected as exc:
            raise CommandError(str(exc)) from None
        if record.status != SettlementImport.Status.DONE:
            for e in record.errors[:max_errors]:
                where = f"第 {e['row']} 行" if e.get("row") else "文件"
                column = f"「{e['column']}」" if e.get("column") else ""
                value = f"（值：{e['value']}）" if e.get("value") else ""
                self.stderr.write(f"{where}{column}{value}：{e['reason']}")
            if record.error_count > max_errors:
                self.stderr.write(f"……另有 {record.error_count - max_errors} 处错误未列出")
            if record.status == SettlementImport.Status.INVALID:
                raise CommandError(f"校验未通过：{record.error_count} 处错误，未写入任何数据（导入记录 #{record.pk}）")
            raise CommandError(record.message or "导入失败，未写入任何数据")
        self.stdout.write(
            f"导入完成（#{record.pk}，{record.duration_seconds} 秒）：{record.total_rows} 行，新增 {record.rows_added}，"
            f"更新 {record.rows_updated}，无变化 {record.rows_unchanged}；其中 {record.rows_unregistered} 条的身份证号不在名册中"
        )
        if record.updated_numbers:
            self.stdout.write("更新的结算单号（前 20 个）：" + "、".join(record.updated_numbers[:20]))
