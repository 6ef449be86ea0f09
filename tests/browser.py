"""Real Chromium for the browser tests: fixtures and helpers shared by every browser module.

Debian's chromium driven by Playwright's sync API (Playwright's own browser download is not
used). Absent Chromium skips locally and fails under CI=true.
"""

import os
from pathlib import Path

import pytest

from tests.accessibility import AccessibilityCheck
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in the test thread; the tests' ORM calls stay
# ordinary synchronous code all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Screenshots for review, kept out of git.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


#: Chromium logs every Content-Security-Policy violation to the console; the event listener
#: adds one line per ``securitypolicyviolation`` event as well.
REPORT_CSP_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', (event) => console.error("
    "`securitypolicyviolation ${event.effectiveDirective} ${event.blockedURI}`), true);"
)


def is_csp_violation(text):
    return "securitypolicyviolation" in text or "Content Security Policy" in text


@pytest.fixture
def page(browser):
    """A page that records Content-Security-Policy violations (``page.csp_violations``) and
    checks every document it shows with axe-core (``page.a11y``, tests/accessibility.py); a
    test that caused a CSP violation or a critical or serious accessibility violation fails at
    teardown."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1400, "height": 1000})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if is_csp_violation(message.text) else None)
    page.csp_violations = violations
    page.a11y = AccessibilityCheck(page)
    page.a11y.install(context)
    yield page
    page.a11y.wait()
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations), pytrace=False)
    if page.a11y.report():
        pytest.fail(page.a11y.report(), pytrace=False)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
