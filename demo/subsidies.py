"""资助参保 of the demo county: the 2026 rules in force (茂名's preset; the fixed amounts and the premium, which the
source documents do not give, filled in and confirmed as an administrator would), the list built from the
registry, the collecting department's result imported through the flow (most enrolled, some not, some not
reported yet), a few calls of the 石鼓镇 window, and next year's rules loaded as a draft still to be confirmed."""

import datetime
import random
from decimal import Decimal

from accounts.models import User
from subsidies.listing import build_list
from subsidies.models import Enrolment, EnrolmentStatus, SubsidyEntry
from subsidies.selectors import coverage
from subsidies.services import (
    subsidy_record_contact,
    subsidy_rules_activate,
    subsidy_rules_confirm,
    subsidy_rules_load_preset,
    subsidy_rules_save,
)
from subsidies.staging import HEADERS

YEAR = 2026
PREMIUM = Decimal("380")  # 2026 城乡居民医保 personal premium of the demo (not from a seed)
FIXED = Decimal("250")  # the demo's 定额 for 低保 and 建档立卡 (贵池 2021's figure)


def seed_subsidies(command, rng: random.Random, county, *, through_the_flow, to_csv) -> None:
    admin = User.objects.get(username="admin")
    reviewer = User.objects.get(username="reviewer")
    clerk = User.objects.get(username="clerk")
    rule_set, _ = subsidy_rules_load_preset(name="maoming-2018", county=county, year=YEAR, premium=PREMIUM, user=admin)
    rows = [
        {
            "category": r.category,
            "mode": r.mode,
            "amount": FIXED if r.mode == "fixed" else None,
            "to_confirm": r.to_confirm,
            "note": r.note,
        }
        for r in rule_set.rules.all()
    ]
    subsidy_rules_save(rule_set=rule_set, user=admin, fields={}, rules=rows)
    subsidy_rules_confirm(rule_set=rule_set, user=admin)
    rule_set = subsidy_rules_activate(rule_set=rule_set, user=admin)
    counts = build_list(rule_set)
    command.stdout.write(
        f"  资助参保：{YEAR} 年名单 {counts.listed:,} 人（当年新增 {counts.new_in_year:,}），资助金额 {counts.total:,.2f} 元"
    )
    result = []
    entries = SubsidyEntry.objects.filter(township__county=county, year=YEAR).values_list(
        "person__id_number", "person_pays"
    )
    for id_number, pays in entries.order_by("person_id"):
        draw = rng.random()
        if draw < 0.03:
            continue  # not reported back yet
        if draw < 0.09:
            result.append([id_number, str(YEAR), "未参保", "", ""])
        else:
            day = datetime.date(2025, 9, 1) + datetime.timedelta(days=rng.randrange(120))
            result.append([id_number, str(YEAR), "已参保", f"{pays:.2f}", day.isoformat()])
    record = through_the_flow(
        "enrolment", reviewer, f"{YEAR}年度参保结果（税务回传）.csv", to_csv(result, headers=HEADERS), {"year": YEAR}
    )
    rate = coverage(year=YEAR, county=county, detail=False).total
    command.stdout.write(
        f"  参保结果：已参保 {record.rows_enrolled:,}，未参保 {record.rows_not_enrolled:,}，资助参保率 {rate.value:.2%}"
    )
    pending = (
        SubsidyEntry.objects.filter(year=YEAR, township=clerk.township)
        .exclude(person_id__in=_enrolled_people())
        .select_related("person")
        .order_by("person_id")[:3]
    )
    for entry, outcome in zip(pending, ["promised", "unreachable", "elsewhere"], strict=False):
        subsidy_record_contact(
            entry=entry,
            user=clerk,
            contacted_on=datetime.date(2026, 3, 10),
            method="phone",
            outcome=outcome,
            note="已告知个人应缴金额和缴费渠道" if outcome == "promised" else "",
        )
    draft, _ = subsidy_rules_load_preset(name="national-2021", county=county, year=YEAR + 1, user=admin)
    command.stdout.write(f"  {YEAR + 1} 年资助参保政策草稿：{len(draft.open_items())} 项待确认")


def _enrolled_people():
    return Enrolment.objects.filter(year=YEAR, status=EnrolmentStatus.ENROLLED).values("person_id")
