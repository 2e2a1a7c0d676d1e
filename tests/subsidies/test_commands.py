"""The operator commands: load_subsidy_rules (presets, 待确认 keeps a draft), export_subsidy_list (DATA-FORMATS §9
in full, the 当年新增 since a date, its one-line summary)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from audit.models import AuditEvent
from subsidies.models import SubsidyRuleSet
from tests.factories import IdentityFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def test_jiangmen_with_a_premium_is_put_in_force(township, capsys):
    call_command("load_subsidy_rules", "jiangmen-2022", "--year", "2026", "--premium", "380", "--activate")
    rule_set = SubsidyRuleSet.objects.get()
    assert (rule_set.status, rule_set.premium, rule_set.reference_date) == (
        "active",
        Decimal("380.00"),
        datetime.date(2025, 12, 31),
    )
    modes = dict(rule_set.rules.values_list("category", "mode"))
    assert all(modes[c] == "full" for c in ("TK", "GE", "DB", "DSR", "JD", "FP", "BY", "SW"))
    assert (modes["ZB"], modes["QT"]) == ("none", "none")
    assert "状态 生效" in capsys.readouterr().out


def test_jiangmen_before_2022_leaves_out_the_three_new_categories(township):
    call_command("load_subsidy_rules", "jiangmen-2022", "--year", "2021", "--premium", "250")
    modes = dict(SubsidyRuleSet.objects.get().rules.values_list("category", "mode"))
    assert (modes["FP"], modes["BY"], modes["SW"]) == ("none", "none", "none")


def test_open_items_keep_a_draft(township, capsys):
    with pytest.raises(CommandError, match="含 3 项待确认参数，未生效"):
        call_command("load_subsidy_rules", "maoming-2018", "--year", "2026", "--premium", "380", "--activate")
    rule_set = SubsidyRuleSet.objects.get()
    assert rule_set.status == "draft"
    assert rule_set.open_items() == [
        "最低生活保障对象的资助方式",
        "建档立卡贫困人口的资助方式",
        "其他特殊困难人员的资助方式",
    ]
    call_command("load_subsidy_rules", "national-2021", "--year", "2026")
    national = SubsidyRuleSet.objects.get(preset="national-2021")
    assert national.open_items()[0] == "个人缴费标准（未填写）"
    assert dict(national.rules.values_list("category", "mode"))["TK"] == "full"
    # Loading again changes nothing.
    call_command("load_subsidy_rules", "national-2021", "--year", "2026")
    assert SubsidyRuleSet.objects.count() == 2
    assert "已存在，未重复载入" in capsys.readouterr().out


def test_bad_arguments(township):
    with pytest.raises(CommandError, match="未知的预置方案"):
        call_command("load_subsidy_rules", "taishan", "--year", "2026")
    with pytest.raises(CommandError, match="个人缴费标准应为"):
        call_command("load_subsidy_rules", "jiangmen-2022", "--year", "2026", "--premium", "-1")
    for value in ("NaN", "sNaN", "Infinity", "-inf", "abc"):
        with pytest.raises(CommandError, match="个人缴费标准不是金额"):
            call_command("load_subsidy_rules", "jiangmen-2022", "--year", "2026", f"--premium={value}")
    for value in ("1e30", "100000", "99999999999"):
        with pytest.raises(CommandError, match="超出合理范围"):
            call_command("load_subsidy_rules", "jiangmen-2022", "--year", "2026", f"--premium={value}")
    assert not SubsidyRuleSet.objects.exists()


def test_export_summary_and_added_since(township, tmp_path, capsys):
    tk = PersonFactory(township=township)
    IdentityFactory(person=tk, category="TK", valid_from=datetime.date(2020, 1, 1))
    db = PersonFactory(township=township)
    IdentityFactory(person=db, category="DB", valid_from=datetime.date(2021, 1, 1))
    late = PersonFactory(township=township)
    IdentityFactory(person=late, category="DB", valid_from=datetime.date(2026, 4, 2))
    call_command("load_subsidy_rules", "national-2021", "--year", "2026", "--premium", "380")
    rule_set = SubsidyRuleSet.objects.get()
    rule_set.rules.filter(mode="fixed").update(amount=Decimal("250"), to_confirm=False)
    rule_set.rules.update(to_confirm=False)
    call_command("load_subsidy_rules", "national-2021", "--year", "2026", "--activate")
    capsys.readouterr()
    out = tmp_path / "list.xlsx"
    call_command("export_subsidy_list", str(out), "--year", "2026")
    line = capsys.readouterr().out.strip()
    assert line.startswith("2026 年资助参保名单：3 人，资助金额合计 880.00 元（全额 1 人，定额 2 人）")
    rows = [[c.value for c in row] for row in load_workbook(out).active.iter_rows()]
    assert rows[0] == [
        "身份证号",
        "姓名",
        "乡镇（街道）",
        "村（社区）",
        "资助类别",
        "资助方式",
        "个人缴费标准",
        "资助金额",
        "个人应缴",
        "认定日期",
    ]
    assert {r[0] for r in rows[1:]} == {tk.id_number, db.id_number, late.id_number}  # in full
    assert sorted(r[5] for r in rows[1:]) == ["全额", "定额", "定额"]
    call_command("export_subsidy_list", str(out), "--year", "2026", "--added-since", "2026-04-01")
    assert capsys.readouterr().out.startswith("2026 年当年新增（2026-04-01 起认定）：1 人，资助金额合计 250.00 元")
    assert [r[0] for r in list(load_workbook(out).active.iter_rows(values_only=True))[1:]] == [late.id_number]
    assert AuditEvent.objects.filter(action="subsidy_list.export").count() == 2
    with pytest.raises(CommandError, match="2025 年没有生效的资助参保政策"):
        call_command("export_subsidy_list", str(out), "--year", "2025")
