"""In real Chromium, the walk-through's visual defects (issue [6], point 4): required fields
marked before the first error, long choices not cut off, the customer search as you type, the
question before a duplicate customer, and the 403 page in German and English. Screenshots go
to test-artifacts/ in German and English."""

import pytest

from otoorder.orders.models import Impression
from otoorder.transactions.models import Customer
from tests import factories as f
from tests.browser import log_in, screenshot

pytestmark = pytest.mark.browser

#: For every visible select of the page: the width of its longest choice and the room its box
#: leaves for text (without padding and the arrow), in CSS pixels.
CHOICE_WIDTHS = """
() => [...document.querySelectorAll('select')].filter((el) => el.offsetParent !== null).map((el) => {
  const style = getComputedStyle(el);
  const context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const longest = Math.max(0, ...[...el.options].map((option) => context.measureText(option.text).width));
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {name: el.name, longest: Math.ceil(longest), room: Math.floor(room)};
})
"""


def _in_english(page, live_server):
    """The same signed-in page, now in English (the language cookie the language menu sets)."""
    from django.conf import settings

    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    return page


@pytest.fixture
def dreve_txn(transactional_db, customer, dreve, dreve_supplier, alice):
    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    return f.TransactionFactory(customer=customer, template=template, started_by=alice)


def _order_form(page, live_server, txn):
    page.goto(f"{live_server.url}/kunden/vorgang/{txn.pk}/bestellservice/")


def test_order_form_marks_required_fields_and_keeps_the_date_hint(live_server, page, alice, dreve_txn):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    _order_form(page, live_server, dreve_txn)
    expect(page.locator("#required-legend")).to_be_visible()
    # Before any error: the mark is visible and the field says it is required.
    style_label = page.locator("label[for='id_right-style']")
    expect(style_label.locator(".asteriskField")).to_be_visible()
    expect(page.locator("#id_right-style")).to_have_attribute("aria-required", "true")
    expect(page.locator("#id_order_type")).to_have_attribute("aria-required", "true")
    hint = page.locator("#id_date_required_helptext")
    expect(hint).to_contain_text("leer = ")
    shown = hint.inner_text()
    screenshot(page, "defects-order-form-de.png")
    page.check("#id_right-order")
    page.select_option("#id_right-product_family", "bte")
    page.click("#submit-order")
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#id_right-style")).to_have_class("select form-select is-invalid")
    expect(page.locator("#id_date_required_helptext")).to_have_text(shown)
    screenshot(page, "defects-order-form-refused-de.png")

    english_page = _in_english(page, live_server)
    _order_form(english_page, live_server, dreve_txn)
    expect(english_page.locator("#required-legend")).to_contain_text("Required field")
    screenshot(english_page, "defects-order-form-en.png")
    english_page.check("#id_right-order")
    english_page.click("#submit-order")
    expect(english_page.locator("#form-errors")).to_be_visible()
    expect(english_page.locator("#id_date_required_helptext")).to_contain_text("empty = ")
    screenshot(english_page, "defects-order-form-refused-en.png")


@pytest.mark.parametrize("width", [1400, 1250, 1024, 700])
def test_long_choices_are_not_cut_off(live_server, page, alice, customer, dreve_txn, width):
    from playwright.sync_api import expect

    Impression.objects.create(customer=customer, side="right", reference="Box 7 vom Kunden mitgebracht")
    page.set_viewport_size({"width": width, "height": 1000})
    log_in(page, live_server, "alice")
    _order_form(page, live_server, dreve_txn)
    page.check("#id_right-order")
    expect(page.locator("#id_right-impression")).to_be_visible()
    cut = [select for select in page.evaluate(CHOICE_WIDTHS) if select["longest"] > select["room"]]
    assert cut == []


def test_customer_search_as_you_type(live_server, page, alice, customer, mitte):
    from playwright.sync_api import expect

    f.CustomerFactory(branch=mitte, first_name="Hans", last_name="Albers")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/")
    search = page.get_by_label("Kunde suchen")
    expect(search).to_have_class("form-control")
    expect(page.locator("#customer-table")).to_contain_text("Mustermann")
    search.press_sequentially("alb", delay=30)
    # No Enter, no button: the list follows the typing, the count is announced.
    expect(page.locator("#customer-table")).not_to_contain_text("Mustermann")
    expect(page.locator("#customer-table")).to_contain_text("Albers")
    expect(page.locator("#customer-result-count")).to_have_text("1 Kunde gefunden")
    assert "q=alb" in page.url
    screenshot(page, "defects-customer-search-de.png")
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    screenshot(page, "defects-customer-page-de.png")

    english_page = _in_english(page, live_server)
    english_page.goto(f"{live_server.url}/kunden/")
    english_page.get_by_label("Search customers").press_sequentially("muster", delay=30)
    expect(english_page.locator("#customer-result-count")).to_have_text("1 customer found")
    screenshot(english_page, "defects-customer-search-en.png")
    english_page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    screenshot(english_page, "defects-customer-page-en.png")


def test_a_duplicate_customer_is_asked_about_first(live_server, page, alice, customer, mitte):
    from playwright.sync_api import expect

    customer.birth_date = "1950-03-01"
    customer.save(update_fields=["birth_date"])
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/kunden/neu/")
    page.fill("#id_first_name", "Erika")
    page.fill("#id_last_name", "Mustermann")
    page.fill("#id_birth_date", "1950-03-01")
    page.click("#save-customer")
    question = page.locator("#duplicate-question")
    expect(question).to_be_visible()
    expect(question.get_by_role("link", name="Mustermann, Erika")).to_have_attribute("href", f"/kunden/{customer.pk}/")
    assert Customer.objects.count() == 1
    screenshot(page, "defects-duplicate-customer-de.png")
    page.click("#confirm-duplicate")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mustermann")
    assert Customer.objects.count() == 2


def test_branch_administration_refuses_staff_in_their_language(live_server, page, alice):
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    response = page.goto(f"{live_server.url}/filialverwaltung/")
    assert response.status == 403
    expect(page.locator("#error-reason")).to_have_text("Die Filialverwaltung ist nur für Filial- und Kettenadministratoren.")
    expect(page.locator("nav.navbar")).to_contain_text("Kunden")
    screenshot(page, "defects-403-de.png")

    english_page = _in_english(page, live_server)
    response = english_page.goto(f"{live_server.url}/filialverwaltung/")
    assert response.status == 403
    expect(english_page.locator("#error-reason")).to_have_text("Branch administration is only for branch and chain administrators.")
    expect(english_page.get_by_role("heading", level=1)).to_have_text("Access denied")
    screenshot(english_page, "defects-403-en.png")
    # The icon is there (no 404 in the console).
    assert english_page.request.get(f"{live_server.url}/favicon.ico").ok


def test_lab_data_differences_and_step_ticking_as_staff_see_them(live_server, page, alice, dreve_txn, dreve_supplier):
    from playwright.sync_api import expect

    from tests.lifecycle_fixtures import ordered_order

    order = ordered_order(dreve_txn, dreve_supplier, alice, items=[f.bte_item("right", style="half_shell"), f.bte_item("left")])
    order.lab_properties = {"right": {"style": "shell", "tube": "standard_2_1"}, "left": {"style": "Schale", "surface_finish": "lacquered"}}
    order.save(update_fields=["lab_properties"])
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/bestellungen/{order.pk}/")
    expect(page.locator("#lab-properties-right")).to_contain_text("abweichend: bestellt Halbschale")
    expect(page.locator("#lab-properties-left")).to_contain_text("Oberfläche")
    page.locator("#lab-properties").screenshot(path=str(_artifact("defects-lab-properties-de.png")))
    page.goto(f"{live_server.url}/kunden/vorgang/{dreve_txn.pk}/")
    step = dreve_txn.steps.get(position=1)
    page.click(f"#step-done-{step.pk}")
    expect(page.locator(f"#step-reopen-{step.pk}")).to_be_visible()
    screenshot(page, "defects-transaction-steps-de.png")


def _artifact(name):
    from tests.browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
