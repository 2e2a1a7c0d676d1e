"""In headless Chromium at 1366×768: a reviewer uploads the platform's own settlement list and sees, before
confirming, the profile it was recognised by, its mapping and the first rows in our columns; the administrator's
form for a new roster profile. Both pages pass axe-core and are screenshotted."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.browser import ARTIFACTS, TOWNSHIP_SCREEN, axe_violations, sign_in
from tests.factories import UserFactory
from tests.imports.platform import CN_PROFILE, ID, install_builtin_profiles, platform_csv, platform_records

pytestmark = [pytest.mark.browser]


def test_the_preview_of_a_platform_list_shows_its_profile_beside_the_first_rows(
    live_server, browser_page, task_worker, tmp_path
):
    install_builtin_profiles()
    UserFactory(username="reviewer1", full_name="黄志强", role=Role.REVIEWER, password="County-review-2026")
    upload = tmp_path / "2025年6月结算清单.csv"
    upload.write_bytes(platform_csv(platform_records()))
    page = sign_in(browser_page.context.browser, live_server.url, "reviewer1", "County-review-2026")
    page.goto(live_server.url + reverse("settlements:import_upload"))
    page.set_input_files("input[type=file]", str(upload))
    page.click("text=上传并校验")
    page.wait_for_selector("[data-testid=preview]", timeout=60_000)
    profile = page.locator("[data-testid=profile]")
    assert CN_PROFILE in profile.inner_text()
    text = profile.inner_text()
    assert "居民大病保险资金支出 + 职工大额医疗费用补助基金支出" in text and "大病保险支付" in text
    assert "医疗类别" in text and "按医疗类别对照表转换" in text
    sample = page.locator("[data-testid=sample]").inner_text()
    assert "S0000" in sample and "门诊" in sample and ID not in page.content()
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(TOWNSHIP_SCREEN)
    page.screenshot(path=str(ARTIFACTS / "import-profile-preview.png"), full_page=True)
    page.click("text=确认导入")
    page.wait_for_selector("[data-testid=result]", timeout=60_000)
    assert CN_PROFILE in page.locator("[data-testid=profile-name]").inner_text()


def test_the_administrators_form_for_a_roster_profile(live_server, browser_page):
    UserFactory(username="sysadmin1", role=Role.ADMIN, password="County-config-2026")
    page = sign_in(browser_page.context.browser, live_server.url, "sysadmin1", "County-config-2026")
    page.goto(live_server.url + "/admin/imports/columnprofile/add/")
    page.click("text=救助对象名册")
    page.wait_for_selector("text=身份证号（必填）")
    page.fill("input[name=name]", "民政低保系统导出名册")
    page.fill("input[name=col_0]", "身份证号码")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "“姓名”是必填列，请填写文件中对应的表头" in page.content()
    # Django admin's own breadcrumbs are told from their text by colour alone (its stylesheet, not this form).
    assert [v for v in axe_violations(page) if ".breadcrumbs" not in v] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-column-profile.png"), full_page=True)
