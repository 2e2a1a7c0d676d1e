from decimal import Decimal

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render

from recipients.categories import Category

from .models import FirstRoundRule, PolicyVersion, VisitType


@permission_required("applications.view_policyversion", raise_exception=True)
def policy_list(request):
    versions = PolicyVersion.objects.select_related("county").order_by("county", "-effective_from")
    return render(request, "applications/policy_list.html", {"versions": versions})


def _ratio(value) -> str:
    return f"{(value * 100).normalize():f}%"


def _deductible(rule: FirstRoundRule) -> str:
    if rule.deductible_kind == FirstRoundRule.DeductibleKind.FIXED:
        return f"{rule.deductible_value:,.2f} 元"
    if rule.deductible_kind == FirstRoundRule.DeductibleKind.INCOME_SHARE:
        return f"上年人均可支配收入 × {_ratio(rule.deductible_value)}"
    return "无"


@permission_required("applications.view_policyversion", raise_exception=True)
def policy_detail(request, pk):
    """A version as a readable table: one row per category, one column group per visit type."""
    version = get_object_or_404(PolicyVersion.objects.select_related("county", "activated_by"), pk=pk)
    rules = {(r.category, r.visit_type): r for r in version.first_round_rules.all()}
    secondary = {r.category: r for r in version.secondary_rules.all()}
    rows = []
    for category in Category:
        cells = []
        for visit_type in VisitType:
            rule = rules.get((category.value, visit_type.value))
            if rule is None or not rule.eligible:
                cells.append(None)
            else:
                cells.append(
                    {
                        "ratio": _ratio(rule.ratio),
                        "deductible": _deductible(rule),
                        "cap": "不封顶" if rule.cap is None else f"{rule.cap:,.0f} 元",
                        "pool": rule.get_pool_display(),
                    }
                )
        second = secondary.get(category.value)
        second_cell = None
        if second is not None:
            if len(second.bands) == 1 and second.bands[0]["upto"] is None:
                bands = f"按 {_ratio(Decimal(second.bands[0]['ratio']))}"
            else:
                bands = "；".join(
                    f"{'其余' if b['upto'] is None else format(Decimal(b['upto']), ',.0f') + ' 元以内'}"
                    f"按 {_ratio(Decimal(b['ratio']))}"
                    for b in second.bands
                )
            second_cell = {
                "trigger": f"{second.trigger:,.0f} 元" if second.trigger else "无",
                "deductible": f"{second.deductible:,.0f} 元",
                "bands": bands,
                "cap": "不封顶" if second.cap is None else f"{second.cap:,.0f} 元",
            }
        rows.append(
            {
                "code": category.value,
                "label": category.label,
                "cells": cells,
                "secondary": second_cell,
                "key": category.value in (version.key_categories or []),
            }
        )
    return render(
        request,
        "applications/policy_detail.html",
        {"version": version, "rows": rows, "visit_types": list(VisitType)},
    )


@permission_required("applications.view_policyversion", raise_exception=True)
def calculator(request):
    """测算: the calculator the workflow uses, on amounts typed in, explained step by step."""
    from recipients.models import County, Person
    from recipients.selectors import identities_valid_on

    from . import policy_engine as engine
    from .forms import CalculatorForm
    from .models import LedgerEntry
    from .policy_services import engine_policy, policy_in_force

    form = CalculatorForm(request.POST or None)
    result = person = version = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        day = data["service_date"]
        county_id = None
        if data["id_number"]:
            person = (
                Person.objects.visible_to(request.user)
                .select_related("township")
                .filter(id_number=data["id_number"])
                .first()
            )
            if person is None:
                form.add_error("id_number", "没有找到此人（乡镇窗口只能查本乡镇人员）")
            else:
                county_id = person.township.county_id
                categories = [i.category for i in identities_valid_on(person=person, day=day)]
        else:
            counties = list(County.objects.values_list("id", flat=True)[:2])
            county_id = counties[0] if len(counties) == 1 else None
            categories = [data["category"]]
            if county_id is None:
                form.add_error(None, "系统中有多个县，请填写身份证号以确定地区")
        if not form.errors:
            version = policy_in_force(county_id=county_id, day=day)
            if version is None:
                form.add_error("service_date", "该日期没有生效的救助政策")
        if not form.errors:
            policy = engine_policy(version, year=day.year)
            ledger = {}
            if person is not None:
                for entry in LedgerEntry.objects.filter(person=person, year=day.year):
                    ledger[entry.pool] = engine.PoolState(entry.deductible_used, entry.granted)
            try:
                amounts = engine.Amounts(
                    total=data["total"],
                    in_policy=data["in_policy"],
                    basic=data["basic"],
                    critical=data["critical"],
                    other=data["other"],
                    donation=data["donation"],
                )
                result = engine.best_first_round(policy, categories, data["visit_type"], amounts, ledger)
                result = {
                    "first": result,
                    "burden": amounts.burden_after_insurance,
                    "burden_after": max(engine.ZERO, amounts.burden_after_insurance - result.amount),
                }
            except engine.PolicyError as exc:
                form.add_error(None, str(exc))
    return render(
        request,
        "applications/calculator.html",
        {"form": form, "result": result, "person": person, "version": version},
    )
