"""End to end in real Chromium: a branch employee orders an earmould through the browser.

No worker runs here, so the order stays queued; the worker integration tests cover sending.
"""

import re

import pytest

from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.lifecycle import set_status
from otoorder.transactions.models import Transaction
from tests import factories as f
from tests.browser import log_in, screenshot

pytestmark = pytest.mark.browser


def settled(page):
    """Wait until htmx has swapped and processed new content (no request, no settling)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def test_staff_orders_an_earmould(transactional_db, live_server, page, alice, customer, dreve, dreve_supplier):
    from playwright.sync_api import expect

    f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    egger = f.CompanyFactory(name="Egger")
    f.SupplierFactory(company=egger, name="Egger Direkt")
    f.SupplierFactory(company=egger, name="Egger Großhandel")

    # Log in as alice.
    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    page.get_by_role("link", name="Kunden", exact=True).click()
    expect(page.locator("h1")).to_have_text("Kunden")

    # Open the customer and start a transaction from the template with the predefined lab.
    page.get_by_role("link", name="Mustermann, Erika").click()
    screenshot(page, "customer-detail.png")
    page.select_option("[data-testid=template-select]", label="Otoplastik Dreve")
    page.click("#start-transaction")
    expect(page.locator("#step-list")).to_contain_text("Otoplastik bestellen")
    txn = Transaction.objects.get(customer=customer)

    # The Bestellservice step: Dreve is preselected (R6) and the preview says where it goes.
    page.click("#open-order-service")
    company = page.locator("#id_company")
    expect(company).to_be_focused()
    expect(company).to_have_value(str(dreve.pk))
    preview = page.locator("#resolution-preview")
    expect(preview).to_have_attribute("data-outcome", "ready")
    expect(preview).to_contain_text("wird über Standard Bestellprozess per E-Mail (PDF)")
    expect(preview).to_contain_text(f"an {dreve_supplier.display_name} bestellt")

    # The live preview follows the company select (htmx).
    company.select_option(label="– keine Firma –")
    expect(preview).to_contain_text("Ohne Firma wird keine Bestellung erstellt")
    company.select_option(label="Egger")
    expect(preview).to_have_attribute("data-outcome", "supplier_required")
    expect(preview).to_contain_text("Bitte Lieferanten wählen")
    settled(page)
    page.select_option("#id_supplier", label="Egger Direkt · E-Mail (PDF)")
    expect(preview).to_contain_text("an Egger Direkt bestellt")
    settled(page)
    company.select_option(label="Dreve")
    expect(preview).to_contain_text(f"an {dreve_supplier.display_name} bestellt")
    expect(page.locator("#id_supplier")).to_have_value(str(dreve_supplier.pk))

    # Fill in the right ear.
    page.check("[data-testid=order-right]")
    page.select_option("#id_right-product_family", "bte")
    page.select_option("#id_right-style", "shell")
    page.select_option("#id_right-material", "acrylic")
    page.fill("#id_right-colour", "transparent")
    page.select_option("#id_right-vent_type", "parallel")
    page.fill("#id_right-vent_diameter_mm", "1,5")
    page.fill("#id_notes", "Bitte mit Ausziehfaden.")

    # Forgetting the tube: the error shows at the field, nothing typed is lost.
    page.click("#submit-order")
    tube = page.locator("#id_right-tube")
    expect(tube).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(tube).to_be_focused()
    expect(page.locator("#form-errors")).to_contain_text("nicht erstellt")
    expect(page.locator("[data-testid=ear-right]")).to_contain_text("braucht einen Schlauch")
    expect(page.locator("#id_right-colour")).to_have_value("transparent")
    expect(page.locator("#id_right-vent_diameter_mm")).to_have_value("1,5")
    expect(page.locator("#id_notes")).to_have_value("Bitte mit Ausziehfaden.")
    expect(page.locator("#id_company")).to_have_value(str(dreve.pk))
    screenshot(page, "order-form-error.png")
    assert not EarmouldOrder.objects.exists()

    tube.select_option("standard_2_1")
    screenshot(page, "order-form.png")

    # Submit and land on the order detail.
    page.click("#submit-order")
    expect(page).to_have_url(re.compile(r"/bestellungen/[0-9a-f-]{36}/$"))
    order = EarmouldOrder.objects.get(transaction=txn)
    expect(page.locator("#order-number")).to_have_text(order.number)
    expect(page.locator("#order-status")).to_have_attribute("data-status", "queued")
    expect(page.locator("#order-status")).to_have_text("Erstellt – wartet auf Versand")
    expect(page.locator("#item-right")).to_contain_text("Schale")
    expect(page.locator("#order-history")).to_contain_text("Bestellung erstellt")
    screenshot(page, "order-detail.png")
    assert order.items.get().side == "right"
    assert order.supplier == dreve_supplier

    # While in flight the page checks its live status every 2 s: a status change shows up
    # without reloading; an open order that is no longer in flight is checked less often.
    region = page.locator("#live-region")
    expect(region).to_have_attribute("hx-trigger", "every 2000ms, live-check")
    for status in (OrderStatus.SENDING, OrderStatus.AWAITING_MANUAL):
        set_status(order, status, source=EventSource.WORKER, message="Bestellformular bereit")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_manual", timeout=10_000)
    expect(page.locator("#confirm-order")).to_be_visible()
    expect(region).to_have_attribute("hx-trigger", "every 5000ms, live-check")
    page.click("#confirm-order")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "ordered")
