import datetime

from django.core.management.base import CommandError

from imports.commands import ImportCommand
from recipients.categories import Source, parse_source


class Command(ImportCommand):
    help = "导入救助对象名册（.xlsx / .csv）。任何一行有错则整份不导入，并列出全部错误。"
    kind = "roster"
    file_help = "名册文件路径"

    def add_format_arguments(self, parser):
        parser.add_argument("--source", default="民政", help="默认数据来源：民政 / 乡村振兴 / 残联 / 医保")
        parser.add_argument("--snapshot-date", help="全量快照日期 YYYY-MM-DD：该来源下文件中没有的身份在此日前一天终止")

    def format_options(self, *, source, snapshot_date, **options):
        source_code = parse_source(source)
        if source_code is None:
            raise CommandError(f"未知的数据来源“{source}”，应为：{'、'.join(Source.labels)}")
        snapshot = None
        if snapshot_date:
            try:
                snapshot = datetime.date.fromisoformat(snapshot_date)
            except ValueError:
                raise CommandError(f"快照日期格式不对：{snapshot_date}（应为 YYYY-MM-DD）") from None
        return {"source": source_code, "snapshot_date": snapshot}

    def summary(self, record):
        return [
            f"导入完成（#{record.pk}）：{record.total_rows} 行，新增 {record.rows_added}，"
            f"变更 {record.rows_changed}，终止 {record.rows_ended}，无变化 {record.rows_unchanged}"
        ]
