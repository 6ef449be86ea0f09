"""In real Chromium: staff pack a parcel for a lab (choose the lab, tick the impressions, enter
carrier and tracking number once), open its packing list, and the order shows "Abdruck
unterwegs" with the tracking link. Screenshots in German and English."""

import io
import re

import pytest
from django.conf import settings
from pypdf import PdfReader

from otoorder.orders.models import Parcel
from tests.browser import log_in, screenshot
from tests.test_impressions_api import private_media  # noqa: F401 - fixture
from tests.test_parcels import decode_qr, order_with_impressions

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
def test_pack_a_parcel_and_open_its_packing_list(
    transactional_db, live_server, page, alice, transaction_obj, dreve, dreve_supplier, language
):
    from playwright.sync_api import expect

    order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
    english = language == "en"
    log_in(page, live_server, "alice")
    if english:
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])

    page.goto(f"{live_server.url}/bestellungen/pakete/")
    page.locator("#new-parcel").click()
    expect(page).to_have_url(re.compile(r"/bestellungen/pakete/neu/$"))
    # The lab is chosen with its button, not by moving through the select.
    page.get_by_label("Lab" if english else "Labor").select_option(str(dreve_supplier.pk))
    page.locator("#show-impressions").click()
    rows = page.locator("[data-testid=open-impression]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("right" if english else "rechts")
    page.get_by_label(f"{order.number}, {'ear right' if english else 'Ohr rechts'}").check()
    page.get_by_label(f"{order.number}, {'ear left' if english else 'Ohr links'}").check()
    page.get_by_label("Carrier" if english else "Versanddienstleister").select_option("dhl")
    screenshot(page, f"parcel-form-{language}.png")

    # Without a tracking number the page says what is missing and keeps the ticks.
    page.locator("#create-parcel").click()
    expect(page.locator("#parcel-form")).to_contain_text(
        "Please enter the parcel's tracking number." if english else "Bitte die Sendungsnummer des Pakets angeben."
    )
    expect(page.locator("input[name=impressions]:checked")).to_have_count(2)
    page.get_by_label("Tracking number" if english else "Sendungsnummer").fill("00340434161094042557")
    page.locator("#create-parcel").click()

    parcel = Parcel.objects.get()
    expect(page).to_have_url(re.compile(rf"/bestellungen/pakete/{parcel.pk}/$"))
    expect(page.locator("[data-testid=parcel-item]")).to_have_count(2)
    expect(page.locator("#parcel-items")).to_contain_text(f"{order.number}-R")
    expect(page.locator("#parcel-tracking a")).to_have_attribute("href", re.compile(r"^https://www\.dhl\.de/.*00340434161094042557"))
    screenshot(page, f"parcel-detail-{language}.png")

    # The packing list, as the browser gets it behind the button.
    href = page.locator("#packing-list").get_attribute("href")
    response = page.context.request.get(f"{live_server.url}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert f"{order.number}-R" in text and f"{order.number}-L" in text and "00340434161094042557" in text
    assert ("Packing list" if english else "Packliste") in text
    decode_qr(response.body(), f"browser-packing-list-{language}.png")

    # The order shows its impressions on their way, with the tracking link and the labels.
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    transit = page.locator("#impression-transit")
    expect(transit).to_contain_text("Impression on its way" if english else "Abdruck unterwegs")
    expect(transit.locator("[data-testid=impression-tracking-link]").first).to_have_attribute(
        "href", re.compile(r"^https://www\.dhl\.de/")
    )
    label = page.locator("[data-testid=label-right]")
    response = page.context.request.get(f"{live_server.url}{label.get_attribute('href')}")
    assert decode_qr(response.body(), f"browser-label-{language}.png") == [order.number]
    screenshot(page, f"parcel-order-{language}.png")

    # The list shows the parcel on its way.
    page.goto(f"{live_server.url}/bestellungen/pakete/")
    expect(page.locator("[data-testid=parcel-row]")).to_have_count(1)
    screenshot(page, f"parcel-list-{language}.png")
