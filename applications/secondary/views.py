"""Pages of the 二次救助 trigger: the early-warning list and the secondary list, with their exports."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.db.models import F, Q, Sum
from django.shortcuts import render
from django.utils import timezone

from audit.services import audit_record
from lib.pages import paginate
from lib.params import query_decimal, query_pk
from lib.spreadsheet import xlsx_response
from recipients.models import Township, scoped_to_user

from ..models import Case, YearlyBurden
from .exports import secondary_workbook, warning_workbook

DISTANCE_MAX = Decimal("1000000")  # 元 below the threshold: beyond it every burden is "near"


def _year(request) -> int:
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


def _township(request):
    if request.user.township_scoped:
        return None
    pk = query_pk(request.GET.get("township"))
    return Township.objects.visible_to(request.user).filter(pk=pk).first() if pk else None


def _distance(request) -> Decimal:
    return query_decimal(
        request.GET.get("distance"),
        default=Decimal(settings.SECONDARY_WARNING_DISTANCE),
        low=Decimal("0"),
        high=DISTANCE_MAX,
    )


def _warnings(request):
    year, township, distance = _year(request), _township(request), _distance(request)
    # Below the threshold by at most the distance, as a range of the distance (burden_warning_order's).
    burdens = (
        scoped_to_user(YearlyBurden.objects.all(), request.user, "applications.view_yearlyburden")
        .filter(year=year, threshold__isnull=False)
        .alias(gap=F("threshold") - F("burden"))
        .filter(gap__gt=0, gap__lte=distance)
    )
    if township:
        burdens = burdens.filter(township=township)
    return burdens.select_related("person", "township", "person__village").order_by(
        F("threshold") - F("burden"), "pk"
    ), {
        "year": year,
        "township": township,
        "distance": distance,
    }


@permission_required("applications.view_yearlyburden", raise_exception=True)
def warning_list(request):
    burdens, params = _warnings(request)
    page, query = paginate(request, burdens, 50)
    return render(
        request,
        "applications/warning_list.html",
        {
            "page": page,
            **params,
            "townships": None if request.user.township_scoped else Township.objects.visible_to(request.user),
            "pagination_query": query,
        },
    )


def _export(request, action: str, name: str, content: bytes, rows: int, masked: bool):
    audit_record(
        actor=request.user,
        action=action,
        object_repr=name,
        after={"rows": rows, "masked": masked, "filter": request.GET.urlencode()},
        comment="" if masked else "含完整身份证号",
        request=request,
    )
    return xlsx_response(content, f"{name}-{timezone.localtime():%Y%m%d%H%M}.xlsx")


@permission_required("applications.view_yearlyburden", raise_exception=True)
def warning_export(request):
    burdens, _ = _warnings(request)
    masked = not request.user.has_perm("recipients.view_full_pii")
    return _export(
        request,
        "secondary.export",
        "warning",
        warning_workbook(burdens.iterator(), masked=masked),
        burdens.count(),
        masked,
    )


def _secondary_cases(request):
    year, township = _year(request), _township(request)
    cases = Case.objects.visible_to(request.user).filter(source=Case.Source.SECONDARY, year=year)
    if township:
        cases = cases.filter(township=township)
    status = request.GET.get("status", "")
    if status in Case.Status.values:
        cases = cases.filter(status=status)
    return cases.select_related("person", "township__county").order_by("township_id", "number"), {
        "year": year,
        "township": township,
        "status": status,
    }


@permission_required("applications.view_case", raise_exception=True)
def secondary_list(request):
    cases, params = _secondary_cases(request)
    totals = cases.aggregate(
        proposed=Sum("proposed_amount", filter=Q(status=Case.Status.APPROVAL)),
        approved=Sum("approved_amount", filter=Q(status__in=[Case.Status.APPROVED, Case.Status.PAID])),
    )
    page, query = paginate(request, cases, 50)
    return render(
        request,
        "applications/secondary_list.html",
        {
            "page": page,
            "totals": totals,
            **params,
            "statuses": [
                (Case.Status.APPROVAL, "待审批"),
                (Case.Status.APPROVED, "已批准"),
                (Case.Status.PAID, "已发放"),
                (Case.Status.WITHDRAWN, "已撤回"),
            ],
            "townships": None if request.user.township_scoped else Township.objects.visible_to(request.user),
            "pagination_query": query,
        },
    )


@permission_required("applications.view_case", raise_exception=True)
def secondary_export(request):
    cases, _ = _secondary_cases(request)
    cases = cases.order_by("township__name", "number")  # the workbook's order (DATA-FORMATS §4)
    masked = not request.user.has_perm("recipients.view_full_pii")
    return _export(
        request,
        "secondary.export",
        "secondary",
        secondary_workbook(cases.iterator(), masked=masked),
        cases.count(),
        masked,
    )
