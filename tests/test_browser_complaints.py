"""In real Chromium: from a delivered order, staff record a complaint (ear, reason, photo,
remake), see the case with its history and record the lab's decision with who pays.
Screenshots of the form and the complaint page in German and English (test-artifacts/)."""

import pytest
from django.conf import settings

from otoorder.complaints.models import Complaint
from tests.browser import log_in, screenshot
from tests.complaint_fixtures import PNG, delivered

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.mark.parametrize("language", ["de", "en"])
def test_record_a_complaint_and_the_decision(
    transactional_db, live_server, page, alice, customer, dreve, dreve_supplier, language, tmp_path
):
    from otoorder.transactions.models import Transaction
    from tests import factories as f

    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    txn = Transaction.objects.start(customer=customer, template=template, user=alice)
    order = delivered(txn, dreve_supplier, alice)
    photo = tmp_path / "ohr.png"
    photo.write_bytes(PNG)
    log_in(page, live_server, "alice")
    if language == "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    page.click("#raise-complaint-link")
    page.wait_for_selector("#complaint-form")
    page.click("#raise-complaint")
    page.wait_for_selector('[data-testid="sides-error"]')
    page.check("#id_sides_0")
    page.select_option("#id_reason", "feedback")
    page.fill("#id_description", "pfeift beim Kauen")
    page.set_input_files("#id_photos", str(photo))
    page.check("#id_return_old_mould")
    page.check("#id_create_remake")
    screenshot(page, f"complaint-form-{language}.png")
    page.click("#raise-complaint")
    page.wait_for_selector("#complaint-history")
    complaint = Complaint.objects.get()
    assert complaint.remake_order is not None and complaint.photos.count() == 1
    assert complaint.remake_order.number in page.inner_text("#remake-order")
    page.select_option("#id_outcome", "free_remake")
    page.select_option("#id_cost_bearer", "lab")
    page.click("#complaint-decide")
    page.wait_for_selector("#complaint-close")
    expected = {"de": "Labor (Gewährleistung)", "en": "Lab (warranty)"}[language]
    assert expected in page.inner_text("#complaint-cost-bearer")
    screenshot(page, f"complaint-detail-{language}.png")
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    assert page.locator('[data-testid="order-complaint"]').count() == 1


@pytest.mark.parametrize("language", ["de", "en"])
def test_chain_admin_adds_a_reason(transactional_db, live_server, page, dave, chain, language):
    log_in(page, live_server, "dave")
    if language == "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/reklamationen/gruende/")
    page.fill("#id_code", "schlauch")
    page.fill("#id_label", "Schlauch verhärtet")
    page.select_option("#id_category", "material")
    page.click("#save-reason")
    page.wait_for_selector("text=Schlauch verhärtet")
    assert chain.complaint_reasons.filter(code="schlauch").exists()
    screenshot(page, f"complaint-reasons-{language}.png")
