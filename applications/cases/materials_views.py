"""The materials checklist of a case: ticks saved, 受理 or 容缺受理 from them, materials supplemented later."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from lib.widgets import DateInput

from ..models import Case
from . import services
from .materials import case_checklist, case_supplement, case_tick_materials, default_deadline, still_missing
from .workflow import TransitionRefused


class AcceptForm(forms.Form):
    materials_deadline = forms.DateField(
        label="补齐期限", required=False, widget=DateInput(attrs={"class": "form-control"})
    )


def _visible_case(request, pk) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user).select_related("person", "township"), pk=pk)


def _supplied(request) -> list[str]:
    return [name[:100] for name in request.POST.getlist("supplied")[:200]]


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def case_materials(request, pk):
    """The checklist's two buttons: 保存勾选 keeps the ticks; 受理 accepts with them (容缺受理 if some are missing)."""
    case = _visible_case(request, pk)
    supplied = _supplied(request)
    form = AcceptForm(request.POST)
    try:
        if not form.is_valid():
            raise TransitionRefused(f"补齐期限：{'；'.join(form.errors['materials_deadline'])}")
        if request.POST.get("do") == "accept":
            case = case_tick_materials(case=case, user=request.user, supplied=supplied)
            case = services.case_accept(
                case=case,
                user=request.user,
                supplied=supplied,
                materials_deadline=form.cleaned_data["materials_deadline"],
            )
            messages.success(request, f"已{case.get_status_display()}，办结期限 {case.due_on:%Y-%m-%d}")
        else:
            case_tick_materials(case=case, user=request.user, supplied=supplied)
            missing = still_missing(case)
            messages.success(request, f"已保存：还缺 {len(missing)} 项材料" if missing else "已保存：材料齐全")
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:case_detail", pk=case.pk)


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def case_supplement_view(request, pk):
    case = _visible_case(request, pk)
    try:
        case = case_supplement(case=case, user=request.user, names=_supplied(request))
        remaining = case.missing_materials
        messages.success(
            request, f"已登记补齐，仍缺：{'、'.join(remaining)}" if remaining else "已登记补齐，材料已齐全"
        )
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:case_detail", pk=case.pk)


@permission_required("applications.view_case", raise_exception=True)
def case_notice(request, pk):
    """一次告知书: one printable notice listing exactly the materials not ticked as received."""
    case = _visible_case(request, pk)
    return render(
        request,
        "applications/case_notice.html",
        {"case": case, "missing": still_missing(case), "today": timezone.localdate()},
    )


def checklist_context(case: Case) -> dict:
    """What the case page's materials card shows."""
    items = case_checklist(case)
    return {
        "checklist": items,
        "checklist_missing": [m.name for m in items if not m.supplied],
        "accept_form": AcceptForm(initial={"materials_deadline": default_deadline()}),
    }
