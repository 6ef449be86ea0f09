"""In real Chromium: a binaural re-order within four clicks, the form's family fields and
copy action, a remake linked to its original, goods receipt and fitting, and the per-ear
history showing them all. No worker runs: new orders stay queued."""

import pytest

from otoorder.vocabulary import ImpressionKind
from otoorder.orders.models import EarmouldOrder, Impression
from tests import factories as f
from tests.browser import log_in, screenshot
from tests.lifecycle_fixtures import ordered_order

pytestmark = pytest.mark.browser


class Clicks:
    """Counts the clicks staff make (page.click through here)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, selector):
        self.count += 1
        self.page.click(selector)


@pytest.fixture
def previous(transactional_db, customer, dreve, dreve_supplier, alice):
    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    txn = f.TransactionFactory(customer=customer, template=template, started_by=alice)
    scan = Impression.objects.create(customer=customer, side="right", kind=ImpressionKind.SCAN, reference="Scan R")
    box = Impression.objects.create(customer=customer, side="left", reference="Box L")
    items = [
        f.bte_item("right", impression=scan.pk, colour="rot", engraving="ERIKA"),
        f.ric_item("left", impression=box.pk, receiver_type="Phonak M"),
    ]
    return ordered_order(txn, dreve_supplier, alice, items=items)


def test_binaural_reorder_within_four_clicks(live_server, page, alice, customer, previous):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    click = Clicks(page)
    click("#reorder-both")
    expect(page.locator("#id_right-colour")).to_have_value("rot")
    expect(page.locator("#id_left-receiver_type")).to_have_value("Phonak M")
    expect(page.locator("#id_order_type")).to_have_value("reorder_from_scan")
    screenshot(page, "order-form.png")
    click("#submit-order")
    expect(page.locator("#order-number")).to_be_visible()
    assert click.count <= 4
    new = EarmouldOrder.objects.exclude(pk=previous.pk).get()
    assert sorted(new.items.values_list("side", flat=True)) == ["left", "right"]
    assert new.order_type == "reorder_from_scan" and new.supplier == previous.supplier
    assert new.items.get(side="right").engraving == "ERIKA"
    assert new.items.get(side="left").impression_id == previous.items.get(side="left").impression_id


def test_family_fields_and_copy_to_the_other_ear(live_server, page, alice, customer, previous):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    page.click("#reorder-right")
    # RIC shows the receiver and hides the tube; protection shows the filter.
    page.select_option("#id_right-product_family", "ric")
    expect(page.locator("#id_right-receiver_power")).to_be_visible()
    expect(page.locator("#id_right-tube")).to_be_hidden()
    expect(page.locator("#id_right-protection_filter")).to_be_hidden()
    page.select_option("#id_right-product_family", "hearing_protection")
    expect(page.locator("#id_right-protection_filter")).to_be_visible()
    expect(page.locator("#id_right-receiver_power")).to_be_hidden()
    page.select_option("#id_right-material", "silicone")
    expect(page.locator("#id_right-shore_hardness")).to_be_visible()
    page.fill("#id_right-shore_hardness", "40")
    page.select_option("#id_right-protection_filter", "music_15")
    page.select_option("#id_right-style", "canal")
    page.select_option("#id_right-vent_type", "none")
    page.fill("#id_right-vent_diameter_mm", "")
    # One action copies the ear to the other (and orders it).
    page.click("#copy-right-to-left")
    for name in ("product_family", "style", "material", "shore_hardness", "protection_filter", "colour"):
        expect(page.locator(f"#id_left-{name}")).to_have_value(page.locator(f"#id_right-{name}").input_value())
    expect(page.locator("[data-testid=order-left]")).to_be_checked()
    expect(page.locator("#id_left-impression")).to_have_value("")
    page.click("#submit-order")
    expect(page.locator("#order-number")).to_be_visible()
    new = EarmouldOrder.objects.exclude(pk=previous.pk).get()
    assert {i.side: (i.product_family, i.shore_hardness, i.protection_filter) for i in new.items.all()} == {
        "right": ("hearing_protection", 40, "music_15"),
        "left": ("hearing_protection", 40, "music_15"),
    }


def test_remake_receipt_fitting_and_history(live_server, page, alice, customer, previous):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    # Goods receipt and fitting of the previous order.
    page.goto(f"{live_server.url}/bestellungen/{previous.pk}/")
    page.fill("#receive_serial_right", "SN-R-4711")
    page.fill("#receive_serial_left", "SN-L-4712")
    page.click("#receive-order")
    expect(page.locator("#serial-right")).to_have_text("SN-R-4711")
    page.fill("#fit_warranty_months", "24")
    page.click("#fit-order")
    expect(page.locator("#warranty-until")).to_be_visible()
    previous.refresh_from_db()
    assert previous.status == "fitted" and previous.warranty_until is not None

    # Reklamation: the form opens as a remake linked to the original; the reason is required.
    page.click("#remake-order")
    expect(page.locator("#id_order_type")).to_have_value("remake")
    expect(page.locator("#id_original_order")).to_have_value(str(previous.pk))
    page.click("#submit-order")
    expect(page.locator("#id_reason")).to_have_class(__import__("re").compile("is-invalid"))
    expect(page.locator("#id_right-colour")).to_have_value("rot")
    page.fill("#id_reason", "drückt im Gehörgang")
    page.click("#submit-order")
    expect(page.locator("#original-order")).to_have_text(previous.number)
    remake = EarmouldOrder.objects.get(original_order=previous)
    assert remake.reason == "drückt im Gehörgang"

    # The per-ear history: both orders per ear, the remake first and linked, serials, warranty.
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    right = page.locator("#history-right .history-item")
    expect(right).to_have_count(2)
    expect(right.nth(0)).to_contain_text(remake.number)
    expect(right.nth(0).locator(".remake-link")).to_contain_text(previous.number)
    expect(right.nth(1)).to_contain_text("SN-R-4711")
    expect(right.nth(1)).to_contain_text("Gewährleistung bis")
    expect(page.locator("#history-left .history-item").nth(1)).to_contain_text("SN-L-4712")
    screenshot(page, "customer-history.png")
