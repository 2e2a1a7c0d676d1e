"""followup_plan and export_followups: one-line summaries, readable refusals."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from audit.models import AuditEvent
from followups.models import FollowupPlan

from .conftest import paid_line


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_plan_of_a_batch_with_a_sample_and_a_minimum(batch, towns):
    for town, n in zip(towns, (5, 2, 1), strict=True):
        for _ in range(n):
            paid_line(batch, town, phone="13700001111")
    line = run("followup_plan", "--batch", batch.number, "--sample", "3", "--per-township", "2", "--seed", "42")
    plan = FollowupPlan.objects.get()
    assert line == (
        f"回访计划 {plan.number}：支付批次 {batch.number}，发放成功 8 笔，随机抽取 3 笔，每个乡镇至少 2 笔，"
        "抽取 5 笔（3 个乡镇），随机种子 42"
    )
    assert "\n" not in line
    out = f"{plan.number}.xlsx"
    summary = run("export_followups", plan.number, out, "--township", "石鼓镇")
    assert summary == f"回访清单 {plan.number}：2 户（1 个乡镇）→ {out}"
    rows = list(load_workbook(out).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert {row[3] for row in rows} == {"13700001111"}  # the operator's file is in full
    assert AuditEvent.objects.get(action="followup.export").comment == "命令行导出，含完整联系电话"
    import os

    os.unlink(out)


def test_plan_of_a_month_by_share(batch, towns):
    for _ in range(10):
        paid_line(batch, towns[0])
    line = run("followup_plan", "--month", "2026-11", "--share", "25%")
    assert "2026年11月发放，发放成功 10 笔" in line and "按 25% 随机抽取" in line and "抽取 3 笔" in line


def test_an_empty_period_and_unknown_names_are_clear_errors(batch):
    with pytest.raises(CommandError, match="高州市2026年10月没有发放成功的支付明细，无法制订回访计划"):
        run("followup_plan", "--month", "2026-10")
    with pytest.raises(CommandError, match="没有批次号为 ZF1 的支付批次"):
        run("followup_plan", "--batch", "ZF1")
    with pytest.raises(CommandError, match="月份格式不对"):
        run("followup_plan", "--month", "十一月")
    with pytest.raises(CommandError, match="没有发放成功的明细"):
        run("followup_plan", "--batch", batch.number)
    with pytest.raises(CommandError, match="没有编号为 HF9 的回访计划"):
        run("export_followups", "HF9", "x.xlsx")


def test_a_share_or_a_seed_out_of_range_is_a_message(batch, towns):
    paid_line(batch, towns[0])
    for share in ("NaN", "sNaN", "Infinity"):
        with pytest.raises(CommandError, match="抽取比例格式不对"):
            run("followup_plan", "--batch", batch.number, "--share", share)
    for seed in ("99999999999999999999999", "-1", str(2**63)):
        with pytest.raises(CommandError, match="随机种子应为 0～9223372036854775807 的整数"):
            run("followup_plan", "--batch", batch.number, f"--seed={seed}")
    assert run("followup_plan", "--batch", batch.number, "--seed", str(2**63 - 1)).endswith(str(2**63 - 1))
    assert FollowupPlan.objects.count() == 1


def test_cancel_options_belong_together(batch, towns):
    paid_line(batch, towns[0])
    with pytest.raises(CommandError, match="只与 --cancel 一起使用"):
        run("followup_plan", "--batch", batch.number, "--reason", "x")
    plan_line = run("followup_plan", "--batch", batch.number)
    number = plan_line.split()[1].rstrip("：")
    with pytest.raises(CommandError, match="作废计划时不用 --sample"):
        run("followup_plan", "--cancel", number, "--sample", "3", "--reason", "x")
    assert FollowupPlan.objects.get().status == "active"
