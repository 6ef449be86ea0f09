"""The scorecard page in Chromium: charts drawn by Chart.js under the CSP, table, screenshots."""

import pytest
from django.conf import settings

from tests.browser import log_in, screenshot
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
