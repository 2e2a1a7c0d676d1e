"""Every periodic job of the portal, declared here and nowhere else (times in Asia/Shanghai).

`sync_schedules` (run after every migrate, and by `manage.py setup_periodic_tasks`) creates the entries that
django-celery-beat's database scheduler reads; an entry that exists keeps the time and the on/off switch an
administrator gave it (the 比对任务 page, 系统管理), so a deployment never undoes an edit.
"""

from dataclasses import dataclass

NIGHTLY_CROSSCHECK = "主动救助比对（每晚）"
NIGHTLY_SECONDARY = "二次救助测算（每晚）"
NIGHTLY_REPORTS = "统计汇总刷新（每晚）"
NIGHTLY_SESSIONS = "清理过期会话（每晚）"
MONTHLY_SAMPLE = "基金监管抽查（每月 1 日）"
MONTHLY_MONITORING = "监测预警（每月）"
SWEEP = "检查中断的任务（每 2 分钟）"
SWEEP_IMPORTS = "检查中断的导入（每 2 分钟）"
ESCALATE_TICKETS = "投诉工单超期升级（每小时）"
TIME_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    hour: int | str  # crontab fields: a number, or an expression such as "*/2"
    minute: int | str
    description: str
    day_of_month: int | str = "*"


SCHEDULES = [
    Schedule(NIGHTLY_CROSSCHECK, "applications.crosscheck_nightly", 2, 0, "主动救助比对：全部年度、全部乡镇"),
    Schedule(NIGHTLY_SESSIONS, "accounts.clear_expired_sessions", 2, 30, "删除过期会话和过期的登录失败记录"),
    Schedule(NIGHTLY_SECONDARY, "applications.secondary_nightly", 3, 0, "二次救助测算：全部人员、全部年度"),
    Schedule(NIGHTLY_REPORTS, "reports.nightly", 4, 0, "重建今年和去年的统计汇总；删除过期报表文件"),
    Schedule(MONTHLY_SAMPLE, "supervision.monthly_sample", 5, 0, "上月批准的零星报销案件随机抽查（各县，记录种子）", 1),
    Schedule(
        MONTHLY_MONITORING, "monitoring.monthly", 5, 0, "监测预警：当月名单（全部县区，一次计算）", day_of_month="1"
    ),
    Schedule(SWEEP, "applications.sweep_jobs", "*", "*/2", "运行中但心跳停止超过 3 分钟的任务标记为失败"),
    Schedule(SWEEP_IMPORTS, "imports.sweep", "*", "*/2", "校验或写入中断的导入标记为失败；未开始的步骤重新投递"),
    Schedule(ESCALATE_TICKETS, "followups.escalate_overdue", "*", 15, "超过答复期限仍未答复的乡镇工单转县局承办"),
]


def sync_schedules(using: str = "default") -> list[str]:
    """Create the missing entries; point existing ones at the declared task. Returns the names created."""
    # Imported here: accounts.apps imports this module while the app registry is still loading.
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = []
    for schedule in SCHEDULES:
        task = PeriodicTask.objects.using(using).filter(name=schedule.name).first()
        if task is None:
            crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
                minute=str(schedule.minute),
                hour=str(schedule.hour),
                day_of_week="*",
                day_of_month=str(schedule.day_of_month),
                month_of_year="*",
                timezone=TIME_ZONE,
            )
            PeriodicTask.objects.using(using).create(
                name=schedule.name,
                task=schedule.task,
                crontab=crontab,
                enabled=True,
                description=schedule.description,
            )
            created.append(schedule.name)
        elif task.task != schedule.task:
            task.task = schedule.task
            task.save(update_fields=["task"])
    return created
