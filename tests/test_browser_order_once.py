"""In real Chromium: browser back after ordering and "Bestellen" again shows the first order
and creates no second; a re-order cancelled with "Abbrechen" leaves no Vorgang; the reason
typed beside "Reklamation" arrives in the remake's form, and the two orders link to each
other; goods receipt with "ohne Seriennummer" and a serial added later. No worker runs."""

import pytest

from otoorder.orders.models import EarmouldOrder
from otoorder.transactions.models import Transaction
from tests.browser import log_in, screenshot
from tests.test_browser_reorder import previous  # noqa: F401

pytestmark = pytest.mark.browser


def test_back_and_submit_again_creates_one_order(live_server, page, alice, customer, previous):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    page.click("#reorder-right")
    expect(page.locator("#id_right-colour")).to_have_value("rot")
    page.click("#submit-order")
    expect(page.locator("#order-number")).to_be_visible()
    first = EarmouldOrder.objects.exclude(pk=previous.pk).get()
    transactions = Transaction.objects.count()

    page.go_back()
    expect(page.locator("#submit-order")).to_be_visible()
    expect(page.locator("#already-submitted")).to_contain_text(first.number)
    screenshot(page, "order-form-already-submitted.png")
    page.click("#submit-order")
    expect(page.locator("#order-number")).to_have_text(first.number)
    expect(page.locator(".alert")).to_contain_text(f"das ist die Bestellung {first.number}")
    assert EarmouldOrder.objects.exclude(pk=previous.pk).count() == 1
    assert Transaction.objects.count() == transactions


def test_cancelling_a_reorder_leaves_no_transaction(live_server, page, alice, customer, previous):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    before = Transaction.objects.count()
    page.click("#reorder-both")
    expect(page.locator("#id_left-receiver_type")).to_have_value("Phonak M")
    page.click("#leave-order-form")
    expect(page).to_have_url(f"{live_server.url}/kunden/{customer.pk}/")
    assert Transaction.objects.count() == before


@pytest.mark.parametrize("language", ["de", "en"])
def test_remake_reason_links_and_serials(live_server, page, alice, customer, previous, language):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/bestellungen/{previous.pk}/")
    # Goods receipt: the right ear's serial, the left explicitly without.
    page.fill("#receive_serial_right", "SN-R-1")
    page.check("#receive_no_serial_left")
    page.click("#receive-order")
    expect(page.locator("#serial-left")).to_be_visible()
    # Added later, with an event.
    page.select_option("#serial_fix_side", "left")
    page.fill("#serial_fix_serial", "SN-L-2")
    page.click("#save-serial")
    expect(page.locator("#serial-left")).to_have_text("SN-L-2")

    page.fill("#remake_reason", "pfeift beim Kauen")
    screenshot(page, f"order-lifecycle-panel-{language}.png")
    before = Transaction.objects.count()
    page.click("#remake-order")
    expect(page.locator("#id_reason")).to_have_value("pfeift beim Kauen")
    assert Transaction.objects.count() == before
    page.click("#submit-order")
    remake = EarmouldOrder.objects.get(original_order=previous)
    expect(page.locator("#original-order")).to_have_text(previous.number)
    screenshot(page, f"order-remake-{language}.png")
    page.click("#original-order a")
    expect(page.locator("#follow-up-1 a")).to_have_text(remake.number)
    screenshot(page, f"order-original-{language}.png")
    assert remake.reason == "pfeift beim Kauen"
