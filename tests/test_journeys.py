"""Each role's day on the demo county, in headless Chromium at 1366×768 (the township offices' screen).

One test: the demo county is built once (seed_demo, as `make run` does) and every role walks its journey on it.
Every page visited is checked with axe-core (no serious or critical violation) and screenshotted into
test-artifacts/journeys/, where the README's screenshots are taken from.
"""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from applications.models import Case, Lead
from recipients.demo import to_csv
from recipients.models import Person
from supervision.models import AuditSample, Recovery, Suggestion
from tests.browser import ARTIFACTS, axe_violations, sign_in

pytestmark = [pytest.mark.browser]
SHOTS = ARTIFACTS / "journeys"
PASSWORDS = {
    "clerk": "Shigu-window-2026",
    "reviewer": "County-review-2026",
    "approver": "County-approve-2026",
    "finance": "County-payments-2026",
    "supervisor": "County-oversee-2026",
    "admin": "County-config-2026",
}


class Journey:
    """One role's pages: each visited page is checked by axe and kept as a screenshot."""

    def __init__(self, browser, base_url, role):
        self.page = sign_in(browser, base_url, role, PASSWORDS[role])
        self.base_url, self.role, self.problems = base_url, role, []

    def look(self, name: str, *, full_page=False):
        self.page.wait_for_load_state("networkidle")
        for line in axe_violations(self.page):
            self.problems.append(f"{self.role} {name} {self.page.url}: {line}")
        # Nothing of the menu may wrap into a second line at this width.
        heights = self.page.eval_on_selector_all("nav .nav-link", "links => links.map(a => a.offsetHeight)")
        assert heights and max(heights) < 50, f"{name}: a menu label wraps ({heights})"
        self.page.screenshot(path=str(SHOTS / f"{self.role}-{name}.png"), full_page=full_page)

    def go(self, path: str, name: str, **kwargs):
        self.page.goto(self.base_url + path)
        self.look(name, **kwargs)


def test_every_role_walks_its_day_on_the_demo_county(live_server, browser_page, task_worker, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    call_command("seed_demo", verbosity=0)
    browser = browser_page.context.browser
    problems = []
    today = timezone.localdate()

    # The window clerk: reminders, a person found, an application received with one material to follow.
    clerk = Journey(browser, live_server.url, "clerk")
    clerk.look("home")
    assert "到期提醒" in clerk.page.inner_text("main")
    person = Person.objects.filter(
        township__name="石鼓镇",
        cases__isnull=True,
        leads__isnull=True,
        identities__category="DB",
        identities__valid_to__isnull=True,
        identities__valid_from__lte=today - datetime.timedelta(days=60),
    )[0]
    clerk.page.click("nav >> text=救助办理")
    clerk.page.click("nav >> text=救助对象查询")
    clerk.page.fill("input[name=q]", person.name)
    clerk.page.keyboard.press("Enter")
    clerk.page.click(f"a:has-text('{person.name}')")
    clerk.look("person")
    clerk.page.click("button:has-text('受理申请')")
    clerk.page.wait_for_selector("[data-testid=checklist]")
    discharged = today - datetime.timedelta(days=20)
    clerk.page.fill("input[name=hospital]", "高州市人民医院")
    clerk.page.select_option("select[name=visit_type]", "住院")
    clerk.page.fill("input[name=admitted_on]", (discharged - datetime.timedelta(days=6)).isoformat())
    clerk.page.fill("input[name=discharged_on]", discharged.isoformat())
    clerk.page.fill("input[name=invoice_number]", "JOURNEY-1")
    clerk.page.fill("input[name=total]", "42000")
    clerk.page.fill("input[name=in_policy]", "38000")
    clerk.page.fill("input[name=basic]", "20000")
    clerk.page.click("button:has-text('保存就诊记录')")
    clerk.page.wait_for_selector("text=JOURNEY-1")
    for box in clerk.page.query_selector_all("input[name=supplied]"):
        if box.get_attribute("value") != "费用清单":
            box.check()
    clerk.look("case-draft", full_page=True)
    clerk.page.click("[data-testid=accept]")
    clerk.page.wait_for_selector("text=已容缺受理")
    clerk.look("case-accepted", full_page=True)
    case = Case.objects.get(bills__invoice_number="JOURNEY-1")
    assert case.status == Case.Status.ACCEPTED_PENDING and case.missing_materials == ["费用清单"]
    clerk.go(f"/cases/{case.pk}/receipt/", "receipt", full_page=True)
    assert case.number in clerk.page.inner_text("[data-testid=receipt-number]")
    clerk.go(f"/cases/{case.pk}/notice/", "notice")
    assert clerk.page.inner_text("[data-testid=notice] ol").strip() == "费用清单"
    # A lead: the contact date is today, already filled in.
    lead = Lead.objects.filter(township__name="石鼓镇", status=Lead.Status.OPEN).first()
    clerk.page.click("nav >> text=主动救助")
    clerk.page.click("nav >> text=主动救助线索")
    clerk.look("leads")
    clerk.go(f"/leads/{lead.pk}/", "lead", full_page=True)
    assert clerk.page.input_value("input[name=contacted_on]") == today.isoformat()
    clerk.page.goto(f"{live_server.url}/cases/{case.pk}/")
    clerk.page.click("button:has-text('提交县局审核')")
    clerk.page.wait_for_selector("text=待审核")
    clerk.go(f"/recipients/people/{person.pk}/", "person-history", full_page=True)
    assert case.number in clerk.page.inner_text("[data-testid=person-history]")
    # A roster with a mistyped ID and an unknown township: the whole file is refused, row by row; the first
    # rows are shown as read.
    bad = tmp_path / "石鼓镇12月名册.csv"
    good_id = person.id_number
    bad.write_bytes(
        to_csv(
            [
                [good_id, person.name, "低保", "2026-01-01", "", "石鼓镇", "", "", "", "", ""],
                [good_id[:-1] + ("0" if good_id[-1] != "0" else "1"), "谢文", "低保", "2026-13-01", "", "石鼓镇"]
                + [""] * 5,
                ["", "林芳", "特困", "2026-02-01", "", "不存在镇"] + [""] * 5,
            ]
        )
    )
    clerk.page.click("nav >> text=数据")  # 名册导入 and 回访清单导入
    clerk.page.click("nav >> text=名册导入")
    clerk.page.click("text=导入名册")
    clerk.page.set_input_files("input[name=file]", str(bad))
    clerk.page.click("button:has-text('上传并校验')")
    clerk.page.wait_for_selector("[data-testid=errors]", timeout=60_000)
    clerk.look("import-errors", full_page=True)
    assert clerk.page.is_visible("[data-testid=sample]")
    # 回访: the window's call list of the demo plan, one call recorded, the ticket it opens.
    clerk.page.click("nav >> text=救助办理")
    clerk.page.click("nav >> text=回访计划")
    clerk.look("followup-plans")
    clerk.page.click("[data-testid=plans] a >> nth=0")
    clerk.look("followup-plan")
    clerk.page.click("[data-testid=plan-townships] a:has-text('回访清单')")
    clerk.look("followup-calls", full_page=True)
    clerk.page.click("[data-testid=calls] a:has-text('记录') >> nth=0")
    clerk.look("followup-call")
    clerk.page.check("input[name=receipt][value=mismatch]")
    clerk.page.check("input[name=satisfaction][value=unsatisfied]")
    clerk.page.check("input[name=aware][value=yes]")
    clerk.page.fill("textarea[name=note]", "本人称少了 200 元")
    clerk.page.click("[data-testid=save-call]")
    clerk.page.wait_for_selector("text=已自动生成投诉工单")
    clerk.page.click("nav >> text=救助办理")
    clerk.page.click("nav >> text=投诉工单")
    clerk.look("tickets")
    clerk.page.click("[data-testid=tickets] a >> nth=0")
    clerk.look("ticket")
    # 资助参保: the township's people on this year's list, the not-yet-enrolled first.
    clerk.go("/subsidies/", "subsidies", full_page=True)
    problems += clerk.problems

    # The reviewer: the calculation first, then the confirm with its amount.
    reviewer = Journey(browser, live_server.url, "reviewer")
    reviewer.look("home")
    reviewer.go(f"/cases/{case.pk}/", "case-review", full_page=True)
    preview = reviewer.page.inner_text("[data-testid=review-preview]")
    # (38,000 − 20,000 − 0 deductible) × 80% for a 低保 recipient's stay
    assert "拟救助 14,400.00 元" in preview
    assert reviewer.page.inner_text("[data-testid=review]").strip() == "审核通过：拟救助 14,400.00 元"
    reviewer.page.fill("textarea[name=comment]", "身份、票据核对无误，费用清单待补")
    reviewer.page.click("[data-testid=review]")
    reviewer.page.wait_for_selector("[data-testid=calculation]")
    case.refresh_from_db()
    assert case.status == Case.Status.APPROVAL
    reviewer.page.click("nav >> text=数据")
    reviewer.page.click("nav >> text=结算数据（按医疗机构）")
    reviewer.look("settlements-by-hospital")
    reviewer.page.click("nav >> text=主动救助")
    reviewer.page.click("nav >> text=比对任务")
    reviewer.look("jobs")
    reviewer.page.click("nav >> text=主动救助")
    reviewer.page.click("nav >> text=二次救助")
    reviewer.look("secondary")
    secondary = Case.objects.filter(source=Case.Source.SECONDARY, status=Case.Status.APPROVAL).first()
    reviewer.go(f"/cases/{secondary.pk}/", "secondary-case", full_page=True)
    # 基金监管: the suggestion the demo's 民政 correction raised, the recoveries, this month's sample.
    reviewer.page.click("nav >> text=救助办理")
    reviewer.page.click("nav >> text=追回建议")
    reviewer.look("suggestions")
    reviewer.go(f"/supervision/suggestions/{Suggestion.objects.filter(status='open').first().pk}/", "suggestion")
    reviewer.go("/supervision/recoveries/", "recoveries")
    reviewer.go(f"/supervision/recoveries/{Recovery.objects.order_by('pk').first().pk}/", "recovery", full_page=True)
    reviewer.go(f"/supervision/samples/{AuditSample.objects.get().pk}/", "sample")
    # 监测预警: this month's heavy-cost list and the 因病致贫 applications.
    reviewer.go("/monitoring/", "monitoring", full_page=True)
    reviewer.go("/monitoring/zb/", "zb")
    problems += reviewer.problems

    # The approver: the queue filtered to one township, a confirm that says what will be paid.
    approver = Journey(browser, live_server.url, "approver")
    approver.look("home")
    approver.page.click("nav >> text=救助办理")
    approver.page.click("nav >> text=审批队列")
    approver.look("queue")
    # Filtered to the township and the amount, ordered by acceptance, newest first: the case is on page 1.
    approver.page.select_option("select[name=township]", label="石鼓镇")
    amount = f"{case.proposed_amount:.2f}"
    approver.page.fill("input[name=amount_from]", amount)
    approver.page.fill("input[name=amount_to]", amount)
    approver.page.select_option("select[name=sort]", "accepted")
    approver.page.select_option("select[name=order]", "desc")
    approver.page.click("[data-testid=queue-filters] button:has-text('查询')")
    approver.page.wait_for_selector(f"input[name=case][value='{case.pk}']")
    approver.page.check(f"input[name=case][value='{case.pk}']")
    approver.page.click("[data-testid=approve-selected]")
    approver.page.wait_for_selector("[data-testid=confirm-summary]")
    approver.look("queue-confirm")
    assert approver.page.inner_text("[data-testid=confirm-count]").strip() == "1 件"
    approver.page.click("[data-testid=confirm]")
    approver.page.wait_for_selector("text=已批准 1 件")
    case.refresh_from_db()
    assert case.status == Case.Status.APPROVED
    problems += approver.problems

    # Finance: the batches and one batch's lines.
    finance = Journey(browser, live_server.url, "finance")
    finance.look("home")
    finance.page.click('nav >> text="支付"')
    finance.page.click("nav >> text=支付批次")
    finance.look("batches")
    finance.page.click("[data-testid=batches] a >> nth=0")
    finance.look("batch", full_page=True)
    finance.page.click("nav >> text=统计")
    finance.page.click("nav >> text=资金监控")
    finance.look("funds")
    # The insurer's statements (茂名 mode): the list with the reserve, the second half-year's awaiting review.
    finance.page.click('nav >> text="支付"')
    finance.page.click("nav >> text=承办机构结算")
    finance.page.wait_for_selector("[data-testid=statements]")
    finance.look("insurer-statements", full_page=True)
    finance.page.click("[data-testid=statements] a >> nth=0")
    finance.page.wait_for_selector("[data-testid=totals]")
    finance.look("insurer-statement", full_page=True)
    problems += finance.problems

    # The supervisor: the dashboard.
    supervisor = Journey(browser, live_server.url, "supervisor")
    supervisor.look("home")
    supervisor.page.click("nav >> text=统计")  # the menu of 统计看板 and 资金监控
    supervisor.page.click("nav >> text=统计看板")
    supervisor.page.wait_for_selector("[data-testid=kpis]")
    supervisor.look("dashboard", full_page=True)
    # The role with the most menus: at 1024 px the menu bar is still one line.
    supervisor.page.set_viewport_size({"width": 1024, "height": 768})
    assert supervisor.page.eval_on_selector("nav.navbar", "n => n.offsetHeight") < 70
    supervisor.page.screenshot(path=str(SHOTS / "supervisor-dashboard-1024.png"))
    supervisor.page.set_viewport_size({"width": 1366, "height": 768})
    supervisor.page.click("nav >> text=审计日志")
    supervisor.look("audit")
    problems += supervisor.problems

    # The administrator: the policy in force and its draft's editing page.
    admin = Journey(browser, live_server.url, "admin")
    admin.look("home")
    admin.page.click("nav >> text=政策")
    admin.page.click("nav >> text=救助政策")
    admin.look("policies")
    admin.page.click("[data-testid=policies] a >> nth=0")
    admin.look("policy", full_page=True)
    admin.page.click("nav >> text=政策")
    admin.page.click("nav >> text=救助测算")
    admin.look("calculator")
    admin.go("/subsidies/rules/", "subsidy-rules")
    problems += admin.problems

    assert not problems, "axe-core found:\n" + "\n".join(problems)
