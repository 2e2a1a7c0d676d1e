"""Headless Chromium for the browser tests (Debian's chromium package): the page fixture, signing in as a
role, and axe-core's accessibility check on a page (vendored in tests/vendor/axe-core; no internet here)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# What the pages must meet: WCAG 2.x A and AA, and axe's own best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
TOWNSHIP_SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def browser_page(stray_connections):
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(20_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def stray_connections(django_db_blocker):
    """End idle connections left by requests the browser abandoned, once all browser tests are done.

    An htmx poll cut short by navigation never reaches request_finished, so its server thread's
    connection stays open and the test database could not be dropped at the end of the run. This
    runs after the last browser test, before the live server and the test database are torn down.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
                )
        connection.close()


def sign_in(browser, base_url: str, username: str, password: str, viewport=TOWNSHIP_SCREEN):
    """A new page signed in as the user, at the township offices' screen size; dialogs are accepted."""
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(20_000)
    page.on("dialog", lambda d: d.accept())
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=工作台")
    return page


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """axe-core's violations of the page at the given impacts, one line each (rule, impact, first targets)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the devtools protocol, which the pages' Content-Security-Policy does not govern
        # (an injected <script> would be refused, as it should be).
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    lines = []
    for v in result["violations"]:
        if v["impact"] in impacts:
            targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
            lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} 处): {v['help']} — {targets}")
    return lines
