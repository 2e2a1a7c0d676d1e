from imports.commands import ImportCommand


class Command(ImportCommand):
    help = "导入医保结算数据（.xlsx / .csv）。任何一行有错则整份不导入，并列出全部错误；导入后自动运行主动救助比对。"
    kind = "settlement"
    file_help = "结算数据文件路径"
    keep_content = False  # a monthly extract stays on disk; the record keeps its hash

    def summary(self, record):
        lines = [
            f"导入完成（#{record.pk}，{record.duration_seconds} 秒）：{record.total_rows} 行，新增 {record.rows_added}，"
            f"更新 {record.rows_updated}，无变化 {record.rows_unchanged}；其中 {record.rows_unregistered} 条的身份证号不在名册中"
        ]
        if record.updated_numbers:
            lines.append("更新的结算单号（前 20 个）：" + "、".join(record.updated_numbers[:20]))
        return lines
