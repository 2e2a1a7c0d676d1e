import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q, Sum

from audit.services import audit_record
from lib.months import year_arg
from lib.outfiles import output_path, writing
from recipients.models import County
from subsidies.exports import entry_rows, subsidy_workbook
from subsidies.listing import rebuild_in_force
from subsidies.models import EntryKind, Mode, SubsidyEntry, SubsidyRuleSet


class Command(BaseCommand):
    help = (
        "导出资助参保名单（DATA-FORMATS §9，身份证号完整）给税务 / 医保征缴部门：先按生效的资助参保政策和当前名册重新生成"
        "名单；--added-since 只导出该日及以后认定的当年新增人员。"
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件（.xlsx）")
        parser.add_argument("--year", type=year_arg, required=True, help="参保年度")
        parser.add_argument("--added-since", help="只导出当年新增：认定日期在此日（YYYY-MM-DD）及以后的人员")
        parser.add_argument("--county", help="县（区）代码；不填则为所有有生效政策的县")

    def handle(self, *args, out, year, added_since, county, **options):
        path = output_path(out)
        since = None
        if added_since:
            try:
                since = datetime.date.fromisoformat(added_since)
            except ValueError:
                raise CommandError(f"日期格式不对：{added_since}（应为 YYYY-MM-DD）") from None
        sets = SubsidyRuleSet.objects.filter(year=year, status=SubsidyRuleSet.Status.ACTIVE)
        if county:
            found = County.objects.filter(code=county.strip()).first()
            if found is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
            sets = sets.filter(county=found)
        counties = list(sets.values_list("county_id", flat=True))
        if not counties:
            raise CommandError(f"{year} 年没有生效的资助参保政策：请先用 load_subsidy_rules 载入并生效")
        started = time.perf_counter()
        for county_id in counties:
            rebuild_in_force(county_id=county_id, year=year)
        entries = SubsidyEntry.objects.filter(year=year, township__county_id__in=counties)
        if since is not None:
            entries = entries.filter(kind=EntryKind.ADDED, identified_on__gte=since)
        totals = entries.aggregate(
            n=Count("id"),
            amount=Sum("amount"),
            full=Count("id", filter=Q(mode=Mode.FULL)),
            fixed=Count("id", filter=Q(mode=Mode.FIXED)),
        )
        with writing(path) as temporary:
            _, count = subsidy_workbook(entry_rows(entries), masked=False, target=temporary)
        audit_record(
            actor=None,
            action="subsidy_list.export",
            object_type="subsidies.subsidyentry",
            object_repr=f"{year} 年资助参保名单{'（当年新增）' if since else ''}",
            after={"rows": count, "year": year, "added_since": added_since, "file": path.name},
            comment="命令行导出，含完整身份证号",
        )
        what = f"当年新增（{since} 起认定）" if since else "资助参保名单"
        self.stdout.write(
            f"{year} 年{what}：{count:,} 人，资助金额合计 {totals['amount'] or 0:,.2f} 元"
            f"（全额 {totals['full']:,} 人，定额 {totals['fixed']:,} 人）→ {path}（{time.perf_counter() - started:.2f} 秒）"
        )
