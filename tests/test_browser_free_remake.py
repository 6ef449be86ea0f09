"""In real Chromium: the per-ear history shows the free-remake window, and the remake form
warns that the lab may charge for a changed vent before the remake is sent (German and
English screenshots in test-artifacts/)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from otoorder.orders.models import EarmouldOrder
from tests import factories as f
from tests.browser import log_in, screenshot
from tests.lifecycle_fixtures import ordered_order

pytestmark = pytest.mark.browser


@pytest.fixture
def delivered(transactional_db, customer, dreve, dreve_supplier, alice):
    """A binaural order received ten days ago; the lab's conditions are set."""
    dreve_supplier.remake_conditions = "Kostenlos nur mit der alten Otoplastik und unserer Auftragsnummer."
    dreve_supplier.save()
    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    txn = f.TransactionFactory(customer=customer, template=template, started_by=alice)
    order = ordered_order(txn, dreve_supplier, alice)
    EarmouldOrder.objects.filter(pk=order.pk).update(received_at=timezone.now() - timedelta(days=10), status="received")
    order.refresh_from_db()
    return order


def test_history_window_and_the_remake_warning(live_server, page, alice, customer, delivered):
    from playwright.sync_api import expect

    fit_until = (timezone.localdate() + timedelta(days=80)).strftime("%d.%m.%Y")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    right = page.locator("#history-right .history-item .free-remake")
    expect(right).to_contain_text(f"kostenlose Nachfertigung bis {fit_until} (Passform)")
    expect(page.locator("#history-left .history-item .free-remake")).to_contain_text("(Material)")
    screenshot(page, "free-remake-history-de.png")

    page.goto(f"{live_server.url}/bestellungen/{delivered.pk}/")
    page.fill("#remake_reason", "pfeift")
    page.click("#remake-order")
    expect(page.locator("#id_order_type")).to_have_value("remake")
    expect(page.locator("#remake-charge-warning")).to_have_count(0)
    page.select_option("#id_right-vent_type", "groove")
    page.click("#submit-order")
    warning = page.locator("#remake-charge-warning")
    expect(warning).to_contain_text("Das Labor kann diese Nachfertigung berechnen: rechtes Ohr geändert: Zusatzbohrung.")
    expect(warning).to_contain_text("unserer Auftragsnummer")
    assert not EarmouldOrder.objects.filter(original_order=delivered).exists()
    screenshot(page, "free-remake-warning-de.png")

    # The same in English, then the remake is ordered anyway.
    page.locator("#language-menu button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    expect(page.locator("#history-right .history-item .free-remake")).to_contain_text(f"free remake until {fit_until} (fit)")
    screenshot(page, "free-remake-history-en.png")
    page.goto(f"{live_server.url}/bestellungen/{delivered.pk}/")
    page.fill("#remake_reason", "whistles")
    page.click("#remake-order")
    page.select_option("#id_right-vent_type", "groove")
    page.click("#submit-order")
    expect(page.locator("#remake-charge-warning")).to_contain_text("The lab may charge for this remake: right ear changed: Vent.")
    screenshot(page, "free-remake-warning-en.png")
    page.click("#submit-order")
    expect(page.locator("#original-order")).to_have_text(delivered.number)
    remake = EarmouldOrder.objects.get(original_order=delivered)
    assert remake.items.get(side="right").vent_type == "groove"
