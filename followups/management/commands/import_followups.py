from imports.commands import ImportCommand


class Command(ImportCommand):
    help = "导入已填写的回访清单（DATA-FORMATS §11）：逐行校验后一次写入；有任何错误则不写入并列出每一处错误。"
    kind = "followup"
    file_help = "已填写的回访清单（.xlsx 或 .csv）"

    def summary(self, record):
        plan = f"回访计划 {record.plan.number}：" if record.plan else ""
        return [
            f"{plan}记录回访 {record.rows_recorded:,} 户，无变化 {record.rows_unchanged:,} 户，"
            f"未填写 {record.rows_blank:,} 户，生成投诉工单 {record.tickets_opened:,} 张"
        ]
