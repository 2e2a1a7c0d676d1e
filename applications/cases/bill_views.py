"""Correcting and removing a bill of a case still at the window (draft or returned)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..models import Case
from .bills import BILLS_EDITABLE, case_remove_bill, case_update_bill
from .forms import BillForm
from .workflow import TransitionRefused


def _visible_case(request, pk) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user).select_related("person", "township"), pk=pk)


@permission_required("applications.receive_case", raise_exception=True)
def bill_edit(request, pk, bill_pk):
    case = _visible_case(request, pk)
    bill = get_object_or_404(case.bills, pk=bill_pk)
    if case.status not in BILLS_EDITABLE:
        messages.error(request, "只有草稿或退回补正的案件可以修改就诊记录")
        return redirect("applications:case_detail", pk=case.pk)
    form = BillForm(request.POST or None, instance=bill)
    if request.method == "POST" and form.is_valid():
        try:
            case_update_bill(case=case, user=request.user, bill_id=bill.pk, **form.cleaned_data)
        except TransitionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已修改就诊记录（发票 {form.cleaned_data['invoice_number']}）")
            return redirect("applications:case_detail", pk=case.pk)
    return render(request, "applications/bill_edit.html", {"case": case, "bill": bill, "form": form})


@require_POST
@permission_required("applications.receive_case", raise_exception=True)
def bill_remove(request, pk, bill_pk):
    case = _visible_case(request, pk)
    bill = get_object_or_404(case.bills, pk=bill_pk)
    try:
        case_remove_bill(case=case, user=request.user, bill_id=bill.pk)
        messages.success(request, f"已删除就诊记录（发票 {bill.invoice_number}）")
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    return redirect("applications:case_detail", pk=case.pk)
