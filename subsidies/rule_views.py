"""The pages of premium-subsidy rules: the versions, one version as a table, and the administrator's steps (load a
preset, edit a draft, confirm its 待确认 values, put it in force, copy it, rebuild the list)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit.services import audit_record
from lib.pages import paginate
from recipients.categories import Category
from recipients.models import County

from . import services
from .listing import build_list
from .models import Mode, SubsidyRuleSet
from .rule_forms import CopyForm, PresetForm, RuleFormSet, RuleSetForm, rule_rows
from .selectors import coverage
from .services import RulesRejected


def _visible(request, pk) -> SubsidyRuleSet:
    return get_object_or_404(
        SubsidyRuleSet.objects.visible_to(request.user).select_related("county", "activated_by"), pk=pk
    )


@permission_required("subsidies.view_subsidyruleset", raise_exception=True)
def rules_list(request):
    sets = SubsidyRuleSet.objects.visible_to(request.user).select_related("county").prefetch_related("rules")
    page, query = paginate(request, sets.order_by("county__code", "-year", "-created_at", "-id"), 30)
    can_add = request.user.has_perm("subsidies.add_subsidyruleset")
    return render(
        request,
        "subsidies/rules_list.html",
        {"page": page, "pagination_query": query, "preset_form": PresetForm(user=request.user) if can_add else None},
    )


@require_POST
@permission_required("subsidies.add_subsidyruleset", raise_exception=True)
def rules_load(request):
    form = PresetForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "请检查：" + "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("subsidies:rules_list")
    data = form.cleaned_data
    county = data.get("county") or County.objects.filter(pk=request.user.scope_county_id).first()
    if county is None:
        messages.error(request, "账户尚未指定所属县（区），请联系系统管理")
        return redirect("subsidies:rules_list")
    try:
        rule_set, created = services.subsidy_rules_load_preset(
            name=data["preset"], county=county, year=data["year"], premium=data["premium"], user=request.user
        )
    except RulesRejected as exc:
        messages.error(request, str(exc))
        return redirect("subsidies:rules_list")
    if created:
        messages.success(
            request, f"已载入预置方案，保存为草稿；请核对{'待确认的参数后' if rule_set.open_items() else ''}生效"
        )
    else:
        messages.info(request, "该县该年度已载入过这个预置方案，未重复载入")
    return redirect("subsidies:rules_detail", pk=rule_set.pk)


@permission_required("subsidies.view_subsidyruleset", raise_exception=True)
def rules_detail(request, pk):
    rule_set = _visible(request, pk)
    by_category = {r.category: r for r in rule_set.rules.all()}
    rows = []
    for category in Category:
        rule = by_category.get(category.value)
        amount = None
        if rule is not None and rule_set.premium is not None:
            amount = rule_set.premium if rule.mode == Mode.FULL else rule.amount if rule.mode == Mode.FIXED else None
            if amount is not None:
                amount = min(amount, rule_set.premium)
        rows.append(
            {
                "code": category.value,
                "label": category.label,
                "rule": rule,
                "amount": amount,
                "pays": None if amount is None else rule_set.premium - amount,
            }
        )
    listed = None
    if rule_set.status == SubsidyRuleSet.Status.ACTIVE and request.user.has_perm("subsidies.view_subsidyentry"):
        listed = coverage(year=rule_set.year, county=rule_set.county)
    return render(
        request,
        "subsidies/rules_detail.html",
        {
            "rule_set": rule_set,
            "rows": rows,
            "open_items": rule_set.open_items(),
            "coverage": listed,
            "copy_form": CopyForm(initial={"year": rule_set.year + 1}),
        },
    )


@permission_required("subsidies.change_subsidyruleset", raise_exception=True)
def rules_edit(request, pk):
    rule_set = _visible(request, pk)
    if rule_set.status != SubsidyRuleSet.Status.DRAFT:
        messages.error(request, "只有草稿可以修改；请先复制为草稿")
        return redirect("subsidies:rules_detail", pk=rule_set.pk)
    initial = [
        {"category": r.category, "mode": r.mode, "amount": r.amount, "to_confirm": r.to_confirm, "note": r.note}
        for r in rule_set.rules.all()
    ]
    form = RuleSetForm(request.POST or None, instance=rule_set)
    formset = RuleFormSet(request.POST or None, initial=initial, prefix="rules")
    problems = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.subsidy_rules_save(
                rule_set=rule_set, user=request.user, fields=form.values(), rules=rule_rows(formset)
            )
        except RulesRejected as exc:
            problems = exc.errors
        else:
            messages.success(request, "已保存草稿")
            return redirect("subsidies:rules_detail", pk=rule_set.pk)
    elif request.method == "POST":
        problems = ["填写有误，请按提示修改，未保存任何内容"]
    return render(
        request,
        "subsidies/rules_edit.html",
        {"rule_set": rule_set, "form": form, "formset": formset, "problems": problems},
    )


def _step(request, pk, permission: str, action, done: str):
    if not request.user.has_perm(permission):
        raise PermissionDenied
    rule_set = _visible(request, pk)
    try:
        result = action(rule_set)
    except RulesRejected as exc:
        for text in exc.errors:
            messages.error(request, text)
        return redirect("subsidies:rules_detail", pk=rule_set.pk)
    messages.success(request, done)
    return redirect("subsidies:rules_detail", pk=(result or rule_set).pk)


@require_POST
def rules_confirm(request, pk):
    return _step(
        request,
        pk,
        "subsidies.change_subsidyruleset",
        lambda rs: services.subsidy_rules_confirm(rule_set=rs, user=request.user),
        "已确认全部待确认参数",
    )


@require_POST
def rules_activate(request, pk):
    return _step(
        request,
        pk,
        "subsidies.activate_subsidyruleset",
        lambda rs: services.subsidy_rules_activate(rule_set=rs, user=request.user),
        "已生效；资助参保名单将按新规则重新生成（通常一分钟内完成）",
    )


@require_POST
def rules_copy(request, pk):
    form = CopyForm(request.POST)
    year = form.cleaned_data["year"] if form.is_valid() else None
    return _step(
        request,
        pk,
        "subsidies.add_subsidyruleset",
        lambda rs: services.subsidy_rules_copy(rule_set=rs, user=request.user, year=year),
        "已复制为草稿",
    )


@require_POST
def rules_rebuild(request, pk):
    def rebuild(rule_set):
        if rule_set.status != SubsidyRuleSet.Status.ACTIVE:
            raise RulesRejected("只有生效的政策可以生成名单")
        counts = build_list(rule_set)
        audit_record(
            actor=request.user,
            action="subsidy_list.rebuild",
            obj=rule_set,
            after={
                "listed": counts.listed,
                "added": counts.added,
                "changed": counts.changed,
                "removed": counts.removed,
            },
            request=request,
        )
        messages.info(
            request,
            f"名单共 {counts.listed:,} 人（新增 {counts.added:,}，变更 {counts.changed:,}，移出 {counts.removed:,}），"
            f"资助金额合计 {counts.total:,.2f} 元",
        )

    return _step(request, pk, "subsidies.change_subsidyruleset", rebuild, "已按当前名册重新生成资助参保名单")
