"""End to end with every part real: Chromium → live server → Redis → Celery worker → SMTP lab.

alice orders in the browser and watches the order page turn to "Bestellt" by itself (htmx
polling) once the worker has handed the mail to the lab.
"""

import re

import pytest

from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import EarmouldOrder
from tests import factories as f
from tests.browser import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_in_the_browser_is_sent_and_the_page_shows_bestellt(
    live_server, start_worker, smtp_lab, page, alice, customer, dreve, dreve_supplier
):
    from playwright.sync_api import expect

    f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    start_worker(email_url=smtp_lab.url)

    log_in(page, live_server, "alice")
    # The start page is the worklist; the customer is found under "Kunden".
    page.get_by_role("link", name="Kunden", exact=True).click()
    page.get_by_role("link", name="Mustermann, Erika").click()
    page.select_option("[data-testid=template-select]", label="Otoplastik Dreve")
    page.click("#start-transaction")
    page.click("#open-order-service")
    expect(page.locator("#resolution-preview")).to_have_attribute("data-outcome", "ready")

    page.check("[data-testid=order-right]")
    page.select_option("#id_right-product_family", "bte")
    page.select_option("#id_right-style", "shell")
    page.select_option("#id_right-material", "acrylic")
    page.fill("#id_right-colour", "transparent")
    page.select_option("#id_right-vent_type", "parallel")
    page.fill("#id_right-vent_diameter_mm", "1,5")
    page.select_option("#id_right-tube", "standard_2_1")
    page.click("#submit-order")

    expect(page).to_have_url(re.compile(r"/bestellungen/[0-9a-f-]{36}/$"))
    order = EarmouldOrder.objects.get(customer=customer)
    expect(page.locator("#order-number")).to_have_text(order.number)
    # No reload by the test: the status panel polls until the worker's result shows.
    expect(page.locator("#order-status")).to_have_attribute("data-status", "ordered", timeout=30_000)
    expect(page.locator("#order-status")).to_have_text("Bestellt")
    expect(page.locator("#order-history")).to_contain_text("Bestellung per E-Mail an bestellung@dreve.test gesendet")
    expect(page.locator("#status-panel")).to_have_attribute("data-in-flight", "false")

    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED
    (message,) = smtp_lab.accepted
    assert order.number in message["Subject"] and str(order.pk) in message["Message-ID"]
    assert [part.get_filename() for part in message.iter_attachments()] == [f"Bestellung-{order.number}.pdf"]
