from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from lib.months import year_arg
from recipients.models import County
from subsidies.presets import PRESETS
from subsidies.services import RulesRejected, subsidy_rules_activate, subsidy_rules_load_preset

PREMIUM_LIMIT = 100_000  # 元: a year's personal premium is a few hundred


class Command(BaseCommand):
    help = (
        "载入资助参保预置方案（jiangmen-2022、national-2021、maoming-2018）到一个县（区）的某参保年度。来源文件未给出的"
        "参数标为待确认，方案保存为草稿，由系统管理员在“资助参保政策”页面核对后生效；不改变救助政策。"
    )

    def add_arguments(self, parser):
        parser.add_argument("preset", help="、".join(PRESETS))
        parser.add_argument("--year", type=year_arg, required=True, help="参保年度")
        parser.add_argument("--premium", help="当年城乡居民医保个人缴费标准（元），如 380；不填则待确认")
        parser.add_argument("--county", help="县（市、区）名称或行政区划代码；只有一个县时可省略")
        parser.add_argument("--activate", action="store_true", help="没有待确认参数时立即生效")

    def handle(self, *args, preset, year, premium, county, activate, **options):
        if preset not in PRESETS:
            raise CommandError(f"未知的预置方案“{preset}”，可选：{'、'.join(PRESETS)}")
        if not 2000 <= year <= 2100:
            raise CommandError(f"参保年度不对：{year}")
        amount = None
        if premium is not None:
            try:
                amount = Decimal(premium.replace(",", ""))
            except InvalidOperation:
                raise CommandError(f"个人缴费标准不是金额：{premium}") from None
            if not amount.is_finite():
                raise CommandError(f"个人缴费标准不是金额：{premium}")
            if amount >= PREMIUM_LIMIT:
                raise CommandError(f"个人缴费标准超出合理范围（应小于 {PREMIUM_LIMIT:,} 元）：{premium}")
            if amount < 0 or amount != amount.quantize(Decimal("0.01")):
                raise CommandError(f"个人缴费标准应为不小于 0、最多两位小数的金额：{premium}")
        counties = County.objects.all()
        if county:
            counties = counties.filter(name=county) | counties.filter(code=county)
        if counties.count() != 1:
            raise CommandError(
                "请用 --county 指定一个县（市、区）" if counties.exists() else "系统中没有这个县（市、区）"
            )
        try:
            rule_set, created = subsidy_rules_load_preset(
                name=preset, county=counties.get(), year=year, premium=amount, activate=False
            )
        except RulesRejected as exc:
            raise CommandError(str(exc)) from None
        open_items = rule_set.open_items()
        state = "已载入" if created else "已存在，未重复载入"
        line = f"{rule_set.county} {rule_set}：{state}，状态 {rule_set.get_status_display()}"
        if open_items:
            line += f"；待确认 {len(open_items)} 项：{'、'.join(open_items)}（请在“资助参保政策”中核对后生效）"
        if activate and rule_set.status == rule_set.Status.DRAFT:
            if open_items:
                self.stdout.write(line)
                raise CommandError(f"含 {len(open_items)} 项待确认参数，未生效，已保存为草稿")
            try:
                subsidy_rules_activate(rule_set=rule_set, user=None)
            except RulesRejected as exc:
                raise CommandError(str(exc)) from None
            rule_set.refresh_from_db()
            line = f"{rule_set.county} {rule_set}：{state}，状态 {rule_set.get_status_display()}（名单将按新规则生成）"
        self.stdout.write(line)
