from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from applications.cases.selectors import case_queues, case_reminders
from applications.models import Lead
from followups.selectors import work_queues as followup_queues
from payouts.models import PayoutBatch
from payouts.services import awaiting_correction, payable_cases
from recipients.models import RosterImport
from recipients.selectors import people_by_township, registry_summary
from subsidies.selectors import work_list_year
from supervision.selectors import queue_counts

from .forms import LoginForm
from .models import User
from .roles import Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockout_limit"] = settings.AXES_FAILURE_LIMIT
        context["idle_minutes"] = settings.SESSION_IDLE_TIMEOUT_MINUTES
        return context


def _work_queues(user) -> list[dict]:
    """Leads and payout work waiting for this role, as home-page queues (a handful of counting queries)."""
    queues = []
    if user.has_perm("applications.work_lead"):
        open_leads = Lead.objects.visible_to(user).filter(status=Lead.Status.OPEN).count()
        queues.append({"label": "待跟进线索", "count": open_leads, "url": reverse("applications:lead_list")})
    if user.has_perm("subsidies.work_subsidyentry"):
        found = work_list_year(user=user)
        if found is not None:
            year, count = found
            url = f"{reverse('subsidies:entry_list')}?year={year}&status=not_enrolled"
            queues.append({"label": f"{year} 年未参保待跟进", "count": count, "url": url})
    if user.has_perm("payouts.manage_payoutbatch"):
        batches = reverse("payouts:batch_list")
        mine = PayoutBatch.objects.visible_to(user)
        county = {"township__county_id": user.scope_county_id} if user.scope_county_id else {}
        queues += [
            {
                "label": "待发放（未进批次）",
                "count": payable_cases(county_id=user.scope_county_id).count(),
                "url": reverse("payouts:batch_new"),
            },
            {
                "label": "批次待复核",
                "count": mine.filter(status=PayoutBatch.Status.LOCKED).exclude(created_by=user).count(),
                "url": batches,
            },
            {"label": "批次待回盘", "count": mine.filter(status=PayoutBatch.Status.EXPORTED).count(), "url": batches},
            {"label": "收款账户待更正或补录", "count": awaiting_correction().filter(**county).count(), "url": batches},
        ]
    counts = queue_counts(user)  # 基金监管: suggestions to confirm, sample cases to check, write-offs to decide
    for key, label, url in (
        ("suggestions", "追回建议待确认", "supervision:suggestion_list"),
        ("samples", "抽查待复核", "supervision:sample_list"),
        ("writeoffs", "核销待审批", "supervision:recovery_list"),
    ):
        if key in counts:
            target = reverse(url) + ("?writeoff=on" if key == "writeoffs" else "")
            queues.append({"label": label, "count": counts[key], "url": target})
    return queues


def home(request):
    """Each role's starting page: what that role works on."""
    user = request.user
    today = timezone.localdate()
    context = {"today": today, "role": user.role}
    if user.has_perm("recipients.view_person"):
        context["summary"] = registry_summary(user=user, day=today)
    if user.has_perm("recipients.view_rosterimport"):
        context["recent_imports"] = RosterImport.objects.visible_to(user).select_related("created_by")[:5]
    if user.has_perm("applications.view_case"):
        context["queues"] = case_queues(user=user, day=today)
        context["reminders"] = case_reminders(user=user, day=today)
    context["queues"] = context.get("queues", []) + _work_queues(user) + followup_queues(user, today)
    if user.role in (Role.SUPERVISOR, Role.CITY_SUPERVISOR) or user.is_superuser:
        context["by_township"] = people_by_township(user=user, day=today)
    if user.role in (Role.ADMIN, Role.CITY_ADMIN) or user.is_superuser:
        users = User.objects.filter(is_active=True)
        if not user.prefecture_wide:
            users = users.filter(county_id=user.scope_county_id)
        context["users_by_role"] = [
            (Role(r).label if r else "未分配", n)
            for r, n in users.values_list("role").annotate(n=Count("id")).order_by("role")
        ]
    return render(request, "accounts/home.html", context)
