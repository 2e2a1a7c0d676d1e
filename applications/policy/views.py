from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from lib.params import query_pk
from recipients.categories import Category
from recipients.models import County, Person
from recipients.selectors import identities_valid_on
from settlements.visits import VisitType

from ..models import FirstRoundRule, PolicyVersion
from . import engine
from .forms import CalculatorForm, FirstRoundFormSet, PolicyVersionForm, SecondaryFormSet, format_bands
from .ledger import person_year_pools
from .selectors import PolicyBook, engine_policy, policy_in_force
from .services import PolicyRejected, policy_activate, policy_copy_to_draft, policy_save_draft


@permission_required("applications.view_policyversion", raise_exception=True)
def policy_list(request):
    versions = (
        PolicyVersion.objects.visible_to(request.user).select_related("county").order_by("county", "-effective_from")
    )
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
    version = get_object_or_404(
        PolicyVersion.objects.visible_to(request.user).select_related("county", "activated_by"), pk=pk
    )
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
                        "cap": "不封顶" if rule.cap is None else f"{rule.cap:,.2f} 元",
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
                    f"{'其余' if b['upto'] is None else format(Decimal(b['upto']), ',.2f') + ' 元以内'}"
                    f"按 {_ratio(Decimal(b['ratio']))}"
                    for b in second.bands
                )
            second_cell = {
                "trigger": f"{second.trigger:,.2f} 元" if second.trigger else "无",
                "deductible": f"{second.deductible:,.2f} 元",
                "bands": bands,
                "cap": "不封顶" if second.cap is None else f"{second.cap:,.2f} 元",
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
            county_id = request.user.scope_county_id or (counties[0] if len(counties) == 1 else None)
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
                # What approved cases and one-stop settlements have used this year, as the review reads it.
                ledger = person_year_pools(person=person, year=day.year, book=PolicyBook(county_id=county_id))
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


@require_POST
@permission_required("applications.add_policyversion", raise_exception=True)
def policy_copy(request, pk):
    version = get_object_or_404(PolicyVersion.objects.visible_to(request.user), pk=pk)
    draft = policy_copy_to_draft(version=version, user=request.user)
    messages.success(request, "已复制为草稿，请修改后生效")
    return redirect("applications:policy_edit", pk=draft.pk)


@permission_required("applications.change_policyversion", raise_exception=True)
def policy_edit(request, pk):
    """Edit a draft: the version's fields and one row per category × visit type, all saved together."""
    version = get_object_or_404(PolicyVersion.objects.visible_to(request.user), pk=pk)
    if version.status != PolicyVersion.Status.DRAFT:
        messages.error(request, "只有草稿可以修改；请先复制为草稿")
        return redirect("applications:policy_detail", pk=version.pk)
    rules = {(r.category, r.visit_type): r for r in version.first_round_rules.all()}
    first_initial = []
    for category in Category:
        for visit_type in VisitType:
            rule = rules.get((category.value, visit_type.value))
            first_initial.append(
                {
                    "category": category.value,
                    "visit_type": visit_type.value,
                    "eligible": bool(rule and rule.eligible),
                    "ratio_percent": plain(rule.ratio * 100) if rule else None,
                    "deductible_kind": rule.deductible_kind if rule else "none",
                    "deductible_value": plain(rule.deductible_value) if rule else None,
                    "cap": rule.cap if rule else None,
                    "pool": rule.pool if rule else ("住院" if visit_type == VisitType.INPATIENT else "门诊"),
                }
            )
    second = {r.category: r for r in version.secondary_rules.all()}
    second_initial = [
        {
            "category": c.value,
            "enabled": c.value in second,
            "trigger": second[c.value].trigger if c.value in second else None,
            "deductible": second[c.value].deductible if c.value in second else None,
            "bands_text": format_bands(second[c.value].bands) if c.value in second else "",
            "cap": second[c.value].cap if c.value in second else None,
        }
        for c in Category
    ]
    data = request.POST if request.method == "POST" else None
    form = PolicyVersionForm(data, instance=version)
    first_set = FirstRoundFormSet(data, initial=first_initial, prefix="first")
    second_set = SecondaryFormSet(data, initial=second_initial, prefix="second")
    if request.method == "POST" and form.is_valid() and first_set.is_valid() and second_set.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fields.update(form.extra_fields())
        try:
            policy_save_draft(
                version=version,
                user=request.user,
                fields=fields,
                first_round=[f.to_row() for f in first_set],
                secondary=[row for row in (f.to_row() for f in second_set) if row],
            )
        except (PolicyRejected, ValidationError) as exc:
            messages.error(request, "；".join(exc.messages) if hasattr(exc, "messages") else str(exc))
        else:
            messages.success(request, "草稿已保存")
            return redirect("applications:policy_detail", pk=version.pk)
    labels = dict(Category.choices)
    first_rows = [(labels[f.initial["category"]], f.initial["category"], f.initial["visit_type"], f) for f in first_set]
    second_rows = [(labels[f.initial["category"]], f.initial["category"], f) for f in second_set]
    errors = _error_summary(form, first_rows, second_rows) if request.method == "POST" else []
    return render(
        request,
        "applications/policy_edit.html",
        {
            "version": version,
            "form": form,
            "first_set": first_set,
            "second_set": second_set,
            "first_rows": first_rows,
            "second_rows": second_rows,
            "errors": errors,
        },
    )


def plain(value: Decimal) -> Decimal:
    """100 for Decimal("100.0000"), never 1E+2: the value as a form shows it."""
    return Decimal(f"{value.normalize():f}")


def _error_summary(form, first_rows, second_rows) -> list[tuple[str, str]]:
    """Every error of the edit page as (the field's element id, what to say), for the summary at its top."""
    found = []
    for name, errors in form.errors.items():
        field = form[name] if name in form.fields else None
        for error in errors:
            found.append((field.auto_id if field else "", f"{field.label if field else '整体'}：{error}"))
    for label, _, visit_type, row in first_rows:
        for name, errors in row.errors.items():
            field = row[name] if name in row.fields else None
            where = f"第一轮救助 · {label} · {visit_type}" + (f" · {field.label}" if field else "")
            found += [(field.auto_id if field else "", f"{where}：{error}") for error in errors]
    for label, _, row in second_rows:
        for name, errors in row.errors.items():
            field = row[name] if name in row.fields else None
            where = f"二次救助 · {label}" + (f" · {field.label}" if field else "")
            found += [(field.auto_id if field else "", f"{where}：{error}") for error in errors]
    return found


@require_POST
@permission_required("applications.activate_policyversion", raise_exception=True)
def policy_activate_view(request, pk):
    version = get_object_or_404(PolicyVersion.objects.visible_to(request.user), pk=pk)
    try:
        policy_activate(version=version, user=request.user)
        messages.success(request, "已生效")
    except PolicyRejected as exc:
        messages.error(request, str(exc))
    return redirect("applications:policy_detail", pk=version.pk)


@permission_required("applications.view_policyversion", raise_exception=True)
def policy_compare(request):
    """Two versions side by side: every parameter that differs, per category and visit type."""
    versions = (
        PolicyVersion.objects.visible_to(request.user).select_related("county").order_by("county", "-effective_from")
    )
    a = versions.filter(pk=query_pk(request.GET.get("a")) or 0).first()
    b = versions.filter(pk=query_pk(request.GET.get("b")) or 0).first()
    differences = []
    if a and b:
        table_a, table_b = _comparable(a), _comparable(b)
        what_order = [*VisitType.values, "二次救助"]
        for key in sorted(
            set(table_a) | set(table_b), key=lambda k: (Category.values.index(k[0]), what_order.index(k[1]))
        ):
            left, right = table_a.get(key, "无"), table_b.get(key, "无")
            differences.append(
                {
                    "category": dict(Category.choices)[key[0]],
                    "what": key[1],
                    "a": left,
                    "b": right,
                    "same": left == right,
                }
            )
    return render(
        request,
        "applications/policy_compare.html",
        {"versions": versions, "a": a, "b": b, "rows": differences},
    )


def _comparable(version: PolicyVersion) -> dict:
    table = {}
    for r in version.first_round_rules.all():
        if r.eligible:
            cap = "不封顶" if r.cap is None else f"封顶 {r.cap:,.2f} 元（{r.pool}）"
            table[(r.category, r.visit_type)] = f"{_ratio(r.ratio)}，起付线 {_deductible(r)}，{cap}"
    for r in version.secondary_rules.all():
        cap = "不封顶" if r.cap is None else f"封顶 {r.cap:,.2f} 元"
        table[(r.category, "二次救助")] = (
            f"启动 {r.trigger:,.2f} 元，起付线 {r.deductible:,.2f} 元，{format_bands(r.bands)}，{cap}"
        )
    return table
