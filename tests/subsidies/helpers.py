"""Building rule sets, lists and result files for the 资助参保 tests."""

import csv
import datetime
import io
from decimal import Decimal

from subsidies.listing import build_list
from subsidies.models import SubsidyRule, SubsidyRuleSet, default_reference_date

YEAR = 2026
REFERENCE = default_reference_date(YEAR)  # 2025-12-31


def rule_set(county, *, premium="380", rules=None, new_in_year=True, status="active", year=YEAR, target="1"):
    """A rule set written directly: `rules` maps a category to "full", a fixed amount ("250") or "none"."""
    rs = SubsidyRuleSet.objects.create(
        county=county,
        year=year,
        name="测试资助参保",
        status=status,
        premium=Decimal(premium) if premium is not None else None,
        reference_date=default_reference_date(year),
        new_in_year=new_in_year,
        target=Decimal(target),
    )
    for category, how in (rules or {"TK": "full", "DB": "250"}).items():
        if how in ("full", "none"):
            SubsidyRule.objects.create(rule_set=rs, category=category, mode=how)
        else:
            SubsidyRule.objects.create(rule_set=rs, category=category, mode="fixed", amount=Decimal(how))
    return rs


def built(rs):
    return build_list(rs)


def result_csv(
    rows, headers=("身份证号", "参保年度", "参保状态", "缴费金额", "缴费日期"), encoding="utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def enrolled(person, *, pays="130.00", year=YEAR, day=datetime.date(2025, 12, 20)):
    return [person.id_number, str(year), "已参保", pays, day.isoformat()]


def not_enrolled(person, *, year=YEAR):
    return [person.id_number, str(year), "未参保", "", ""]
