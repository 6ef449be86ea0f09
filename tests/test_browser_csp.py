"""Chromium under the Content-Security-Policy: the pages load without a single violation,
htmx polls, the 3D viewer renders, and the former inline handlers (language switch, the
cancel question) work from static/js/otoorder.js."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import expect

from otoorder.orders import lifecycle, scans, services
from otoorder.orders.choices import EventSource, OrderStatus
from tests import scan_files
from tests.browser import is_csp_violation, log_in
from tests.factories import bte_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def test_the_listener_sees_a_violation(page, live_server):
    """The check cannot pass by accident: an inline script on our page is reported."""
    response = page.goto(live_server.url + reverse("login"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    with page.expect_console_message(lambda message: is_csp_violation(message.text)):
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = 1'; document.body.append(s); }"
        )
    assert page.csp_violations
    assert page.evaluate("() => window.ran") is None
    page.csp_violations.clear()  # expected here; the fixture fails the test on any other


def test_pages_work_without_violations(page, live_server, alice, customer, transaction_obj, dreve, dreve_supplier):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    impression = scans.create_impression(
        customer=customer, side="right", kind="scan", upload=SimpleUploadedFile("r.stl", scan_files.stl_binary())
    )
    log_in(page, live_server, "alice")
    # The start page: the worklist with its search as you type (htmx).
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    page.fill("#id_q", order.number[1:])
    expect(page.locator("#order-table tbody tr")).to_have_count(1)

    # The 3D viewer: three.js through the nonce'd import map.
    page.goto(live_server.url + reverse("orders:impression_detail", args=[impression.pk]))
    expect(page.locator("#scan-viewer")).to_have_attribute("data-loaded", "true")
    assert page.locator("#scan-viewer canvas").count() == 1
    assert page.locator("#scan-viewer").bounding_box()["height"] > 400  # 32rem from the stylesheet

    # htmx checks the live status of an order in flight (otoorder/orders/live.py).
    page.goto(live_server.url + reverse("orders:order_detail", args=[order.pk]))
    expect(page.locator("#live-region")).to_have_attribute("hx-trigger", "every 2000ms, live-check")
    for status in (OrderStatus.SENDING, OrderStatus.AWAITING_MANUAL):
        lifecycle.set_status(order, status, source=EventSource.WORKER, message="Bestellformular bereit")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_manual", timeout=10_000)

    # The cancel question (formerly onsubmit): "Abbrechen" keeps the order, "OK" cancels it.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("#cancel-order")
    expect(page.locator("#cancel-order")).to_be_visible()
    assert questions == ["Bestellung wirklich stornieren?"]
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("#cancel-order")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "cancelled")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and len(questions) == 2

    # The language switch (formerly onchange, now a button per language) submits its form.
    page.goto(live_server.url + reverse("transactions:customer_list"))
    page.click("#language-menu button[value=en]")
    expect(page.locator("h1")).to_have_text("Customers")
    assert page.csp_violations == []
