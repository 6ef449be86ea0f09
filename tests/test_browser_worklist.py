"""In real Chromium: the staff's start page, the open-orders worklist, with an order in every
count; its counts and badges, filters, search as you type, use by keyboard alone, and a
label's QR code scanned into the search field (a hand scanner types the number and Enter)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from otoorder.orders.choices import OrderStatus, WorklistCount
from tests import factories as f
from tests.browser import log_in, screenshot
from tests.test_worklist import one

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = OrderStatus
DAY = timedelta(days=1)


@pytest.fixture
def board(transaction_obj, dreve_supplier, alice):
    today = timezone.localdate()
    egger = f.SupplierFactory(company=f.CompanyFactory(name="Egger"), name="Egger Otoplastik")
    t, d = transaction_obj, dreve_supplier
    return {
        "failed": one(t, d, "FAIL", status=S.FAILED),
        "on_hold": one(t, egger, "HOLD", status=S.ON_HOLD, eta=today + 5 * DAY),
        "queued": one(t, d, "QUEUE", status=S.QUEUED),
        "late": one(t, d, "LATE", status=S.CONFIRMED, eta=today - 3 * DAY, external_reference="LAB-4711", date_required=today - 2 * DAY),
        "at_lab": one(t, egger, "LAB", status=S.IN_PRODUCTION, eta=today + 4 * DAY, date_required=today + 9 * DAY),
        "shipped": one(t, d, "SHIP", status=S.SHIPPED, eta=today + 2 * DAY, tracking_number="00340434161094042557"),
        "arrived": one(t, egger, "ARRIVED", status=S.SHIPPED, eta=today, sides=("left",)),
        "received": one(t, d, "RECV", status=S.RECEIVED, sides=("right",)),
        "closed": one(t, d, "CLOSED", status=S.CLOSED),
    }


def rows(page):
    return page.locator("#order-table tbody tr")


def mark_window(page):
    page.evaluate("window.worklistMark = 'not reloaded'")


def not_reloaded(page):
    return page.evaluate("window.worklistMark") == "not reloaded"


def tab_to(page, selector, limit=60):
    """Press Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement && document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} never got the focus")


def test_start_page_counts_badges_filters_and_search(live_server, page, board):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    assert page.url == f"{live_server.url}/bestellungen/"
    expected = {
        WorklistCount.ATTENTION: 3, WorklistCount.ORDERING: 1, WorklistCount.AT_LAB: 2,
        WorklistCount.IN_TRANSIT: 1, WorklistCount.RECEIPT_DUE: 1, WorklistCount.TO_FIT: 1,
    }
    for key, n in expected.items():
        expect(page.get_by_test_id(f"count-{key}")).to_have_text(str(n))
        expect(page.get_by_test_id(f"count-{key}")).to_be_visible()
    expect(rows(page)).to_have_count(8)
    # Every badge says its status in words, in its category's colour.
    for status, category, css in [
        ("failed", "attention", "text-bg-danger"), ("queued", "ordering", "text-bg-warning"),
        ("in_production", "at_lab", "text-bg-primary"), ("shipped", "in_transit", "text-bg-info"),
        ("received", "to_fit", "text-bg-success"),
    ]:
        badge = page.locator(f"#order-table [data-status={status}]").first
        expect(badge).to_be_visible()
        expect(badge).to_have_attribute("data-category", category)
        expect(badge).to_have_class(re.compile(css))
        assert badge.inner_text().strip()
    expect(rows(page).filter(has_text="LATE-").locator(".order-days-late")).to_have_text("3")
    expect(rows(page).filter(has_text="RECV-").locator(".order-ears")).to_have_text("rechts")
    expect(rows(page).filter(has_text="LAB-000001").locator(".order-ears")).to_have_text("rechts, links")
    screenshot(page, "worklist-de.png")

    # A count narrows the table.
    page.get_by_role("link", name=re.compile("^beim Labor")).click()
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#worklist-counts [aria-current=true]")).to_contain_text("beim Labor")
    # A checkbox applies on change, combined with the count.
    page.get_by_label("nur überfällige").check()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("LATE-000001")
    page.get_by_role("link", name="alle offenen", exact=True).click()
    expect(rows(page)).to_have_count(8)

    # Several statuses at once (and the finished ones on request).
    page.locator("#status-filter summary").click()
    page.get_by_label("vom Labor abgelehnt").check()  # applies on change
    page.get_by_label("fehlgeschlagen").check()
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#status-filter")).to_have_attribute("open", "")  # stays open with a choice
    page.get_by_label("Abgeschlossen").check()
    expect(rows(page)).to_have_count(2)
    page.get_by_role("link", name="alle offenen", exact=True).click()

    # Search as you type: the table narrows without a reload, the URL follows.
    mark_window(page)
    page.get_by_label("Suche").fill("lab-47")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("LATE-000001")
    assert not_reloaded(page) and "q=lab-47" in page.url
    page.get_by_label("Suche").fill("Mustermann")
    expect(rows(page)).to_have_count(8)
    page.get_by_label("Suche").fill("003404341610")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("SHIP-000001")
    assert not_reloaded(page)

    # Sorting by a column: aria-sort says how.
    page.goto(f"{live_server.url}/bestellungen/")
    page.get_by_role("link", name="voraussichtlich").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("voraussichtlich")
    expect(rows(page).first).to_contain_text("LATE-000001")
    page.get_by_role("link", name="voraussichtlich").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("voraussichtlich")


def test_worklist_by_keyboard_alone(live_server, page, board):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    mark_window(page)

    # Tab to the search, type: the table narrows.
    tab_to(page, "#id_q")
    page.keyboard.type("lab-4711")
    expect(rows(page)).to_have_count(1)
    # Tab on to the row's link (the focus is visible), Enter opens the order.
    tab_to(page, "[data-testid=order-link]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/bestellungen/{board['late'].pk}/$"))

    # Filter by keyboard: arrow keys in a select do nothing until the button is pressed.
    page.goto(f"{live_server.url}/bestellungen/")
    mark_window(page)
    tab_to(page, "#id_supplier")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(rows(page)).to_have_count(8)
    assert not_reloaded(page) and "supplier=" not in page.url
    tab_to(page, "#apply-filters")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"supplier="))
    expect(rows(page)).to_have_count(3)  # Egger's (the second choice)
    # A checkbox by Space applies at once.
    tab_to(page, "#id_needs_attention")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"needs_attention=on"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("HOLD-000001")


def test_a_scanned_label_opens_the_order(live_server, page, board):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    search = page.get_by_label("Suche")
    search.focus()
    # A hand scanner types the QR code's text quickly and presses Enter.
    page.keyboard.type(board["at_lab"].number, delay=5)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/bestellungen/{board['at_lab'].pk}/$"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "in_production")
    # Part of a number opens nothing: the table shows what matches.
    page.goto(f"{live_server.url}/bestellungen/?q=000001")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")


def test_start_page_in_english(live_server, browser, board):
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"}, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", f.PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Open orders")
        expect(page.locator("#worklist-counts")).to_contain_text("Needs attention")
        expect(page.locator("#order-table [data-status=failed]").first).to_have_text("failed")
        screenshot(page, "worklist-en.png")
    finally:
        context.close()


def test_a_chain_admin_chooses_the_branch(live_server, page, board, dave, nord, template, dreve_supplier, bob):
    from playwright.sync_api import expect

    customer = f.CustomerFactory(branch=nord, first_name="Otto", last_name="Nordmann")
    one(f.TransactionFactory(customer=customer, template=template, started_by=bob), dreve_supplier, "NORD", status=S.FAILED)
    log_in(page, live_server, "dave")
    expect(page.get_by_label("Filiale")).to_have_value("")  # alle Filialen
    expect(rows(page)).to_have_count(9)
    expect(page.get_by_test_id("count-attention")).to_have_text("4")
    screenshot(page, "worklist-chain-admin-de.png")
    page.get_by_label("Filiale").select_option(label="Filiale Nord")
    expect(rows(page)).to_have_count(9)  # a select acts only with the button
    page.get_by_role("button", name="Filtern").click()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_test_id("count-attention")).to_have_text("1")


def test_the_worklist_follows_the_lab_and_keeps_the_keyboards_place(live_server, page, settings, board):
    from playwright.sync_api import expect

    from otoorder.orders import lifecycle
    from otoorder.orders.choices import EventSource

    settings.OTOORDER_LIVE = {"INTERVAL": 1.0, "IN_FLIGHT_INTERVAL": 1.0, "HIDDEN_INTERVAL": 60.0}
    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_have_text("Offene Bestellungen")
    mark_window(page)
    link = rows(page).filter(has_text="LAB-000001").get_by_test_id("order-link")
    link.focus()
    lifecycle.set_status(board["at_lab"], S.SHIPPED, source=EventSource.LAB)
    expect(rows(page).filter(has_text="LAB-000001").locator("[data-status]")).to_have_attribute("data-status", "shipped", timeout=10_000)
    expect(page.get_by_test_id("count-in_transit")).to_have_text("2")
    expect(rows(page).filter(has_text="LAB-000001").get_by_test_id("order-link")).to_be_focused()
    assert not_reloaded(page)
