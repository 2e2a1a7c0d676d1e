from django.core.management.base import BaseCommand, CommandError

from applications.policy.presets import PRESETS
from applications.policy.presets import preset as preset_spec
from applications.policy.services import PolicyRejected, policy_load_preset
from recipients.models import County


class Command(BaseCommand):
    help = "安装救助政策预置方案：maoming-2018、jiangmen-2019、national-2021。"

    def add_arguments(self, parser):
        parser.add_argument("preset", help="、".join(PRESETS))
        parser.add_argument("--county", help="县（市、区）名称或行政区划代码；只有一个县时可省略")
        parser.add_argument("--draft", action="store_true", help="只保存为草稿，不生效")
        parser.add_argument(
            "--activate", action="store_true", help="即使含待确认参数也立即生效（默认：含待确认参数的方案保存为草稿）"
        )

    def handle(self, *args, preset, county, draft, activate, **options):
        if preset not in PRESETS:
            raise CommandError(f"未知的预置方案“{preset}”，可选：{'、'.join(PRESETS)}")
        counties = County.objects.all()
        if county:
            counties = counties.filter(name=county) | counties.filter(code=county)
        if counties.count() != 1:
            raise CommandError(
                "请用 --county 指定一个县（市、区）" if counties.exists() else "系统中没有这个县（市、区）"
            )
        try:
            has_open_items = bool(preset_spec(preset).get("to_confirm"))
            version, created = policy_load_preset(
                name=preset, county=counties.get(), activate=not draft and (activate or not has_open_items)
            )
        except PolicyRejected as exc:
            raise CommandError(str(exc)) from None
        state = "已安装" if created else "已存在，未重复安装"
        confirm = f"；待确认参数 {len(version.to_confirm)} 项，请在“救助政策”中核对后生效" if version.to_confirm else ""
        self.stdout.write(f"{version}：{state}，状态 {version.get_status_display()}{confirm}")
