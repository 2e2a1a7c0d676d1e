from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from followups.models import FollowupPlan
from followups.plans import PlanRefused, plan_cancel, plan_create, plan_scope
from payouts.models import PayoutBatch
from recipients.models import County

M = FollowupPlan.Method


class Command(BaseCommand):
    help = (
        "制订回访计划：从一个支付批次（--batch）或一个发放月份（--month）发放成功的明细中抽取回访对象；"
        "不指定 --sample / --share / --per-township 时全部回访。作废抽错的计划：--cancel 计划编号 --reason 原因"
        "（尚未记录任何回访结果时）。"
    )

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--batch", help="支付批次号，如 ZF20261124001")
        scope.add_argument("--month", help="发放月份，如 2026-11")
        scope.add_argument("--cancel", metavar="PLAN", help="作废回访计划（计划编号，如 HF20261125001）")
        size = parser.add_mutually_exclusive_group()
        size.add_argument("--sample", type=int, help="随机抽取 N 笔")
        size.add_argument("--share", help="按比例抽取：0.1、10%% 均可")
        parser.add_argument(
            "--per-township", type=int, default=0, help="每个乡镇至少抽取 K 笔（单独使用时为每个乡镇抽取 K 笔）"
        )
        parser.add_argument("--seed", type=int, help="随机种子（默认由系统生成并记录在计划中）")
        parser.add_argument("--county", help="县（区）代码，按月份制订、且有多个县时必填")
        parser.add_argument("--note", default="", help="说明")
        parser.add_argument("--reason", default="", help="作废原因（与 --cancel 一起使用）")

    def handle(self, *args, batch, month, cancel, reason, sample, share, per_township, seed, county, note, **options):
        if cancel:
            extra = [name for name, value in (("--sample", sample), ("--share", share), ("--seed", seed)) if value]
            extra += ["--per-township"] * bool(per_township) + ["--county"] * bool(county) + ["--note"] * bool(note)
            if extra:
                raise CommandError(f"作废计划时不用 {'、'.join(extra)}")
            self._cancel(cancel, reason)
            return
        if reason:
            raise CommandError("--reason 只与 --cancel 一起使用（作废原因）")
        found_batch = None
        if batch:
            found_batch = PayoutBatch.objects.filter(number=batch.strip().upper()).select_related("county").first()
            if found_batch is None:
                raise CommandError(f"没有批次号为 {batch} 的支付批次")
        found_county = None
        if county:
            found_county = County.objects.filter(code=county.strip()).first()
            if found_county is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
        if sample is not None:
            method = M.COUNT
        elif share is not None:
            method = M.SHARE
        elif per_township:
            method = M.TOWNSHIP
        else:
            method = M.ALL
        try:
            plan = plan_create(
                user=None,
                scope=plan_scope(user=None, county=found_county, batch=found_batch, month=month or ""),
                method=method,
                size=sample,
                share=self._share(share) if share is not None else None,
                per_township=per_township,
                seed=seed,
                note=note,
            )
        except PlanRefused as exc:
            raise CommandError(str(exc)) from None
        townships = plan.calls.values("township_id").distinct().count()
        self.stdout.write(
            f"回访计划 {plan.number}：{plan.scope_text}，发放成功 {plan.population:,} 笔，{plan.method_text}，"
            f"抽取 {plan.call_count:,} 笔（{townships} 个乡镇），随机种子 {plan.seed}"
        )

    def _cancel(self, number: str, reason: str) -> None:
        plan = FollowupPlan.objects.filter(number=number.strip().upper()).first()
        if plan is None:
            raise CommandError(f"没有编号为 {number} 的回访计划")
        try:
            plan = plan_cancel(plan=plan, user=None, reason=reason)
        except PlanRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"回访计划 {plan.number} 已作废（{plan.cancel_reason}），{plan.call_count:,} 笔回访不再列入待回访"
        )

    def _share(self, text: str) -> Decimal:
        text = text.strip()
        try:
            value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
        except InvalidOperation:
            raise CommandError(f"抽取比例格式不对：{text}（应为 0.1 或 10%）") from None
        if not value.is_finite():
            raise CommandError(f"抽取比例格式不对：{text}（应为 0.1 或 10%）")
        if value > 1 and not text.endswith("%"):
            value = value / 100  # "10" read as 10%
        return value
