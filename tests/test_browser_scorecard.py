"""The scorecard page in Chromium: charts drawn by Chart.js under the CSP, table, screenshots."""

import pytest
from django.conf import settings

from otoorder.sandbox.management.commands.load_demo_data import DEMO_PASSWORD
from tests.browser import log_in, screenshot
from tests.test_demo_data import load, sandbox_env  # noqa: F401 - fixture
from tests.test_scorecard import fixture_orders, labs  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_scorecard_page_draws_its_charts(transactional_db, live_server, page, carol, fixture_orders, language):  # noqa: F811
    from playwright.sync_api import expect

    log_in(page, live_server, "carol")
    if language == "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/filialverwaltung/")
    page.get_by_role("link", name="Laborkennzahlen" if language == "de" else "Lab scorecards").click()
    page.fill("#id_date_from", "2026-03-01")
    page.fill("#id_date_to", "2026-03-31")
    page.get_by_role("button", name="Anzeigen" if language == "de" else "Show").click()
    expect(page.locator("#scorecard tbody tr")).to_have_count(2)
    expect(page.locator("#scorecard tbody tr").first).to_contain_text("Dreve")
    # Chart.js has drawn both charts: it sets the canvas' size (width/height attributes).
    for canvas in ("#scorecard-turnaround", "#scorecard-on-time", "#scorecard-remakes"):

        page.wait_for_function(
            f"window.Chart !== undefined && Chart.getChart(document.querySelector('{canvas}')) !== undefined"
        )
    screenshot(page, f"scorecard-{language}.png")


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_scorecard_page_with_the_demo_data(transactional_db, live_server, page, sandbox_env, language):  # noqa: F811
    """The demo's scorecard page as the chain admin sees it after ``make run`` (screenshots
    ``scorecard-demo-de.png`` and ``-en.png`` in test-artifacts/ for review)."""
    from playwright.sync_api import expect

    load()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "demo-admin")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    if language == "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/filialverwaltung/laborkennzahlen/")
    expect(page.locator("#scorecard tbody tr")).to_have_count(5)
    for canvas in ("#scorecard-turnaround", "#scorecard-on-time", "#scorecard-remakes"):
        page.wait_for_function(
            f"window.Chart !== undefined && Chart.getChart(document.querySelector('{canvas}')) !== undefined"
        )
    legends = page.evaluate(
        "['#scorecard-turnaround', '#scorecard-on-time', '#scorecard-remakes'].map("
        "(id) => Chart.getChart(document.querySelector(id)).data.datasets.map((set) => set.label))"
    )
    if language == "en":
        assert legends[2] == ["Fit", "Material", "Without category"]
        expect(page.locator("#scorecard thead")).to_contain_text("remake rate")
    else:
        assert legends[2] == ["Passform", "Material", "ohne Kategorie"]
        expect(page.locator("#scorecard thead")).to_contain_text("Nachfertigungsquote")
    screenshot(page, f"scorecard-demo-{language}.png")
