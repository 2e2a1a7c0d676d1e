from django.urls import reverse


def portal(request):
    """Navigation entries for the signed-in user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = [("首页", reverse("home"))]
    if user.has_perm("reports.view_dashboard"):
        nav.append(("统计看板", reverse("reports:dashboard")))
    if user.has_perm("recipients.view_person"):
        nav.append(("救助对象", reverse("recipients:person_list")))
    if user.has_perm("applications.view_case"):
        nav.append(("救助案件", reverse("applications:case_list")))
    if user.has_perm("applications.view_lead"):
        nav.append(("主动救助线索", reverse("applications:lead_list")))
    if user.has_perm("applications.view_yearlyburden"):
        nav.append(("二次救助", reverse("applications:secondary_list")))
    if user.has_perm("recipients.view_rosterimport"):
        nav.append(("名册导入", reverse("recipients:import_list")))
    if user.has_perm("settlements.view_settlementimport"):
        nav.append(("结算数据", reverse("settlements:import_list")))
    elif user.has_perm("settlements.view_settlement") and not user.township_scoped:
        nav.append(("结算数据", reverse("settlements:hospital_list")))
    if user.has_perm("payouts.view_payoutbatch"):
        nav.append(("支付批次", reverse("payouts:batch_list")))
    if user.has_perm("applications.view_job"):
        nav.append(("比对任务", reverse("applications:job_list")))
    if user.has_perm("applications.view_policyversion"):
        nav.append(("救助政策", reverse("applications:policy_list")))
        nav.append(("救助测算", reverse("applications:calculator")))
    if user.has_perm("audit.view_auditevent"):
        nav.append(("审计日志", reverse("audit:event_list")))
    if user.is_staff:
        nav.append(("系统管理", reverse("admin:index")))
    return {"portal_nav": nav}
