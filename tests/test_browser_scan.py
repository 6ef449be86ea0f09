"""Chromium: staff upload a scan for a customer's ear and see it in the 3D view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import expect

from otoorder.orders import scans
from otoorder.orders.models import Impression
from tests import scan_files
from tests.browser import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def test_upload_scan_and_see_the_3d_view(page, live_server, alice, customer, tmp_path):
    scan = tmp_path / "Mustermann rechts.stl"
    scan.write_bytes(scan_files.ellipsoid_stl())
    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("orders:customer_impressions", args=[customer.pk]))
    page.locator("#add-impression-right").click()
    page.get_by_label("3D-Scan").check()
    page.locator("input[type=file]").set_input_files(str(scan))
    page.fill("input[name=scanner]", "Otoscan")
    page.locator("#save-impression").click()

    viewer = page.locator("#scan-viewer")
    viewer.wait_for()
    page.wait_for_function("() => document.getElementById('scan-viewer').dataset.loaded !== 'false'")  # a function: an expression would need eval, which the CSP forbids
    assert viewer.get_attribute("data-loaded") == "true", page.locator("[data-role=status]").all_inner_texts()
    assert viewer.get_attribute("data-triangles") == str(2 * 24 * 24)
    assert viewer.locator("canvas").count() == 1
    impression = Impression.objects.get()
    assert (impression.side, impression.file_format, impression.scanner) == ("right", "stl_binary", "Otoscan")
    assert page.locator("#triangle-count").inner_text() == str(2 * 24 * 24)
    # Two more animation frames, so that the screenshot shows the drawn mesh.
    page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))")
    screenshot(page, "scan-view.png")


def test_garbage_upload_shows_the_reason(page, live_server, alice, customer, tmp_path):
    garbage = tmp_path / "ohr.stl"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 500)
    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("orders:impression_create", args=[customer.pk, "left"]))
    page.locator("input[type=file]").set_input_files(str(garbage))
    page.locator("#save-impression").click()
    expect(page.get_by_text("kein lesbarer STL- oder PLY-Scan")).to_be_visible()
    assert not Impression.objects.exists()


def test_binary_ply_renders_too(page, live_server, alice, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from otoorder.orders import scans

    impression = scans.create_impression(
        customer=customer, side="left", kind="scan", upload=SimpleUploadedFile("l.ply", scan_files.ply_binary(">"))
    )
    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("orders:impression_detail", args=[impression.pk]))
    expect(page.locator("#scan-viewer")).to_have_attribute("data-loaded", "true")
    assert page.locator("#scan-viewer").get_attribute("data-triangles") == "4"
    assert page.locator("#scan-viewer canvas").count() == 1
