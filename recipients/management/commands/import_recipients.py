import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recipients.categories import Source, parse_source
from recipients.models import RosterImport
from recipients.services import ImportRejected, roster_import_create, roster_import_run


class Command(BaseCommand):
    help = "导入救助对象名册（.xlsx / .csv）。任何一行有错则整份不导入，并列出全部错误。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="名册文件路径")
        parser.add_argument("--source", default="民政", help="默认数据来源：民政 / 乡村振兴 / 残联 / 医保")
        parser.add_argument("--snapshot-date", help="全量快照日期 YYYY-MM-DD：该来源下文件中没有的身份在此日前一天终止")
        parser.add_argument("--max-errors", type=int, default=50, help="最多打印多少条错误（默认 50）")

    def handle(self, *args, file, source, snapshot_date, max_errors, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        source_code = parse_source(source)
        if source_code is None:
            raise CommandError(f"未知的数据来源“{source}”，应为：{'、'.join(Source.labels)}")
        snapshot = None
        if snapshot_date:
            try:
                snapshot = datetime.date.fromisoformat(snapshot_date)
            except ValueError:
                raise CommandError(f"快照日期格式不对：{snapshot_date}（应为 YYYY-MM-DD）") from None
        try:
            roster_import = roster_import_create(
                user=None,
                file_name=path.name,
                content=path.read_bytes(),
                source=source_code,
                snapshot_date=snapshot,
                enqueue=False,
            )
        except ImportRejected as exc:
            raise CommandError(str(exc)) from None
        roster_import = roster_import_run(roster_import=roster_import, user=None)
        if roster_import.status != RosterImport.Status.DONE:
            self._print_errors(roster_import, max_errors)
            if roster_import.status == RosterImport.Status.INVALID:
                raise CommandError(
                    f"校验未通过：{roster_import.error_count} 处错误，未写入任何数据（导入记录 #{roster_import.pk}）"
                )
            raise CommandError(roster_import.message or "导入失败，未写入任何数据")
        self.stdout.write(
            f"导入完成（#{roster_import.pk}）：{roster_import.total_rows} 行，新增 {roster_import.rows_added}，"
            f"变更 {roster_import.rows_changed}，终止 {roster_import.rows_ended}，无变化 {roster_import.rows_unchanged}"
        )

    def _print_errors(self, roster_import, max_errors):
        for e in roster_import.errors[:max_errors]:
            where = f"第 {e['row']} 行" if e.get("row") else "文件"
            column = f"「{e['column']}」" if e.get("column") else ""
            value = f"（值：{e['value']}）" if e.get("value") else ""
            self.stderr.write(f"{where}{column}{value}：{e['reason']}")
        if roster_import.error_count > max_errors:
            self.stderr.write(f"……另有 {roster_import.error_count - max_errors} 处错误未列出")
