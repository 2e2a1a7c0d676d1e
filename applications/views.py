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
