"""End to end in headless Chromium (Debian's chromium package): a clerk imports a roster and finds a person."""

import datetime

import pytest

from accounts.roles import Role
from recipients.demo import to_csv
from tests.browser import ARTIFACTS
from tests.factories import UserFactory, VillageFactory, valid_id_number

pytestmark = [pytest.mark.browser]


def test_clerk_imports_a_roster_and_finds_a_person(live_server, browser_page, township, task_worker, tmp_path):
    VillageFactory(township=township, name="石鼓村")
    UserFactory(username="alice", full_name="陈丽华", role=Role.CLERK, township=township, password="Shigu-window-2026")
    id_number = valid_id_number(datetime.date(1956, 3, 8), female=True)
    roster = tmp_path / "石鼓镇低保名册.csv"
    roster.write_bytes(
        to_csv(
            [
                [
                    id_number,
                    "王秀英",
                    "低保",
                    "2021-03-01",
                    "2023-02-28",
                    "石鼓镇",
                    "石鼓村",
                    "13812345678",
                    "",
                    "",
                    "民政",
                ],
                [id_number, "王秀英", "特困", "2023-03-01", "", "石鼓镇", "石鼓村", "13812345678", "", "", "民政"],
                [
                    valid_id_number(datetime.date(1980, 1, 1)),
                    "李建国",
                    "DB",
                    "2024-01-01",
                    "",
                    "石鼓镇",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
            ],
            encoding="gb18030",
        )
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page

    page.goto(live_server.url + "/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "Shigu-window-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("text=乡镇窗口经办工作台")

    page.click("nav >> text=数据")  # the window's data menu: 名册导入, 回访清单导入
    page.click("nav >> text=名册导入")
    page.click("text=导入名册")
    page.set_input_files("input[name=file]", str(roster))
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("[data-testid=preview]")
    assert "新增救助身份 3 条" in page.inner_text("[data-testid=preview]").replace("\n", "")
    page.screenshot(path=str(ARTIFACTS / "import-preview.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("[data-testid=result]")
    assert "新增 3 条" in page.inner_text("[data-testid=result]")

    page.click("nav >> text=救助办理")  # the menu of the window's work
    page.click("nav >> text=救助对象查询")
    page.fill("input[name=q]", "王秀英")
    page.click("input[type=submit], button:has-text('查询')")
    results = page.inner_text("[data-testid=person-results]")
    assert "王秀英" in results and "李建国" not in results
    assert id_number not in results  # masked in the list
    page.click("[data-testid=person-results] >> text=王秀英")
    page.wait_for_selector("[data-testid=timeline]")
    assert "特困供养人员" in page.inner_text("[data-testid=timeline]")
    page.screenshot(path=str(ARTIFACTS / "person-detail.png"), full_page=True)

    page.click("[data-testid=reveal]")
    page.wait_for_selector("text=完整信息查看已记录")
    assert page.inner_text("[data-testid=id-number]").strip() == id_number


def test_case_from_window_to_approval(live_server, browser_page, township, task_worker, tmp_path):
    """A clerk receives a case with two bills and a scan; a reviewer and an approver decide it."""
    from applications.models import Case, LedgerEntry
    from applications.policy.services import policy_load_preset
    from tests.factories import IdentityFactory, PersonFactory

    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township, name="李桂兰")
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    users = {
        "alice": UserFactory(username="alice", role=Role.CLERK, township=township, password="Shigu-window-2026"),
        "bob": UserFactory(username="bob", role=Role.REVIEWER, password="County-review-2026"),
        "dora": UserFactory(username="dora", role=Role.APPROVER, password="County-approve-2026"),
    }
    scan = tmp_path / "住院发票.pdf"
    scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
    browser = browser_page.context.browser

    def login(username, password):
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(20_000)
        page.once("dialog", lambda d: d.accept())
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_selector("text=工作台")
        return page

    clerk = login("alice", "Shigu-window-2026")
    clerk.goto(f"{live_server.url}/recipients/people/{person.pk}/")
    clerk.click("button:has-text('受理申请')")
    for n, (admitted, discharged, total) in enumerate(
        [("2026-03-02", "2026-03-09", "20000"), ("2026-05-11", "2026-05-15", "10000")]
    ):
        clerk.fill("input[name=hospital]", "茂名市人民医院")
        clerk.select_option("select[name=visit_type]", "住院")
        clerk.fill("input[name=admitted_on]", admitted)
        clerk.fill("input[name=discharged_on]", discharged)
        clerk.fill("input[name=invoice_number]", f"MM-{n}")
        clerk.fill("input[name=total]", total)
        clerk.fill("input[name=in_policy]", str(int(total) * 9 // 10))
        clerk.fill("input[name=basic]", str(int(total) // 2))
        clerk.click("button:has-text('保存就诊记录')")
        clerk.wait_for_selector(f"text=MM-{n}")
    clerk.select_option("select[name=material]", "住院（门诊）医疗费用发票")
    clerk.set_input_files("input[name=file]", str(scan))
    clerk.click("button:has-text('上传')")
    clerk.wait_for_selector("text=住院发票.pdf")
    # The scan ticked its material; the clerk ticks the paper ones handed in, all but the 费用清单.
    assert clerk.is_checked("input[name=supplied][value='住院（门诊）医疗费用发票']")
    for box in clerk.query_selector_all("input[name=supplied]"):
        if box.get_attribute("value") != "费用清单":
            box.check()
    clerk.click("[data-testid=accept]")
    clerk.wait_for_selector("text=已容缺受理")
    assert "费用清单" in clerk.inner_text("[data-testid=missing-summary]")
    receipt = clerk.get_attribute("[data-testid=receipt-link]", "href")
    clerk.goto(live_server.url + receipt)
    assert "费用清单" in clerk.inner_text("[data-testid=receipt-missing]")
    clerk.screenshot(path=str(ARTIFACTS / "case-receipt.png"), full_page=True)
    clerk.go_back()
    clerk.once("dialog", lambda d: d.accept())
    clerk.click("button:has-text('提交县局审核')")
    clerk.wait_for_selector("text=待审核")
    case = Case.objects.get()

    reviewer = login("bob", "County-review-2026")
    reviewer.goto(f"{live_server.url}/cases/{case.pk}/")
    # The calculation is shown before the reviewer confirms, and the button names the amount.
    assert "9,600.00 元" in reviewer.inner_text("[data-testid=review-preview]")
    reviewer.fill("textarea[name=comment]", "材料齐全（费用清单待补）")
    reviewer.once("dialog", lambda d: d.accept())
    reviewer.click("[data-testid=review]")
    reviewer.wait_for_selector("[data-testid=calculation]")
    # 2 bills: (18,000 − 10,000) × 80% = 6,400 and (9,000 − 5,000) × 80% = 3,200
    assert "9,600.00 元" in reviewer.inner_text("body")

    approver = login("dora", "County-approve-2026")
    approver.goto(f"{live_server.url}/cases/approval/")
    approver.check(f"input[name=case][value='{case.pk}']")
    approver.click("[data-testid=approve-selected]")
    assert "9,600.00 元" in approver.inner_text("[data-testid=confirm-total]")
    approver.click("[data-testid=confirm]")
    approver.wait_for_selector(f"text=已批准 1 件，批准金额合计 9,600.00 元：{case.number}")
    approver.goto(f"{live_server.url}/cases/{case.pk}/")
    approver.screenshot(path=str(ARTIFACTS / "case-approved.png"), full_page=True)
    case.refresh_from_db()
    assert case.status == Case.Status.APPROVED and case.approved_amount == 9600
    assert LedgerEntry.objects.get(person=person, pool="住院").granted == 9600
    assert users["alice"].pk == case.received_by_id


def test_finance_builds_reviews_exports_a_batch_and_imports_the_return(live_server, browser_page, township, tmp_path):
    """Two finance users: one builds and locks, the other reviews; the bank file downloads; a return with one
    failure marks the other case paid."""
    from decimal import Decimal

    from openpyxl import load_workbook

    from applications.models import Case
    from payouts.models import PayoutBatch
    from tests.factories import PersonFactory, fund_county

    for n, amount in enumerate(["5600.00", "1234.56"]):
        person = PersonFactory(township=township, name=f"收款人{n}")
        Case.objects.create(
            number=f"LX2026{n:06d}",
            person=person,
            township=township,
            status=Case.Status.APPROVED,
            approved_amount=Decimal(amount),
            payee_name=person.name,
            payee_bank="中国农业银行高州支行",
            payee_account=f"62284800001234567{n}",
        )
    fund_county(township.county)  # funds received: the batch may be locked (reports.funds)
    UserFactory(username="fay", role=Role.FINANCE, password="County-finance-2026")
    UserFactory(username="gus", role=Role.FINANCE, password="County-finance-2027")
    browser = browser_page.context.browser

    def login(username, password):
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
        page.set_default_timeout(20_000)
        page.on("dialog", lambda d: d.accept())
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_selector("text=工作台")
        return page

    maker = login("fay", "County-finance-2026")
    maker.click('nav >> text="支付"')  # the menu of payments: batches and the insurer's statements
    maker.click("nav >> text=支付批次")
    maker.click("[data-testid=new-batch]")
    maker.click("button:has-text('预览')")
    assert "2" in maker.inner_text("[data-testid=preview]")
    maker.click("[data-testid=create]")
    maker.wait_for_selector("[data-testid=lock]")
    maker.click("[data-testid=lock]")
    maker.wait_for_selector("text=等待另一名财务人员复核")
    batch = PayoutBatch.objects.get()

    checker = login("gus", "County-finance-2027")
    checker.goto(live_server.url + f"/payouts/{batch.pk}/")
    checker.click("[data-testid=review]")
    checker.wait_for_selector("[data-testid=export]")
    with checker.expect_download() as download:
        checker.click("[data-testid=export]")
    path = tmp_path / "daifa.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path)["代发明细"].iter_rows(values_only=True))
    assert len(rows) == 3 and {r[4] for r in rows[1:]} == {5600.0, 1234.56}
    checker.screenshot(path=str(ARTIFACTS / "payout-batch.png"), full_page=True)

    returned = tmp_path / "回盘.csv"
    returned.write_bytes(
        to_csv(
            [
                [
                    r[7],
                    r[2],
                    f"{r[4]:.2f}",
                    "成功" if r[4] == 5600.0 else "失败",
                    "" if r[4] == 5600.0 else "账户已销户",
                ]
                for r in rows[1:]
            ],
            headers=["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"],
        )
    )
    checker.goto(live_server.url + f"/payouts/{batch.pk}/")
    checker.set_input_files("input[name=file]", str(returned))
    checker.click("[data-testid=import-return]")
    checker.wait_for_selector("text=回盘已导入")
    assert Case.objects.get(approved_amount=Decimal("5600.00")).status == Case.Status.PAID
    assert Case.objects.get(approved_amount=Decimal("1234.56")).status == Case.Status.APPROVED
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.RETURNED


def test_supervisor_opens_the_dashboard_and_downloads_the_report(
    live_server, browser_page, township, task_worker, tmp_path
):
    from decimal import Decimal

    from openpyxl import load_workbook

    from applications.policy.services import policy_load_preset
    from settlements.models import Settlement
    from tests.factories import IdentityFactory, PersonFactory

    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    Settlement.objects.create(
        number="DB0001",
        id_number=person.id_number,
        name=person.name,
        hospital="高州市人民医院",
        visit_type="住院",
        admitted_on=datetime.date(2025, 6, 1),
        discharged_on=datetime.date(2025, 6, 10),
        service_date=datetime.date(2025, 6, 10),
        settled_on=datetime.date(2025, 6, 10),
        total=Decimal("10000"),
        in_policy=Decimal("9000"),
        basic=Decimal("5000"),
        onestop=Decimal("3200"),
    )
    UserFactory(username="sue", role=Role.SUPERVISOR, password="County-oversee-2026")
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", "County-oversee-2026")
    page.click("button[type=submit]")
    page.click("nav >> text=统计")  # the menu of 统计看板 and 资金监控
    page.click("nav >> text=统计看板")
    page.fill("input[name=year]", "2025")
    page.click("button:has-text('查询')")
    page.wait_for_selector("[data-testid=kpis]")
    # The year's summary is built by a worker after the settlement commits (the page reloads itself while it is
    # queued): behind other tests' tasks it may come a few seconds later.
    for _ in range(60):
        if page.inner_text("[data-testid=direct-count]").strip() == "1":
            break
        page.wait_for_timeout(1000)
        page.reload()
        page.wait_for_selector("[data-testid=kpis]")
    assert page.inner_text("[data-testid=direct-count]").strip() == "1"
    assert "80.00%" in page.inner_text("[data-testid=kpis]")  # 3,200 ÷ 4,000 for a key recipient's stay
    page.click("[data-testid=request-report]")
    page.wait_for_selector("[data-testid=download]", timeout=60_000)
    with page.expect_download() as download:
        page.click("[data-testid=download]")
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "按乡镇", "按类别", "按月", "追回", "回访与投诉", "明细"]
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_a_hostile_township_name_does_not_run_in_the_supervisors_dashboard(
    live_server, browser_page, township, task_worker
):
    """A township renamed `</script><script>…` in 系统管理: the dashboard draws its charts and runs nothing of it."""
    from applications.policy.services import policy_load_preset
    from recipients.models import Township
    from reports.facts import refresh_facts
    from tests.factories import IdentityFactory, PersonFactory, settle

    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    settle(person, onestop=3200)
    Township.objects.filter(pk=township.pk).update(name="石鼓</script><script>alert('xss')</script>")
    refresh_facts(year=2025)
    UserFactory(username="sue", role=Role.SUPERVISOR, password="County-oversee-2026")
    page = browser_page
    dialogs, violations = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", "County-oversee-2026")
    page.click("button[type=submit]")
    page.goto(live_server.url + "/reports/?year=2025")
    page.wait_for_selector("#chart-township")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 4")
    assert dialogs == [] and violations == []
    assert "</script><script>" in page.inner_text("body")  # the name is shown, as text


def test_approver_filters_the_queue_and_approves_two_after_a_confirmation(
    live_server, browser_page, township, other_township, task_worker
):
    """At a township office's 1366×768: the queue filtered to one township, two cases ticked, the confirmation
    with their count, total and breakdown, then the result; nothing else is approved."""
    from decimal import Decimal

    from django.utils import timezone

    from applications.models import Case
    from applications.policy.services import policy_load_preset
    from tests.factories import IdentityFactory, PersonFactory, bill_on, case_in_approval

    policy_load_preset(name="maoming-2018", county=township.county)
    reviewer = UserFactory(username="bob", role=Role.REVIEWER)
    UserFactory(username="dora", full_name="李明德", role=Role.APPROVER, password="County-approve-2026")
    clerks = {
        township: UserFactory(username="alice", role=Role.CLERK, township=township),
        other_township: UserFactory(username="charlie", role=Role.CLERK, township=other_township),
    }
    stay = timezone.localdate() - datetime.timedelta(days=40)

    def reviewed(where, invoice):
        person = PersonFactory(township=where)
        IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
        money = {"total": Decimal("42000"), "in_policy": Decimal("38000"), "basic": Decimal("20000")}
        bill = bill_on(stay, invoice=invoice, critical=Decimal("6000"), **money)
        return case_in_approval(person, clerk=clerks[where], reviewer=reviewer, bills=[bill])

    ours = [reviewed(township, f"S{k}") for k in range(3)]
    theirs = reviewed(other_township, "E1")
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "dora")
    page.fill("input[name=password]", "County-approve-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("text=县局审批工作台")

    page.goto(live_server.url + "/cases/approval/")
    page.select_option("select[name=township]", label=township.name)
    page.click("[data-testid=queue-filters] button:has-text('查询')")
    page.wait_for_url("**township=*")
    listed = page.inner_text("[data-testid=queue]")
    assert all(c.number in listed for c in ours) and theirs.number not in listed
    ticked = [ours[0], ours[2]]
    for case in ticked:
        page.check(f"input[name=case][value='{case.pk}']")
    page.click("[data-testid=approve-selected]")
    page.wait_for_selector("[data-testid=confirm-summary]")
    assert page.inner_text("[data-testid=confirm-count]").strip() == "2 件"
    assert page.inner_text("[data-testid=confirm-total]").strip() == "19,200.00 元"
    assert township.name in page.inner_text("[data-testid=by-township]")
    assert "窗口申请" in page.inner_text("[data-testid=by-source]")
    assert Case.objects.filter(status=Case.Status.APPROVED).count() == 0  # nothing yet
    page.screenshot(path=str(ARTIFACTS / "approval-confirm.png"))

    page.click("[data-testid=confirm]")
    page.wait_for_selector("text=已批准 2 件，批准金额合计 19,200.00 元")
    page.screenshot(path=str(ARTIFACTS / "approval-result.png"))
    assert {c.pk for c in Case.objects.filter(status=Case.Status.APPROVED)} == {c.pk for c in ticked}
    assert "township=" in page.url  # back on the filtered queue
