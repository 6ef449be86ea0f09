"""In real Chromium: the live status (otoorder/orders/live.py) without a reload.

The order page that shows "Bestellt" turns to "vom Labor bestätigt" and to "versandt" with the
tracking link and the goods-receipt form as the lab's reports arrive (through
``lab_updates.apply_status_update``, the path every poll, callback and inbox file takes), and
the order list and the customer page follow too. Between the reports the page's checks are
answered 304 and leave the page as it is. The page is never reloaded: a mark set in the window
at the start is still there at the end.
"""

import re

import pytest

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders.choices import OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from tests import factories as f
from tests.browser import log_in, screenshot
from tests.lifecycle_fixtures import ordered_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRACKING = "00340434161094042557"


@pytest.fixture
def fast_live(settings):
    settings.OTOORDER_LIVE = {"INTERVAL": 1.0, "IN_FLIGHT_INTERVAL": 1.0, "HIDDEN_INTERVAL": 60.0}


@pytest.fixture
def order(customer, dreve, dreve_supplier, alice):
    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    txn = f.TransactionFactory(customer=customer, template=template, started_by=alice)
    return ordered_order(txn, dreve_supplier, alice)


def lab_reports(order, status, **fields):
    assert apply_status_update(order, StatusUpdate(status=status, external_status=status, **fields))


def is_live_check(response, status):
    return "live=" in response.url and response.status == status


def mark_window(page):
    page.evaluate("window.otoorderLiveMark = 'not reloaded'")


def assert_not_reloaded(page):
    assert page.evaluate("window.otoorderLiveMark") == "not reloaded"


def test_order_page_follows_the_lab_without_reload(live_server, page, fast_live, alice, order):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    status = page.locator("#order-status")
    expect(status).to_have_text("Bestellt")
    expect(page.locator("#live-hint")).to_be_visible()
    mark_window(page)

    # Nothing changed yet: the check is answered 304 and the page stays as it is.
    page.wait_for_event("response", lambda response: is_live_check(response, 304), timeout=10_000)
    expect(status).to_have_text("Bestellt")

    lab_reports(order, OrderStatus.CONFIRMED, external_reference="DRV-2026-0815")
    expect(status).to_have_text("vom Labor bestätigt", timeout=10_000)
    expect(page.locator("#external-reference")).to_contain_text("DRV-2026-0815")
    expect(page.locator("#order-history")).to_contain_text("vom Labor bestätigt")

    lab_reports(order, OrderStatus.SHIPPED, tracking_number=TRACKING, data={"carrier": "DHL"})
    expect(status).to_have_text("versandt", timeout=10_000)
    link = page.locator("#tracking-number a.tracking-link")
    expect(link).to_have_text(TRACKING)
    expect(link).to_have_attribute("href", re.compile(rf"^https://www\.dhl\.de/.*{TRACKING}"))
    expect(page.locator("#receive-form")).to_be_visible()
    expect(page.locator("#receive-order")).to_be_visible()
    screenshot(page, "live-order-shipped.png")
    assert_not_reloaded(page)

    # The goods-receipt form that arrived by itself works like one rendered with the page.
    for side in ("right", "left"):
        if page.locator(f"#receive_no_serial_{side}").count():
            page.check(f"#receive_no_serial_{side}")
    page.click("#receive-order")
    expect(status).to_have_text("Wareneingang")
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    # A settled order no longer polls.
    assert page.locator("#live-region").get_attribute("hx-get") is None


def test_order_list_and_customer_page_follow_without_reload(live_server, page, fast_live, alice, order, customer):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/bestellungen/")
    row_status = page.locator("#order-table tbody tr", has_text=order.number).locator("[data-status]")
    expect(row_status).to_have_attribute("data-status", "ordered")
    mark_window(page)
    lab_reports(order, OrderStatus.CONFIRMED)
    expect(row_status).to_have_attribute("data-status", "confirmed", timeout=10_000)
    assert_not_reloaded(page)

    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    history = page.locator(f"#history-right [data-order='{order.number}'] [data-status]")
    expect(history).to_have_attribute("data-status", "confirmed")
    mark_window(page)
    lab_reports(order, OrderStatus.SHIPPED, tracking_number=TRACKING)
    expect(history).to_have_attribute("data-status", "shipped", timeout=10_000)
    expect(page.locator("#order-table [data-status]")).to_have_attribute("data-status", "shipped")
    assert_not_reloaded(page)


def test_what_staff_typed_is_never_swapped_away(live_server, page, fast_live, alice, order):
    """A field in the region that holds unsent input (or the focus) holds the swap back; the
    change shows once the field is as the page rendered it."""
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    status = page.locator("#order-status")
    expect(status).to_have_text("Bestellt")
    serial = page.locator("#receive-form input[type=text]").first
    serial.fill("SN-0815")
    page.locator("#order-number").click()  # the field loses the focus, the text stays

    lab_reports(order, OrderStatus.CONFIRMED)
    page.wait_for_event("response", lambda response: is_live_check(response, 200), timeout=10_000)
    expect(status).to_have_text("Bestellt")
    expect(serial).to_have_value("SN-0815")

    serial.fill("")
    page.locator("#order-number").click()
    expect(status).to_have_text("vom Labor bestätigt", timeout=10_000)
