from django.urls import reverse


def _menus(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """The menus by task, each with the entries the user's permissions open."""
    has = user.has_perm
    work = []
    if has("recipients.view_person"):
        work.append(("救助对象查询", reverse("recipients:person_list")))
    if has("applications.view_case"):
        work.append(("救助案件", reverse("applications:case_list")))
    if has("applications.approve_case"):
        work.append(("审批队列", reverse("applications:approval_queue")))
    if has("applications.receive_case") and user.township_scoped:
        work.append(("新申请人登记", reverse("applications:case_new_applicant")))
    # 基金监管 (DOMAIN §12.2): with the case work, so that no role's menu bar grows.
    if has("supervision.view_recovery"):
        work.append(("追回管理", reverse("supervision:recovery_list")))
    if has("supervision.view_suggestion"):
        work.append(("追回建议", reverse("supervision:suggestion_list")))
    if has("supervision.view_auditsample"):
        work.append(("抽查", reverse("supervision:sample_list")))
    if has("followups.view_followupplan"):
        work.append(("回访计划", reverse("followups:plan_list")))
    if has("followups.view_ticket"):
        work.append(("投诉工单", reverse("followups:ticket_list")))
    found = []
    if has("applications.view_lead"):
        found.append(("主动救助线索", reverse("applications:lead_list")))
    if has("applications.view_yearlyburden"):
        found.append(("二次救助", reverse("applications:secondary_list")))
    if has("applications.view_job"):
        found.append(("比对任务", reverse("applications:job_list")))
    if has("subsidies.view_subsidyentry"):
        found.append(("资助参保名单", reverse("subsidies:entry_list")))
    if has("monitoring.view_listing"):
        found.append(("监测预警", reverse("monitoring:listing_list")))
    if has("monitoring.view_zbapplication"):
        found.append(("因病致贫认定", reverse("monitoring:zb_list")))
    data = []
    if has("recipients.view_rosterimport"):
        data.append(("名册导入", reverse("recipients:import_list")))
    if has("settlements.view_settlementimport"):
        data.append(("结算数据导入", reverse("settlements:import_list")))
    if has("subsidies.view_enrolmentimport"):
        data.append(("参保结果导入", reverse("subsidies:import_list")))
    if has("followups.record_followupcall"):
        data.append(("回访清单导入", reverse("followups:import_list")))
    if has("settlements.view_settlement") and not user.township_scoped:
        data.append(("结算数据（按医疗机构）", reverse("settlements:hospital_list")))
    money = []
    if has("payouts.view_payoutbatch"):
        money.append(("支付批次", reverse("payouts:batch_list")))
    if has("insurers.view_insurerstatement"):
        money.append(("承办机构结算", reverse("insurers:statement_list")))
    stats = []
    if has("reports.view_dashboard"):
        stats.append(("统计看板", reverse("reports:dashboard")))
        if not user.township_scoped:
            stats.append(("资金监控", reverse("reports:funds")))
    policy = []
    if has("applications.view_policyversion"):
        policy.append(("救助政策", reverse("applications:policy_list")))
        policy.append(("救助测算", reverse("applications:calculator")))
    if has("subsidies.view_subsidyruleset"):
        policy.append(("资助参保政策", reverse("subsidies:rules_list")))
    if has("insurers.view_insurerterms"):
        policy.append(("承办保险机构", reverse("insurers:terms_list")))
    system = []
    if has("audit.view_auditevent"):
        system.append(("审计日志", reverse("audit:event_list")))
    if user.is_staff:
        system.append(("系统管理", reverse("admin:index")))
    menus = [
        ("救助办理", work),
        ("主动救助", found),
        ("数据", data),
        ("支付", money),
        ("统计", stats),
        ("政策", policy),
        ("系统", system),
    ]
    return [(label, entries) for label, entries in menus if entries]


def portal(request):
    """Navigation for the signed-in user's role: menus by task; a menu of one entry is a plain link."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    path = request.path
    nav = [{"label": "首页", "url": reverse("home"), "active": path == reverse("home")}]
    menus = list(_menus(user))

    def match(entries) -> int:
        """How much of the path the menu's best entry covers (0: none): /subsidies/imports/ is the 数据 menu's
        参保结果导入, not the 资助参保名单 at /subsidies/ of another menu."""
        return max((len(url) for _, url in entries if path == url or (url != "/" and path.startswith(url))), default=0)

    matches = [match(entries) for _, entries in menus]
    best = max(matches, default=0)
    chosen = matches.index(best) if best else None
    for n, (label, entries) in enumerate(menus):
        active = n == chosen
        if len(entries) == 1:
            nav.append({"label": entries[0][0], "url": entries[0][1], "active": active})
        else:
            nav.append({"label": label, "entries": entries, "active": active})
    return {"portal_nav": nav}
