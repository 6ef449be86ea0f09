"""In real Chromium: the bell shows the unread count, the count follows a lab's report without
a reload, and reading lowers it (by the list's buttons and by the link to the order)."""

import re

import pytest

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from tests.browser import log_in, screenshot
from tests.factories import bte_item

pytestmark = pytest.mark.browser


def test_bell_counts_and_follows_the_labs_reports(
    transactional_db, live_server, page, settings, alice, transaction_obj, dreve, dreve_supplier
):
    from playwright.sync_api import expect

    settings.OTOORDER_NOTIFICATION_POLL_SECONDS = 1
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
    lifecycle.set_status(order, OrderStatus.ORDERED, source=EventSource.WORKER)

    log_in(page, live_server, "alice")
    count = page.locator("#notification-count")
    expect(count).to_have_attribute("data-count", "0")
    expect(count).to_be_hidden()

    # The lab confirms and ships: the bell follows without a reload.
    apply_status_update(order, StatusUpdate(status="confirmed", external_reference="D-77"))
    expect(count).to_have_attribute("data-count", "1", timeout=10_000)
    expect(count).to_be_visible()
    expect(count).to_contain_text("1")
    expect(page.locator("#notification-bell")).to_contain_text("1 ungelesene Benachrichtigung")
    apply_status_update(order, StatusUpdate(status="shipped", tracking_number="00340434161094042557", data={"carrier": "DHL"}))
    expect(count).to_have_attribute("data-count", "2", timeout=10_000)
    screenshot(page, "notification-bell.png")

    # By keyboard to the list: newest first, both unread.
    page.locator("#notification-bell").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/benachrichtigungen/$"))
    items = page.locator("[data-testid=notification]")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_have_attribute("data-kind", "shipped")
    expect(items.nth(0)).to_contain_text(f"Bestellung {order.number} wurde von Dreve versandt.")
    expect(items.nth(0).locator("[data-testid=tracking-link]")).to_have_attribute(
        "href", re.compile(r"^https://www\.dhl\.de/.*00340434161094042557")
    )
    expect(items.nth(1)).to_contain_text("bestätigt")
    expect(page.locator(".notification-unread")).to_have_count(2)
    screenshot(page, "notification-list.png")

    # Marking one read lowers the count.
    items.nth(1).get_by_role("button", name="als gelesen markieren").click()
    expect(page.locator("#notification-count")).to_have_attribute("data-count", "1")
    expect(page.locator(".notification-unread")).to_have_count(1)

    # The link to the order marks the other one read on the way.
    page.locator("[data-testid=notification-open]").first.click()
    expect(page).to_have_url(re.compile(rf"/bestellungen/{order.pk}/$"))
    expect(page.locator("#notification-count")).to_have_attribute("data-count", "0")
    expect(page.locator("#notification-count")).to_be_hidden()

    # Two more (sending failed, then the lab rejected the resent order), all read at once.
    second = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    for status in (OrderStatus.SENDING, OrderStatus.FAILED, OrderStatus.QUEUED, OrderStatus.SENDING, OrderStatus.REJECTED_BY_LAB):
        lifecycle.set_status(second, status, source=EventSource.WORKER)
    expect(page.locator("#notification-count")).to_have_attribute("data-count", "2", timeout=10_000)
    page.locator("#notification-bell").click()
    expect(page.locator(".notification-unread")).to_have_count(2)
    page.locator("#read-all").click()
    expect(page.get_by_role("alert")).to_contain_text("2 Benachrichtigungen als gelesen markiert.")
    expect(page.locator("#notification-count")).to_have_attribute("data-count", "0")
    expect(page.locator(".notification-unread")).to_have_count(0)
    expect(page.locator("#read-all")).to_have_count(0)
