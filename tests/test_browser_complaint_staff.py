"""In real Chromium: a complaint raised from the customer's per-ear history ("Reklamieren"),
decided as free but charged to the chain (the flag "Labor berechnet innerhalb der kostenlosen
Nachfertigung"), and the charge warning of the order form inside an existing Vorgang with
``?remake=`` (a changed vent: warned before anything is sent, then confirmed). Screenshots of
the complaint page in German and English (test-artifacts/)."""

import pytest
from django.conf import settings
from django.urls import reverse

from otoorder.complaints.models import Complaint
from otoorder.orders.models import EarmouldOrder
from tests.browser import log_in, screenshot
from tests.complaint_fixtures import delivered

pytestmark = pytest.mark.browser


@pytest.fixture
def setting(transactional_db, customer, dreve, dreve_supplier, alice):
    from otoorder.transactions.models import Transaction
    from tests import factories as f

    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    txn = Transaction.objects.start(customer=customer, template=template, user=alice)
    return template, delivered(txn, dreve_supplier, alice)


@pytest.mark.parametrize("language", ["de", "en"])
def test_complain_from_the_history_and_see_the_lab_charge_flag(live_server, page, alice, customer, setting, language):
    from playwright.sync_api import expect

    _template, order = setting
    log_in(page, live_server, "alice")
    if language == "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    screenshot(page, f"complaint-history-link-{language}.png")
    page.click('#history-left [data-testid="complain-left"]')
    page.wait_for_selector("#complaint-form")
    expect(page.locator("#id_sides_1")).to_be_checked()  # left (right is listed first)
    expect(page.locator("#id_sides_0")).not_to_be_checked()
    expect(page.locator("#required-legend")).to_be_visible()
    page.select_option("#id_reason", "feedback")
    page.check("#id_create_remake")
    screenshot(page, f"complaint-from-history-form-{language}.png")
    page.click("#raise-complaint")
    page.wait_for_selector("#complaint-history")
    complaint = Complaint.objects.get()
    assert complaint.sides == ["left"] and complaint.free_remake
    page.select_option("#id_outcome", "free_remake")
    page.select_option("#id_cost_bearer", "chain")
    page.fill("#id_amount", "45,00")
    page.click("#complaint-decide")
    flag = page.locator('#complaint-cost-bearer [data-testid="lab-charge-flag"]')
    expected = {"de": "Labor berechnet innerhalb der kostenlosen Nachfertigung", "en": "Lab charges within the free remake"}
    expect(flag).to_have_text(expected[language])
    screenshot(page, f"complaint-flagged-{language}.png")
    page.click("#remake-order a")
    page.wait_for_selector("#order-cost-bearer")
    screenshot(page, f"complaint-remake-order-{language}.png")
    expect(page.locator('#order-cost-bearer [data-testid="lab-charge-flag"]')).to_have_text(expected[language])
    page.goto(f"{live_server.url}/reklamationen/?flagged=on")
    expect(page.locator('[data-testid="complaint-row"]')).to_have_count(1)
    screenshot(page, f"complaint-list-flagged-{language}.png")


def test_order_form_of_a_vorgang_warns_before_sending_a_changed_remake(live_server, page, alice, customer, setting):
    from playwright.sync_api import expect

    from otoorder.transactions.models import Transaction

    template, order = setting
    txn = Transaction.objects.start(customer=customer, template=template, user=alice)
    log_in(page, live_server, "alice")
    url = reverse("transactions:order_service", kwargs={"pk": txn.pk})
    page.goto(f"{live_server.url}{url}?remake={order.pk}")
    page.wait_for_selector("#id_right-vent_type", state="visible", timeout=30_000)
    expect(page.locator("#id_order_type")).to_have_value("remake")
    expect(page.locator("#remake-charge-warning")).to_have_count(0)
    page.fill("#id_reason", "pfeift")
    page.select_option("#id_cost_bearer", "customer")
    page.fill("#id_cost_amount", "20,00")
    screenshot(page, "vorgang-remake-form-de.png")
    page.select_option("#id_right-vent_type", "groove")
    page.click("#submit-order")
    # The POST is held back by the server: the form comes back with the warning.
    page.wait_for_selector("#remake-charge-warning", timeout=30_000)
    warning = page.locator("#remake-charge-warning")
    expect(warning).to_contain_text("Das Labor kann diese Nachfertigung berechnen: rechtes Ohr geändert: Zusatzbohrung.")
    expect(warning).to_contain_text("Noch nicht abgeschickt")
    assert not EarmouldOrder.objects.filter(original_order=order).exists()
    screenshot(page, "vorgang-remake-warning-de.png")
    page.click("#submit-order")
    expect(page.locator("#original-order")).to_have_text(order.number)
    remake = EarmouldOrder.objects.get(original_order=order)
    assert remake.transaction_id == txn.pk and remake.items.get(side="right").vent_type == "groove"
    assert (remake.cost_bearer, str(remake.cost_amount)) == ("customer", "20.00")
