"""The portal hand-off in Chromium, every part real (issue [2]).

alice orders through the Bestellservice step for a lab whose interface is a web portal
(audia Easy Order Web-Portal; egger's legacy Bestellsystem works the same way). A real Celery
worker brings the order to ``awaiting_portal``; the order page offers „Im Portal fortsetzen“,
which sends the browser to the sandbox lab's portal (``otoorder/sandbox/portal.py``, started
in-process on a free port). The portal checks the signed hand-off and shows the order; its
„Bestellen“ POSTs the signed callback to the live server's ``/api/v1/callbacks/<id>/`` and
sends the browser back to the order page, which shows the order confirmed by the lab with
the lab's number and Bestelldaten.
"""

import re
from urllib.parse import urlsplit

import pytest

from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import EarmouldOrder
from otoorder.sandbox.server import SandboxLab
from tests import factories as f
from tests.browser import log_in, screenshot

from .conftest import free_port
from .labkit import lab_supplier

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: backend → (sandbox portal, its title, prefix of its order numbers, lab name)
PORTALS = {
    "audia_easy_order_portal": ("audia", "audia Easy Order Web-Portal (Sandbox)", "AUP", "audia Portal"),
    "egger_bestellsystem": ("egger", "egger Bestellsystem (Sandbox)", "EGP", "egger (alt)"),
}
SECRETS = {"audia": "sandbox-audia-portal-geheimnis", "egger": "sandbox-egger-portal-geheimnis"}
ACCOUNT = "AP-7301"


@pytest.fixture
def sandbox():
    """The sandbox lab on a free loopback port, knowing the portals' callback secrets."""
    config = {"portals": {name: {"shared_secret": secret} for name, secret in SECRETS.items()}}
    lab = SandboxLab(config, port=0).start(background=False)
    try:
        yield lab
    finally:
        lab.stop()


def portal_lab(backend, sandbox, branch):
    """The lab, its interface definition against the sandbox's portal, and a template for it."""
    name, _title, _prefix, lab_name = PORTALS[backend]
    supplier = lab_supplier(lab_name, branch, ACCOUNT)
    definition = f.InterfaceDefinitionFactory(
        chain=branch.chain,
        name=f"{lab_name} (Sandbox)",
        backend=backend,
        supplier=supplier,
        companies=[supplier.company],
        options={"portal_url": f"{sandbox.url}/{name}-portal/"},
        secrets={"shared_secret": SECRETS[name]},
    )
    f.TemplateFactory(name=f"Otoplastik {lab_name}", steps__company=supplier.company, steps__supplier=supplier)
    return definition


def order_right_ear(page):
    page.check("[data-testid=order-right]")
    page.select_option("#id_right-product_family", "bte")
    page.select_option("#id_right-style", "shell")
    page.select_option("#id_right-material", "acrylic")
    page.fill("#id_right-colour", "transparent")
    page.select_option("#id_right-vent_type", "parallel")
    page.fill("#id_right-vent_diameter_mm", "1,5")
    page.select_option("#id_right-tube", "standard_2_1")


@pytest.mark.parametrize("backend", list(PORTALS))
def test_staff_finish_the_order_in_the_portal_and_see_it_confirmed(
    backend, live_server, start_worker, sandbox, page, alice, customer
):
    from playwright.sync_api import expect

    name, title, prefix, lab_name = PORTALS[backend]
    definition = portal_lab(backend, sandbox, customer.branch)
    # Nothing of a portal order goes by mail: an address nobody listens on.
    start_worker(email_url=f"smtp://127.0.0.1:{free_port()}")

    log_in(page, live_server, "alice")
    # The start page is the worklist; the customer is found under "Kunden".
    page.get_by_role("link", name="Kunden", exact=True).click()
    page.get_by_role("link", name="Mustermann, Erika").click()
    page.select_option("[data-testid=template-select]", label=f"Otoplastik {lab_name}")
    page.click("#start-transaction")
    page.click("#open-order-service")
    expect(page.locator("#resolution-preview")).to_have_attribute("data-outcome", "ready")
    expect(page.locator("#resolution-preview")).to_contain_text(definition.backend_label)
    order_right_ear(page)
    page.click("#submit-order")

    expect(page).to_have_url(re.compile(r"/bestellungen/[0-9a-f-]{36}/$"))
    order_page = page.url
    order = EarmouldOrder.objects.get(customer=customer)
    # The worker "sends" it; the page refreshes itself until the hand-off is offered.
    expect(page.locator("#order-status")).to_have_attribute("data-status", "awaiting_portal", timeout=30_000)
    expect(page.locator("#portal-hint")).to_contain_text(definition.backend_label)
    handoff = page.locator("#portal-handoff")
    expect(handoff).to_have_text("Im Portal fortsetzen")

    handoff.click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(sandbox.url)}/{name}-portal/\?.*&sig=[0-9a-f]{{64}}$"))
    expect(page.locator("h1")).to_have_text(title)
    portal_page = page.locator("body")
    expect(portal_page).to_contain_text(order.number)
    expect(portal_page).to_contain_text(ACCOUNT)
    expect(portal_page).to_contain_text("Ohr rechts")
    expect(portal_page).not_to_contain_text("Mustermann")  # the portal gets a reference, never the name
    assert urlsplit(page.url).query.count("order_id=") == 1
    screenshot(page, f"portal-{backend}-handoff.png")

    page.get_by_role("button", name="Bestellen").click()
    expect(page).to_have_url(order_page)
    reference = f"{prefix}-{str(order.pk)[:8].upper()}"
    expect(page.locator("#order-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#order-status")).to_have_text("vom Labor bestätigt")
    expect(page.locator("#external-reference")).to_contain_text(reference)
    expect(page.locator("#lab-properties")).to_contain_text("lackiert")
    expect(page.locator("#order-history")).to_contain_text("Statusmeldung des Labors: confirmed")
    expect(page.locator("#portal-handoff")).to_have_count(0)
    expect(page.locator("#status-panel")).to_have_attribute("data-in-flight", "false")
    screenshot(page, f"portal-{backend}-confirmed.png")

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED and order.external_reference == reference
    assert order.lab_properties == {
        "right": {
            "style": "shell",
            "material": "acrylic",
            "colour": "transparent",
            "vent_type": "parallel",
            "vent_diameter_mm": "1.5",
            "tube": "standard_2_1",
            "surface_finish": "lackiert",
        }
    }
    assert order.interface_definition == definition
    assert list(order.attempts.values_list("outcome", flat=True)) == ["awaiting_portal"]
