"""Generate a county at full size in an empty, migrated PostgreSQL database (demo/county.py): for load tests and
for looking at the pages with a year's data. The logins are the demo's."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from recipients.models import County

from ... import county
from .seed_demo import COUNTY


class Command(BaseCommand):
    help = "生成一个全规模的县用于测试（10 万救助对象、100 万条结算、8 万件案件；仅限 PostgreSQL）。"

    def add_arguments(self, parser):
        defaults = county.Size()
        parser.add_argument("--people", type=int, default=defaults.people, help="救助对象人数")
        parser.add_argument("--settlements", type=int, default=defaults.settlements, help="结算条数")
        parser.add_argument("--cases", type=int, default=defaults.cases, help="零星报销案件数")
        parser.add_argument("--audit", type=int, default=defaults.audit, help="一年的审计日志条数")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（同一种子生成同样的数据）")

    def handle(self, *args, people, settlements, cases, audit, seed, **options):
        if connection.vendor != "postgresql":
            raise CommandError("需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        if County.objects.exists():
            built = county.built_size()
            if built:
                self.stdout.write(
                    f"已生成（{built['people']:,} 人，{built['settlements']:,} 条结算，{built['cases']:,} 件案件）"
                )
                return
            raise CommandError(f"数据库 {connection.settings_dict['NAME']} 已有数据：请使用一个空的数据库")
        size = county.Size(people=people, settlements=settlements, cases=cases, audit=audit)
        t0 = time.perf_counter()
        county.build(size=size, seed=seed, out=self.stdout.write)
        self.stdout.write(
            f"{COUNTY[0]}：{people:,} 人，{settlements:,} 条结算，{cases:,} 件案件，{audit:,} 条审计日志；"
            f"用时 {time.perf_counter() - t0:.0f} s。登录账号同 seed_demo（clerk、reviewer、approver …）"
        )
