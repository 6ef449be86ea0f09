"""In real Chromium: a binaural order with 3D scans, starting from a customer who does not exist
yet. No worker runs: the order stays queued."""

import re

import pytest

from otoorder.orders.models import EarmouldOrder, Impression
from otoorder.transactions.models import Customer
from tests import factories as f
from tests import scan_files
from tests.browser import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def upload_scan(page, side, path, scanner):
    """Records a scan for one ear from the customer page and waits for the 3D view."""
    from playwright.sync_api import expect

    page.click(f"#add-impression-{side}")
    page.get_by_label("3D-Scan").check()
    page.locator("input[type=file]").set_input_files(str(path))
    page.fill("input[name=scanner]", scanner)
    page.click("#save-impression")
    expect(page.locator("#scan-viewer")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#scan-viewer canvas")).to_have_count(1)


def test_binaural_order_with_scans_from_an_empty_customer(live_server, page, alice, dreve, dreve_supplier, tmp_path):
    from playwright.sync_api import expect

    f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    right_file = tmp_path / "Sommer rechts.stl"
    right_file.write_bytes(scan_files.ellipsoid_stl())
    left_file = tmp_path / "Sommer links.ply"
    left_file.write_bytes(scan_files.ply_binary("<"))

    # A new customer through the UI.
    log_in(page, live_server, "alice")
    page.get_by_role("link", name="Kunden", exact=True).click()  # from the start page, the worklist
    page.click("#new-customer")
    page.fill("#id_first_name", "Jonas")
    page.fill("#id_last_name", "Sommer")
    page.click("#save-customer")
    expect(page.locator("#customer-data")).to_contain_text("Sommer")
    customer = Customer.objects.get(last_name="Sommer")
    assert customer.branch == alice.memberships.get().branch
    expect(page.locator("#impressions")).to_contain_text("Noch kein Abdruck und kein Scan.")
    customer_url = page.url

    # One scan per ear, each seen in the 3D view.
    upload_scan(page, "right", right_file, "Otoscan")
    expect(page.locator("#triangle-count")).to_have_text(str(2 * 24 * 24))
    page.goto(customer_url)
    upload_scan(page, "left", left_file, "Otoscan")
    expect(page.locator("#triangle-count")).to_have_text("4")
    right_scan = Impression.objects.get(customer=customer, side="right")
    left_scan = Impression.objects.get(customer=customer, side="left")
    assert (right_scan.file_format, left_scan.file_format) == ("stl_binary", "ply")

    # Start the transaction and open the Bestellservice step.
    page.goto(customer_url)
    expect(page.locator("#impressions [data-side=right]")).to_contain_text("STL")
    page.select_option("[data-testid=template-select]", label="Otoplastik Dreve")
    page.click("#start-transaction")
    page.click("#open-order-service")
    expect(page.locator("#id_company")).to_have_value(str(dreve.pk))

    # The right ear with its scan, copied to the left, which then gets its own scan.
    page.check("[data-testid=order-right]")
    page.select_option("#id_right-product_family", "bte")
    page.select_option("#id_right-style", "shell")
    page.select_option("#id_right-material", "acrylic")
    page.fill("#id_right-colour", "transparent")
    page.select_option("#id_right-vent_type", "parallel")
    page.fill("#id_right-vent_diameter_mm", "1,5")
    page.select_option("#id_right-tube", "standard_2_1")
    right_select = page.locator("#id_right-impression")
    assert right_select.locator("option").count() == 2  # blank and the right scan only
    right_select.select_option(str(right_scan.pk))
    page.click("#copy-right-to-left")
    expect(page.locator("[data-testid=order-left]")).to_be_checked()
    expect(page.locator("#id_left-style")).to_have_value("shell")
    expect(page.locator("#id_left-tube")).to_have_value("standard_2_1")
    expect(page.locator("#id_left-impression")).to_have_value("")
    page.select_option("#id_left-impression", str(left_scan.pk))
    screenshot(page, "binaural-scan-order.png")
    page.click("#submit-order")

    # The order page shows both ears with their scans.
    expect(page).to_have_url(re.compile(r"/bestellungen/[0-9a-f-]{36}/$"))
    order = EarmouldOrder.objects.get(customer=customer)
    expect(page.locator("#order-number")).to_have_text(order.number)
    expect(page.locator("#order-status")).to_have_attribute("data-status", "queued")
    expect(page.locator("#item-right")).to_contain_text(str(right_scan))
    expect(page.locator("#item-left")).to_contain_text(str(left_scan))
    expect(page.locator("#item-left")).to_contain_text("Schale")

    items = {item.side: item for item in order.items.all()}
    assert set(items) == {"right", "left"}
    assert items["right"].impression_id == right_scan.pk
    assert items["left"].impression_id == left_scan.pk
    assert (items["left"].style, items["left"].tube) == ("shell", "standard_2_1")
    assert order.status == "queued" and order.supplier == dreve_supplier
