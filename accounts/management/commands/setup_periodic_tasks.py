from django.core.management.base import BaseCommand

from config.schedules import SCHEDULES, sync_schedules


class Command(BaseCommand):
    help = "建立 config/schedules.py 中声明的定时任务（已有的保持原定时间）。"

    def handle(self, *args, **options):
        created = sync_schedules()
        self.stdout.write(
            f"定时任务 {len(SCHEDULES)} 项，新建 {len(created)} 项" + (f"：{'、'.join(created)}" if created else "")
        )
