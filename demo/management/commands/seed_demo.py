"""A realistic, deterministic demo county: 高州市 with its townships, one login per role, and
5,000+ recipients whose identity histories come from four roster imports (an initial 民政 roster in
GB18030 CSV, a 乡村振兴 list in Excel, a 民政 full snapshot that ends absent identities, and a
backdated 动态调整 file), run through the same import service the portal uses."""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from applications.cases import services as cs
from applications.cases.attachments import case_attach
from applications.cases.services import case_approve
from applications.models import Case, Lead, PolicyVersion
from applications.policy.services import policy_activate, policy_load_preset
from applications.proactive import services as lead_services
from applications.proactive.crosscheck import crosscheck_now
from applications.secondary.services import secondary_now
from imports.services import import_apply, import_confirm, import_create, import_validate
from monitoring.demo import seed_monitoring
from payouts import services as ps
from recipients import demo
from recipients.categories import parse_source
from recipients.models import County, Identity, Person, Township, Village
from reports.facts import refresh_facts
from reports.models import FundEntry
from settlements import demo as sdemo

from ...followups import seed_followups
from ...insurer import insurer_statements, insurer_terms
from ...second_county import CITY_USERS, SECOND_COUNTY, SECOND_USERS, make_users, seed_second_county
from ...subsidies import seed_subsidies
from ...supervision import AUDITOR, seed_supervision

COUNTY = ("高州市", "440981")
TOWNSHIPS = {
    "潘州街道": ["城东社区", "城西社区", "文明社区", "南关社区", "北街社区"],
    "金山街道": ["金山社区", "长岭村", "大路村", "石古村", "塘坡村"],
    "石鼓镇": ["石鼓村", "大岭村", "新村", "良德村", "高田村", "水口村"],
    "东岸镇": ["东岸村", "合水村", "坡头村", "大塘村", "新华村"],
    "长坡镇": ["长坡村", "旺垌村", "上坪村", "下坪村", "龙湾村", "冼村"],
    "平山镇": ["平山村", "大坡村", "文田村", "山口村", "塘尾村"],
    "深镇镇": ["深镇村", "高山村", "石岭村", "云炉村", "大垌村"],
    "马贵镇": ["马贵村", "沙田村", "河口村", "垌头村"],
    "古丁镇": ["古丁村", "同心村", "大路坡村", "山美村", "垌心村"],
    "大坡镇": ["大坡村", "南坑村", "西坑村", "平田村"],
    "荷花镇": ["荷花村", "莲塘村", "丰垌村", "石坡村", "河塘村"],
    "分界镇": ["分界村", "储良村", "垌尾村", "新圩村", "田头村"],
    "根子镇": ["根子村", "柏桥村", "元坝村", "红花村", "新联村"],
}
DEMO_USERS = [
    # username, full name, role, township, password
    ("clerk", "陈丽华", Role.CLERK, "石鼓镇", "Shigu-window-2026"),
    ("clerk2", "梁志强", Role.CLERK, "东岸镇", "Dongan-window-2026"),
    ("reviewer", "黄建国", Role.REVIEWER, None, "County-review-2026"),
    ("approver", "李明德", Role.APPROVER, None, "County-approve-2026"),
    ("finance", "吴秀英", Role.FINANCE, None, "County-payments-2026"),
    ("supervisor", "林志华", Role.SUPERVISOR, None, "County-oversee-2026"),
    ("admin", "郑文杰", Role.ADMIN, None, "County-config-2026"),
]


# A second finance user, for the maker-checker review of payout batches.
DEMO_USERS_EXTRA = {"finance2": "County-checker-2026", "reviewer2": "County-audit-2026"}


def _date(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange(0, (end - start).days + 1))


class Command(BaseCommand):
    help = "载入演示县（高州市）：乡镇、每个角色一个账号、5,000 多名救助对象。"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=5200, help="居民人数（默认 5200）")
        parser.add_argument("--seed", type=int, default=20261123, help="随机种子（同一种子生成同样的演示数据）")
        parser.add_argument(
            "--counties",
            type=int,
            default=1,
            help="1：高州市；2：另加化州市（有自己的账号）和市级账号",
        )

    def handle(self, *args, people, seed, counties, **options):
        if counties not in (1, 2):
            raise CommandError("--counties 只能为 1 或 2")
        if people < 100:
            raise CommandError("--people 至少为 100")
        if County.objects.filter(code=COUNTY[1]).exists():
            self.stdout.write("演示数据已存在，未重复加载。")
            self._print_logins(2 if County.objects.filter(code=SECOND_COUNTY[1]).exists() else 1)
            return
        rng = random.Random(seed)
        with transaction.atomic():  # all or nothing: a failed seed leaves no half county behind
            county = County.objects.create(name=COUNTY[0], code=COUNTY[1])
            for n, (name, villages) in enumerate(TOWNSHIPS.items(), start=1):
                township = Township.objects.create(county=county, name=name, code=f"{COUNTY[1]}{n:03d}")
                Village.objects.bulk_create(Village(township=township, name=v) for v in villages)
            make_users(DEMO_USERS, county)
            runner = User.objects.get(username="reviewer")
            self._load_rosters(rng, people, runner)
            version, _ = policy_load_preset(name="maoming-2018", county=county, activate=False)
            insurer_terms(version)
            version = policy_activate(version=version, user=None)
            self.stdout.write(f"  救助政策：{version}（{version.get_status_display()}）")
            self.seed_cases(rng)
            self._settlements(rng, runner)
            seed_subsidies(self, rng, county, through_the_flow=self.through_the_flow, to_csv=demo.to_csv)
            self.stdout.write(insurer_statements(county))
            if counties > 1:
                seed_second_county(self, random.Random(seed + 1), people=max(people // 3, 100))
                make_users(CITY_USERS, None)
        self._print_logins(counties)

    def _load_rosters(self, rng, count, user):
        people = demo.make_people(rng, count, TOWNSHIPS)
        categories = list(demo.CATEGORY_WEIGHTS)
        weights = list(demo.CATEGORY_WEIGHTS.values())
        civil, rural = [], []  # (person, category, valid_from, valid_to)
        for p in people:
            category = rng.choices(categories, weights)[0]
            if category == "GE" and p.birth < datetime.date(2009, 1, 1):
                category = "DB"
            start = _date(rng, datetime.date(2019, 1, 1), datetime.date(2023, 12, 31))
            end = None
            if rng.random() < 0.12 and start < datetime.date(2023, 9, 1):  # exited before the first roster
                end = _date(rng, start + datetime.timedelta(days=90), datetime.date(2023, 12, 31))
            target = rural if demo.SOURCE_OF[category] == "乡村振兴" else civil
            target.append((p, category, start, end))
            if category == "JD" and rng.random() < 0.3:
                # 脱贫人口 who are also 低保: two overlapping identities from two departments.
                civil.append((p, "DB", _date(rng, start, datetime.date(2023, 12, 31)), None))
            elif category == "DB" and rng.random() < 0.08:
                # 低保 re-recognised after an earlier window ended.
                first_end = start + datetime.timedelta(days=rng.randrange(180, 700))
                if first_end < datetime.date(2023, 6, 1):
                    civil[-1] = (p, "DB", start, first_end)
                    civil.append((p, "DB", first_end + datetime.timedelta(days=rng.randrange(30, 200)), None))

        medical = [r for r in civil if demo.SOURCE_OF[r[1]] == "医保"]
        civil = [r for r in civil if demo.SOURCE_OF[r[1]] == "民政"]
        self.import_roster(
            user,
            "2024年1月民政救助对象名册.csv",
            demo.to_csv([demo.roster_row(*r) for r in civil], encoding="gb18030"),
            "民政",
        )
        self.import_roster(
            user,
            "2024年乡村振兴脱贫人口及监测对象名单.xlsx",
            demo.to_xlsx([demo.roster_row(*r) for r in rural]),
            "乡村振兴",
        )
        self.import_roster(
            user, "2024年因病致贫重病患者认定名单.xlsx", demo.to_xlsx([demo.roster_row(*r) for r in medical]), "医保"
        )

        # December 2025 full 民政 snapshot: about 7% of open identities are gone (ended 2025-11-30),
        # and new recipients recognised during 2025 appear.
        snapshot = []
        for p, category, start, end in civil:
            if end is None and rng.random() < 0.07:
                continue
            snapshot.append((p, category, start, end))
        known = {p.id_number for p in people}
        newcomers = demo.make_people(random.Random(rng.random()), max(count // 25, 10), TOWNSHIPS)
        for p in (p for p in newcomers if p.id_number not in known):
            category = rng.choices(["DB", "TK", "BY", "DSR", "SW"], [60, 10, 15, 10, 5])[0]
            snapshot.append((p, category, _date(rng, datetime.date(2025, 1, 1), datetime.date(2025, 11, 30)), None))
        self.import_roster(
            user,
            "2025年12月民政救助对象全量名册.csv",
            demo.to_csv([demo.roster_row(*r) for r in snapshot]),
            "民政",
            snapshot_date=datetime.date(2025, 12, 1),
        )

        # October 2026 动态调整: backdated recognitions (认定日期 months before the file) and exits.
        adjustments = []
        for p, category, start, end in rng.sample(snapshot, k=min(len(snapshot), max(count // 20, 10))):
            if end is None and rng.random() < 0.5:
                adjustments.append(
                    (p, category, start, _date(rng, datetime.date(2026, 1, 1), datetime.date(2026, 12, 10)))
                )
            else:
                adjustments.append(
                    (
                        p,
                        "DB" if category != "DB" else "BY",
                        _date(rng, datetime.date(2026, 1, 1), datetime.date(2026, 9, 30)),
                        None,
                    )
                )
        self.import_roster(
            user, "2026年10月民政动态调整.xlsx", demo.to_xlsx([demo.roster_row(*r) for r in adjustments]), "民政"
        )

    def seed_cases(self, rng, clerks=("clerk", "clerk2"), reviewer="reviewer", approver="approver"):
        """零星报销 cases of the given windows (石鼓镇 and 东岸镇 by default), in every state of the workflow."""
        users = {u.username: u for u in User.objects.all()}
        users["reviewer"], users["approver"] = users[reviewer], users[approver]
        day = datetime.date(2026, 9, 1)
        hospitals = ["广州市第一人民医院", "中山大学附属第一医院", "茂名市人民医院", "高州市人民医院"]
        plans = [
            ("draft",),
            ("accept",),
            ("accept_pending",),
            ("accept", "submit"),
            ("accept", "submit"),
            ("accept", "submit", "review"),
            ("accept", "submit", "review"),
            ("accept", "submit", "review", "approve"),
            ("accept", "submit", "review", "approve"),
            ("accept", "submit", "review", "reject"),
            ("accept", "submit", "return"),
            ("accept", "withdraw"),
        ]
        count = 0
        for clerk_name in clerks:
            clerk = users[clerk_name]
            candidates = list(
                Identity.objects.filter(
                    person__township=clerk.township,
                    category__in=["DB", "TK", "JD", "QT"],
                    valid_to__isnull=True,
                    valid_from__lte=day,
                ).select_related("person")[:40]
            )
            people = list({i.person_id: i.person for i in candidates}.values())  # one case per person
            for n, (plan, person) in enumerate(zip(plans, people, strict=False)):
                case = cs.case_create(person=person, user=clerk)
                admitted = day + datetime.timedelta(days=rng.randrange(0, 40))
                total = Decimal(rng.randrange(300000, 6000000)) / 100
                in_policy = (total * Decimal("0.85")).quantize(Decimal("0.01"))
                basic = (in_policy * Decimal("0.55")).quantize(Decimal("0.01"))
                cs.case_add_bill(
                    case=case,
                    user=clerk,
                    hospital=rng.choice(hospitals),
                    visit_type="住院",
                    admitted_on=admitted,
                    discharged_on=admitted + datetime.timedelta(days=rng.randrange(2, 15)),
                    invoice_number=f"{clerk_name.upper()}-{n:04d}",
                    total=total,
                    in_policy=in_policy,
                    basic=basic,
                    critical=(in_policy - basic) * Decimal("0.3") if total > 30000 else Decimal("0"),
                )
                case_attach(
                    case=case,
                    user=clerk,
                    name="住院发票.png",
                    content=demo.blank_scan_png(),
                    material="住院（门诊）医疗费用发票",
                )
                for step in plan:
                    case.refresh_from_db()
                    if step == "accept":
                        cs.case_accept(case=case, user=clerk)
                    elif step == "accept_pending":
                        cs.case_accept(
                            case=case,
                            user=clerk,
                            missing_materials=["费用清单"],
                            materials_deadline=timezone.localdate() + datetime.timedelta(days=10),
                        )
                    elif step == "submit":
                        cs.case_submit(case=case, user=clerk)
                    elif step == "review":
                        cs.case_review(case=case, user=users["reviewer"], comment="材料齐全，计算无误")
                    elif step == "approve":
                        cs.case_approve(case=case, user=users["approver"], comment="同意")
                    elif step == "reject":
                        cs.case_reject(case=case, user=users["approver"], reason="住院期间已享受一站式救助")
                    elif step == "return":
                        cs.case_return(case=case, user=users["reviewer"], reason="缺少费用清单，请补正")
                    elif step == "withdraw":
                        cs.case_withdraw(case=case, user=clerk, reason="申请人要求撤回")
                count += 1
        self.stdout.write(f"  零星报销案件：{count} 件（各种状态）")

    def _settlements(self, rng, user):
        """A year of settlements from the medical-insurance platform, mostly settled one-stop; the
        cross-check then finds the rest, and the 石鼓镇 window has worked a few of its leads."""
        start, end = datetime.date(2026, 1, 5), datetime.date(2026, 10, 31)
        holders = list(
            Identity.objects.filter(valid_from__lte=end)
            .exclude(valid_to__lt=start)
            .values_list("person__id_number", "person__name")
            .distinct()
        )
        rng.shuffle(holders)
        rows, n = [], 0
        for id_number, name in holders[:2400]:
            for _ in range(rng.choice([1, 1, 2, 3])):
                n += 1
                remote = rng.random() < 0.08
                ratio = 0 if remote or rng.random() < 0.04 else 0.7
                rows.append(
                    sdemo.settlement_row(
                        rng,
                        f"GZ2026{n:07d}",
                        id_number,
                        name,
                        service_date=_date(rng, start, end),
                        onestop_ratio=ratio,
                        remote=remote,
                    )
                )
        for _ in range(300):  # residents with no assistance identity: kept, never leads
            n += 1
            number = demo.make_id_number(
                rng, "440981", _date(rng, datetime.date(1940, 1, 1), datetime.date(2000, 1, 1))
            )
            rows.append(
                sdemo.settlement_row(
                    rng, f"GZ2026{n:07d}", number, demo.make_name(rng), service_date=_date(rng, start, end)
                )
            )
        # Someone in no registry with two heavy stays: the 监测预警's shortlist for 因病致贫 identification.
        self.zb_candidate = demo.make_id_number(rng, "440981", datetime.date(1962, 3, 8))
        for day in (datetime.date(2026, 3, 2), datetime.date(2026, 8, 17)):
            n += 1
            row = sdemo.settlement_row(
                rng, f"GZ2026{n:07d}", self.zb_candidate, "陈永福", service_date=day, inpatient=True, onestop_ratio=0
            )
            row[9:13] = ["42000.00", "38000.00", "20000.00", "6000.00"]
            rows.append(row)
        # The Taishan case: a 低保 resident of 石鼓镇 treated out of the province, nothing paid one-stop.
        person = (
            Person.objects.filter(township__name="石鼓镇", identities__category="DB", identities__valid_to__isnull=True)
            .exclude(cases__isnull=False)
            .first()
        )
        row = sdemo.settlement_row(
            rng,
            "GZ2026TS00001",
            person.id_number,
            person.name,
            service_date=datetime.date(2026, 6, 10),
            inpatient=True,
            onestop_ratio=0,
            remote=True,
        )
        row[9:13] = ["42000.00", "38000.00", "20000.00", "6000.00"]
        rows.append(row)
        content = demo.to_csv(rows, headers=sdemo.HEADERS)
        record = self.through_the_flow("settlement", user, "2026年1-10月医保结算数据.csv", content)
        self.stdout.write(f"  医保结算数据: {record.rows_added} 条，其中名册外人员 {record.rows_unregistered} 条")
        job = crosscheck_now(user=user, reason="演示数据")
        self.stdout.write(f"  主动救助比对: 线索 {job.created} 条，预计救助 {job.total_amount} 元")
        clerk = User.objects.get(username="clerk")
        leads = list(Lead.objects.filter(township=clerk.township).order_by("-estimate")[:4])
        contacted = datetime.date(2026, 11, 20)
        for lead, outcome in zip(leads, ["agreed", "contacted", "unreachable", "refused"], strict=False):
            lead_services.lead_record_contact(
                lead=lead, user=clerk, contacted_on=contacted, method="phone", outcome=outcome
            )
        if leads:
            lead_services.lead_convert(lead=leads[0], user=clerk)
        if len(leads) > 3:
            lead_services.lead_close(lead=leads[3], user=clerk, reason="refused", note="本人表示已通过其他渠道报销")
        job = secondary_now(user=user, year=2026, reason="演示数据")
        self.stdout.write(f"  二次救助测算: 生成待审批案件 {job.created} 件，拟救助 {job.total_amount} 元")
        approver = User.objects.get(username="approver")
        for case in Case.objects.filter(source=Case.Source.SECONDARY, township=clerk.township).order_by("number")[:3]:
            case_approve(case=case, user=approver, comment="同意")
        self._payouts(clerk.township)
        self.stdout.write(
            "  "
            + seed_monitoring(county=clerk.township.county, reviewer=user, clerk=clerk, candidate=self.zb_candidate)
        )

    def _payouts(self, township):
        """One batch paid through the bank (one line failed: the account was closed), one waiting for review."""
        self._fund_entries()  # before any batch is locked: the gate reads the funds available
        finance = User.objects.get(username="finance")
        checker = User(username="finance2", full_name="何美玲", role=Role.FINANCE, county=finance.county)
        checker.set_password(DEMO_USERS_EXTRA["finance2"])
        checker.save()
        batch = ps.batch_create(user=finance, township=township, purpose="医疗救助金（10月）")
        batch = ps.batch_review(batch=ps.batch_lock(batch=batch, user=finance), user=checker)
        ps.batch_export(batch=batch, user=finance)
        lines = list(batch.lines.order_by("reference"))
        rows = [
            [
                line.reference,
                line.payee_account,
                str(line.amount),
                "失败" if n == 0 else "成功",
                "账户已销户" if n == 0 else "",
            ]
            for n, line in enumerate(lines)
        ]
        content = demo.to_csv(rows, headers=["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"])
        ps.bank_return_import(batch=batch, user=finance, file_name="农行回盘.csv", content=content)
        second = ps.batch_create(user=finance, purpose="医疗救助金（11月）")
        ps.batch_lock(batch=second, user=finance)
        self.stdout.write(
            f"  支付批次: {batch.number}（已回盘，{len(lines)} 笔），{second.number}（待复核，{second.line_count} 笔）"
        )
        seed_supervision(self, County.objects.get(code=COUNTY[1]))
        seed_followups(self, batch=batch)
        self._funds()

    def _fund_entries(self):
        """The year's funds by source (and, run in a later year, that year's carry-over: the gate before payouts
        reads the funds of the year a batch is locked in)."""
        county = County.objects.get(code=COUNTY[1])
        rows = [
            ("carryover", "2828700", datetime.date(2026, 1, 1)),
            ("grant", "18600000", datetime.date(2026, 3, 20)),
            ("lottery", "1200000", datetime.date(2026, 6, 30)),
        ]
        for source, amount, day in rows:
            FundEntry.objects.create(county=county, year=2026, source=source, amount=Decimal(amount), received_on=day)
        this_year = timezone.localdate().year
        if this_year != 2026:
            FundEntry.objects.create(
                county=county, year=this_year, source="carryover", amount=Decimal("20000000"), note="演示：上年结转"
            )

    def _funds(self):
        """The dashboard's summary of the year."""
        PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).update(
            major_disease_codes=["C", "N18", "I21", "I63", "D61"]
        )
        rows = refresh_facts(year=2026)
        self.stdout.write(f"  统计看板: 2026 年汇总 {rows} 行")

    def through_the_flow(self, kind, user, name, content, options=None):
        """Upload, check, confirm and write a file as the portal does, in this process."""
        record = import_create(kind=kind, user=user, file_name=name, content=content, options=options, enqueue=False)
        record = import_validate(kind=kind, pk=record.pk)
        if record.status != record.Status.VALID:
            raise CommandError(f"演示数据 {name} 未通过校验：{record.errors[:3]}")
        import_confirm(record=record, user=user, enqueue=False)
        return import_apply(kind=kind, pk=record.pk)

    def import_roster(self, user, name, content, source, snapshot_date=None):
        options = {"source": parse_source(source), "snapshot_date": snapshot_date}
        roster_import = self.through_the_flow("roster", user, name, content, options)
        self.stdout.write(
            f"  {name}: 新增 {roster_import.rows_added}，变更 {roster_import.rows_changed}，"
            f"终止 {roster_import.rows_ended}，无变化 {roster_import.rows_unchanged}"
        )

    def _print_logins(self, counties=1):
        self.stdout.write("演示账号（仅供演示，请勿用于生产）：")
        groups = [(COUNTY[0], DEMO_USERS)]
        if counties > 1:
            groups += [(SECOND_COUNTY[0], SECOND_USERS), ("全市", CITY_USERS)]
        for place, users in groups:
            if counties > 1:
                self.stdout.write(f" {place}：")
            for username, full_name, role, township, password in users:
                where = f"，{township}" if township else ""
                self.stdout.write(f"  {role.label:<8} {username:<13} 密码 {password:<22} （{full_name}{where}）")
            if users is DEMO_USERS:
                finance2 = DEMO_USERS_EXTRA["finance2"]
                self.stdout.write(
                    f"  {Role.FINANCE.label:<8} {'finance2':<13} 密码 {finance2:<22} （何美玲，复核支付批次）"
                )
                name, full_name, password = AUDITOR
                self.stdout.write(
                    f"  {Role.REVIEWER.label:<8} {name:<13} 密码 {password:<22} （{full_name}，抽查复核）"
                )
