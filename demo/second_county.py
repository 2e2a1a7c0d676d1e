"""The second county of the two-county demo (`seed_demo --counties 2`): 化州市, smaller than 高州市, with its own
logins, rosters, policy, cases, settlements, funds and a payout batch; and the prefecture's (茂名市) two logins.

Everything goes through the services the portal uses, as the first county does."""

import datetime
import random
from decimal import Decimal

from accounts.models import User
from accounts.roles import Role
from applications.cases.services import case_approve
from applications.models import Case
from applications.policy.services import policy_load_preset
from applications.proactive.crosscheck import crosscheck_now
from applications.secondary.services import secondary_now
from payouts import services as ps
from recipients import demo
from recipients.models import County, Identity, Township, Village
from reports.facts import refresh_facts
from reports.models import FundEntry
from settlements import demo as sdemo

SECOND_COUNTY = ("化州市", "440982")
SECOND_TOWNSHIPS = {
    "河西街道": ["河西社区", "北岸社区", "橘城社区", "新安村"],
    "东山街道": ["东山社区", "石湾村", "官桥村", "塘岭村"],
    "长岐镇": ["长岐村", "北山村", "竹山村", "大塘村"],
    "杨梅镇": ["杨梅村", "凤山村", "大坡村", "新华村"],
    "良光镇": ["良光村", "石龙村", "合江村"],
    "笪桥镇": ["笪桥村", "长坡村", "大垌村"],
}
SECOND_USERS = [
    ("hz_clerk", "何晓燕", Role.CLERK, "河西街道", "Huazhou-window-2026"),
    ("hz_reviewer", "苏国强", Role.REVIEWER, None, "Huazhou-review-2026"),
    ("hz_approver", "冯志明", Role.APPROVER, None, "Huazhou-approve-2026"),
    ("hz_finance", "邓丽华", Role.FINANCE, None, "Huazhou-payments-2026"),
    ("hz_supervisor", "罗建华", Role.SUPERVISOR, None, "Huazhou-oversee-2026"),
    ("hz_admin", "钟伟", Role.ADMIN, None, "Huazhou-config-2026"),
]
CITY_USERS = [
    ("city", "梁振国", Role.CITY_SUPERVISOR, None, "Maoming-oversee-2026"),
    ("cityadmin", "陈敏", Role.CITY_ADMIN, None, "Maoming-config-2026"),
]


def make_users(rows, county) -> None:
    """One login per row (username, full name, role, township name, password) of the county (None: prefecture)."""
    for username, full_name, role, township_name, password in rows:
        township = Township.objects.get(county=county, name=township_name) if township_name else None
        user = User(username=username, full_name=full_name, role=role, township=township, county=county)
        user.set_password(password)
        user.save()


def _date(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange(0, (end - start).days + 1))


def seed_second_county(command, rng: random.Random, *, people: int) -> None:
    county = County.objects.create(name=SECOND_COUNTY[0], code=SECOND_COUNTY[1])
    for n, (name, villages) in enumerate(SECOND_TOWNSHIPS.items(), start=1):
        township = Township.objects.create(county=county, name=name, code=f"{SECOND_COUNTY[1]}{n:03d}")
        Village.objects.bulk_create(Village(township=township, name=v) for v in villages)
    make_users(SECOND_USERS, county)
    command.stdout.write(f"{SECOND_COUNTY[0]}：")
    reviewer = User.objects.get(username="hz_reviewer")
    residents = demo.make_people(rng, people, SECOND_TOWNSHIPS, region=SECOND_COUNTY[1])
    civil, rural = [], []
    categories, weights = list(demo.CATEGORY_WEIGHTS), list(demo.CATEGORY_WEIGHTS.values())
    for p in residents:
        category = rng.choices(categories, weights)[0]
        if category == "GE" and p.birth < datetime.date(2009, 1, 1):
            category = "DB"
        start = _date(rng, datetime.date(2019, 1, 1), datetime.date(2025, 6, 30))
        row = (p, category, start, None)
        (rural if demo.SOURCE_OF[category] == "乡村振兴" else civil).append(row)
    civil = [r for r in civil if demo.SOURCE_OF[r[1]] in ("民政", "医保")]
    command.import_roster(
        reviewer, "化州市2025年民政救助对象名册.xlsx", demo.to_xlsx([demo.roster_row(*r) for r in civil]), "民政"
    )
    command.import_roster(
        reviewer, "化州市2025年脱贫人口名单.xlsx", demo.to_xlsx([demo.roster_row(*r) for r in rural]), "乡村振兴"
    )
    version, _ = policy_load_preset(name="maoming-2018", county=county)
    version.major_disease_codes = ["C", "N18", "I21", "I63", "D61"]
    version.save(update_fields=["major_disease_codes"])
    command.stdout.write(f"  救助政策：{version}（{version.get_status_display()}）")
    command.seed_cases(rng, clerks=("hz_clerk",), reviewer="hz_reviewer", approver="hz_approver")
    _settlements(command, rng, county, reviewer)
    _money(command, county)


def _settlements(command, rng, county, reviewer) -> None:
    start, end = datetime.date(2026, 1, 5), datetime.date(2026, 10, 31)
    holders = list(
        Identity.objects.filter(person__township__county=county, valid_from__lte=end)
        .values_list("person__id_number", "person__name")
        .distinct()
    )
    rng.shuffle(holders)
    rows = []
    for id_number, name in holders[: max(len(holders) * 2 // 3, 1)]:
        for _ in range(rng.choice([1, 1, 2])):
            rows.append(
                sdemo.settlement_row(
                    rng,
                    f"HZ2026{len(rows) + 1:07d}",
                    id_number,
                    name,
                    service_date=_date(rng, start, end),
                    onestop_ratio=0 if rng.random() < 0.06 else 0.7,
                )
            )
    content = demo.to_csv(rows, headers=sdemo.HEADERS)
    record = command.through_the_flow("settlement", reviewer, "化州市2026年1-10月医保结算数据.csv", content)
    command.stdout.write(f"  医保结算数据: {record.rows_added} 条")
    job = crosscheck_now(user=reviewer, reason="演示数据（化州市）", county_id=county.pk)
    command.stdout.write(f"  主动救助比对: 线索 {job.created} 条")
    job = secondary_now(user=reviewer, year=2026, reason="演示数据（化州市）", county_id=county.pk)
    command.stdout.write(f"  二次救助测算: 生成待审批案件 {job.created} 件")
    approver = User.objects.get(username="hz_approver")
    secondary = Case.objects.filter(source=Case.Source.SECONDARY, township__county=county, status="approval")
    for case in secondary.order_by("number")[:3]:
        case_approve(case=case, user=approver, comment="同意")


def _money(command, county) -> None:
    """The county's funds, and one payout batch of its approved cases, locked for review."""
    for source, amount, day in (
        ("carryover", "910000", datetime.date(2026, 1, 1)),
        ("grant", "6200000", datetime.date(2026, 3, 25)),
    ):
        FundEntry.objects.create(county=county, year=2026, source=source, amount=Decimal(amount), received_on=day)
    finance = User.objects.get(username="hz_finance")
    try:
        batch = ps.batch_create(user=finance, purpose="医疗救助金（化州市 11月）")
    except ps.PayoutRefused:
        command.stdout.write("  支付批次: 没有待发放的金额")
    else:
        ps.batch_lock(batch=batch, user=finance)
        command.stdout.write(f"  支付批次: {batch.number}（待复核，{batch.line_count} 笔）")
    refresh_facts(year=2026)
