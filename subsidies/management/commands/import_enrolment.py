from django.core.management.base import CommandError

from imports.commands import ImportCommand
from lib.months import year_arg
from subsidies.selectors import coverage


class Command(ImportCommand):
    help = (
        "导入参保结果（DATA-FORMATS §9：身份证号、参保年度、参保状态、缴费金额、缴费日期），按身份证号和年度与资助参保名单"
        "匹配。任何一行有错则整份不导入，并列出全部错误；不在名册或不在名单中的身份证号列出但不导入。"
    )
    kind = "enrolment"
    file_help = "参保结果文件路径（.xlsx / .csv）"
    keep_content = False  # the record keeps the file's hash; the file stays on disk

    def add_format_arguments(self, parser):
        parser.add_argument("--year", type=year_arg, required=True, help="参保年度")

    def format_options(self, *, year, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"参保年度不对：{year}")
        return {"year": year}

    def summary(self, record):
        whole = coverage(year=record.year, county=record.county, detail=False)
        rate = "—" if whole.total.value is None else f"{whole.total.value:.2%}"
        lines = [
            f"{record.year} 年参保结果：已参保 {record.rows_enrolled:,} 人，未参保 {record.rows_not_enrolled:,} 人，"
            f"资助参保率 {rate}（{whole.total.detail}）；新增 {record.rows_added:,}，变更 {record.rows_changed:,}，"
            f"无变化 {record.rows_unchanged:,}；不在名册 {record.rows_unknown:,}，不在资助名单 {record.rows_not_listed:,}"
            f"（导入记录 #{record.pk}，{record.duration_seconds} 秒）"
        ]
        for row in record.unmatched[:20]:
            lines.append(f"  第 {row['row']} 行 {row['id_number']}：{row['reason']}")
        skipped = record.rows_unknown + record.rows_not_listed
        if skipped > min(len(record.unmatched), 20):
            lines.append(f"  ……共 {skipped:,} 行未匹配，详见导入记录页面")
        return lines
