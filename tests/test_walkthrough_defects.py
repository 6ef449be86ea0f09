"""Defects the walk-through met (issue [6], point 4): the lab's Bestelldaten, right ear first,
the order form's marks, the customer search and duplicates, the error pages, the Vorgang's
steps and the manual order paths. Each test fails without its fix."""

from io import BytesIO

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from otoorder.backends.pdf import render_order_form
from otoorder.orders import dispatch, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.documents import build_document
from tests import factories as f
from tests.factories import bte_item
from tests.lifecycle_fixtures import client_alice, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def _both_ears_left_first(dreve_txn, dreve_supplier, alice):
    """An order whose left ear was given first (as an API client may send it)."""
    return ordered_order(dreve_txn, dreve_supplier, alice, items=[bte_item("left"), bte_item("right", style="half_shell")])


# --- 1. the lab's Bestelldaten under our labels, differences marked ---


def test_lab_properties_show_our_labels_and_mark_what_differs(client_alice, dreve_txn, dreve_supplier, alice):
    order = _both_ears_left_first(dreve_txn, dreve_supplier, alice)
    order.lab_properties = {
        "left": {"style": "Schale", "tube": "standard_2_1", "surface_finish": "lacquered", "vent_diameter_mm": "1,5"},
        "right": {"style": "shell", "material": "Acryl hart", "form": "Concha"},
    }
    order.save(update_fields=["lab_properties"])
    html = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).content.decode()
    panel = html[html.index('id="lab-properties"') :]
    panel = panel[: panel.index('id="order-history"')]
    for raw in ("surface_finish", "standard_2_1", "vent_diameter_mm", "lacquered"):
        assert raw not in panel
    for label in ("Schlauch", "Standard 2,1 mm", "Oberfläche", "lackiert", "Bohrung Ø (mm)", "Bauform", "Form"):
        assert label in panel
    right = panel[panel.index('id="lab-properties-right"') : panel.index('id="lab-properties-left"')]
    left = panel[panel.index('id="lab-properties-left"') :]
    # Right ordered a half shell, the lab confirmed a shell: said in words, not by colour.
    assert right.count('data-testid="lab-property-differs"') == 1
    assert "abweichend: bestellt Halbschale" in right
    # Left: "Schale" is our shell, "1,5" our 1.5 mm, the tube our standard tube; the surface
    # was not ordered, so there is nothing to compare.
    assert "abweichend" not in left


# --- 2. right ear first everywhere ---


def test_order_page_pdf_and_email_put_the_right_ear_first(client_alice, transaction_obj, dreve, dreve_supplier, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    order = services.place_order(
        transaction_obj=transaction_obj,
        company=dreve,
        supplier=dreve_supplier,
        items=[bte_item("left"), bte_item("right")],
        user=alice,
    )
    html = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).content.decode()
    assert html.index('id="item-right"') < html.index('id="item-left"')
    document = build_document(order)
    assert [item.side for item in document.items] == ["right", "left"]
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(render_order_form(document))).pages)
    assert text.index("Ohr: rechts") < text.index("Ohr: links")
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    (message,) = mail.outbox
    assert "(rechts, links)" in message.body


def test_api_lists_the_right_ear_first(dreve_txn, dreve_supplier, alice):
    order = _both_ears_left_first(dreve_txn, dreve_supplier, alice)
    api = APIClient()
    api.force_authenticate(alice)
    body = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert [item["side"] for item in body["items"]] == ["right", "left"]


def test_order_form_and_customer_page_put_the_right_ear_first(client_alice, dreve_txn, dreve_supplier, alice, customer):
    _both_ears_left_first(dreve_txn, dreve_supplier, alice)
    form = client_alice.get(reverse("transactions:order_service", kwargs={"pk": dreve_txn.pk})).content.decode()
    assert form.index('id="ear-right"') < form.index('id="ear-left"')
    page = client_alice.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk})).content.decode()
    assert page.index('id="history-right"') < page.index('id="history-left"')


# --- 5. error pages in the app's layout and language; a favicon ---


def test_staff_opening_branch_administration_read_the_reason_in_the_layout(client_alice):
    response = client_alice.get(reverse("branches:home"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Die Filialverwaltung ist nur für Filial- und Kettenadministratoren." in html
    assert 'class="navbar' in html and 'lang="de"' in html and "Kein Zugang" in html
    english = client_alice.get(reverse("branches:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Branch administration is only for branch and chain administrators." in english
    assert 'lang="en"' in english and "Access denied" in english


def test_branch_admin_in_a_chain_admins_area_reads_why(client, carol):
    client.force_login(carol)
    response = client.get(reverse("branches:company_list"))
    assert response.status_code == 403
    assert "Dieser Bereich der Filialverwaltung ist nur für Kettenadministratoren." in response.content.decode()


def test_404_page_in_the_layout(client_alice):
    response = client_alice.get("/gibt-es-nicht/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Seite nicht gefunden" in html and 'class="navbar' in html


def test_500_page_renders_without_a_request():
    from django.template import loader
    from django.test import RequestFactory
    from django.views.defaults import server_error

    assert "Ein Fehler ist aufgetreten" in loader.get_template("500.html").render()
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and b'class="navbar' in response.content


def test_favicon_is_linked_and_served(client_alice):
    from django.contrib.staticfiles import finders

    html = client_alice.get(reverse("transactions:customer_list")).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in html
    response = client_alice.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"
    assert finders.find("img/favicon.svg")


# --- 6. the Vorgang's steps: ticked by hand and by the order ---


def _step(txn, step_type):
    return txn.steps.get(step_type=step_type)


def test_staff_tick_off_and_reopen_a_step(client_alice, dreve_txn, bob):
    from django.test import Client

    from otoorder.transactions.models import StepType

    impression = _step(dreve_txn, StepType.IMPRESSION)
    url = reverse("transactions:step_done", kwargs={"pk": dreve_txn.pk})
    page = client_alice.get(reverse("transactions:transaction_detail", kwargs={"pk": dreve_txn.pk})).content.decode()
    assert f'id="step-done-{impression.pk}"' in page
    client_alice.post(url, {"step": impression.pk, "done": "1"})
    impression.refresh_from_db()
    assert impression.done_at is not None
    page = client_alice.get(reverse("transactions:transaction_detail", kwargs={"pk": dreve_txn.pk})).content.decode()
    assert "erledigt am" in page and f'id="step-reopen-{impression.pk}"' in page
    client_alice.post(url, {"step": impression.pk, "done": "0"})
    impression.refresh_from_db()
    assert impression.done_at is None
    # The Bestellservice step is ticked by placing an order, not by hand; other branches see nothing.
    order_step = _step(dreve_txn, StepType.ORDER_SERVICE)
    client_alice.post(url, {"step": order_step.pk, "done": "1"})
    order_step.refresh_from_db()
    assert order_step.done_at is None
    client_bob = Client()
    client_bob.force_login(bob)
    assert client_bob.post(url, {"step": impression.pk, "done": "1"}).status_code == 404
    assert client_alice.post(url, {"step": "x", "done": "1"}).status_code == 302


def test_placing_receiving_and_fitting_tick_their_steps(dreve_txn, dreve_supplier, alice):
    from otoorder.orders import lifecycle
    from otoorder.transactions.models import Step, StepType

    Step.objects.create(transaction=dreve_txn, position=3, step_type=StepType.GOODS_RECEIPT, title="Wareneingang prüfen")
    Step.objects.create(transaction=dreve_txn, position=4, step_type=StepType.FITTING, title="Anpassung")
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    assert _step(dreve_txn, StepType.ORDER_SERVICE).done_at is not None
    # No impression went with the order: "Abdruck nehmen" stays for staff to tick.
    assert _step(dreve_txn, StepType.IMPRESSION).done_at is None
    assert _step(dreve_txn, StepType.GOODS_RECEIPT).done_at is None
    lifecycle.receive(order, user=alice, serials={"right": "R1", "left": "L1"})
    assert _step(dreve_txn, StepType.GOODS_RECEIPT).done_at is not None
    assert _step(dreve_txn, StepType.FITTING).done_at is None
    lifecycle.fit(order, user=alice)
    assert _step(dreve_txn, StepType.FITTING).done_at is not None


def test_an_order_with_its_impressions_ticks_abdruck_nehmen(dreve_txn, dreve_supplier, alice, customer):
    from otoorder.orders import scans
    from otoorder.transactions.models import StepType

    impression = scans.create_impression(customer=customer, side="right", kind="physical", user=alice, reference="Box 7")
    ordered_order(dreve_txn, dreve_supplier, alice, items=[bte_item("right", impression=impression)])
    assert _step(dreve_txn, StepType.IMPRESSION).done_at is not None


# --- 3. the order form: required marks, the date hint after an error, German dates ---


def _order_form_url(txn):
    return reverse("transactions:order_service", kwargs={"pk": txn.pk})


def test_required_fields_are_marked_before_the_first_error(client_alice, dreve_txn):
    html = client_alice.get(_order_form_url(dreve_txn)).content.decode()
    assert 'id="required-legend"' in html and "Pflichtfeld" in html
    right = html[html.index('id="ear-right"') : html.index('id="ear-left"')]
    for name in ("product_family", "style", "material", "quantity"):
        field = right[right.index(f'name="right-{name}"') :]
        field = field[: field.index(">")]
        assert 'aria-required="true"' in field and "required" in field.replace('aria-required="true"', "")
    label = right[right.index('for="id_right-style"') :]
    assert '<span class="asteriskField">*</span>' in label[: label.index("</label>")]
    order_type = html[html.index('name="order_type"') :]
    assert 'aria-required="true"' in order_type[: order_type.index(">")]
    # The note is optional: no mark.
    notes = right[right.index('name="right-notes"') :]
    assert "aria-required" not in notes[: notes.index(">")]


def test_an_ear_that_is_not_ordered_is_not_refused_for_its_required_fields(client_alice, dreve_txn, dreve_supplier):
    from otoorder.orders.models import EarmouldOrder

    data = {
        "company": str(dreve_supplier.company.pk), "supplier": str(dreve_supplier.pk), "order_type": "new",
        "priority": "standard", "right-order": "on", "right-vent_type": "parallel", "right-quantity": "1",
        "right-acoustic_modification": "none", "left-vent_type": "none", "left-quantity": "1",
        **{f"right-{key}": value for key, value in bte_item("right").items() if key != "side"},
    }  # fmt: skip
    response = client_alice.post(_order_form_url(dreve_txn), data)
    assert response.status_code == 302
    assert EarmouldOrder.objects.count() == 1


def test_the_date_hint_survives_a_refused_submit_in_german_format(client_alice, dreve_txn, dreve_supplier):
    from django.utils import timezone

    from otoorder.orders.services import default_date_required

    shown = default_date_required(dreve_supplier).strftime("%d.%m.%Y")
    assert f"leer = {shown}" in client_alice.get(_order_form_url(dreve_txn)).content.decode()
    data = {
        "company": str(dreve_supplier.company.pk), "supplier": str(dreve_supplier.pk), "order_type": "new",
        "priority": "standard", "right-order": "on", "right-vent_type": "none", "right-quantity": "1",
        "right-product_family": "bte",
    }  # fmt: skip
    response = client_alice.post(_order_form_url(dreve_txn), data)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="form-errors"' in html
    assert "Bitte die Bauform angeben." in html
    assert f"leer = {shown}" in html
    assert timezone.localdate().isoformat() not in html


def test_a_labs_delivery_date_reads_as_a_german_date_in_the_sentence():
    from otoorder.backends.egger_erp import EggerErpBackend

    body = """<?xml version="1.0" encoding="UTF-8"?>
<ORDERRESPONSE version="2.1" xmlns="http://www.opentrans.org/XMLSchema/2.1" xmlns:bme="http://www.bmecat.org/bmecat/2005">
  <ORDERRESPONSE_HEADER><ORDERRESPONSE_INFO>
    <ORDER_ID>OT-2026-000077</ORDER_ID><ORDERRESPONSE_DATE>2026-11-24T10:00:00</ORDERRESPONSE_DATE>
    <SUPPLIER_ORDER_ID>EGG-1</SUPPLIER_ORDER_ID>
    <DELIVERY_DATE><DELIVERY_START_DATE>2027-01-15</DELIVERY_START_DATE><DELIVERY_END_DATE>2027-01-15</DELIVERY_END_DATE></DELIVERY_DATE>
  </ORDERRESPONSE_INFO></ORDERRESPONSE_HEADER>
  <ORDERRESPONSE_ITEM_LIST/>
  <ORDERRESPONSE_SUMMARY><TOTAL_ITEM_NUM>1</TOTAL_ITEM_NUM></ORDERRESPONSE_SUMMARY>
</ORDERRESPONSE>"""
    [entry] = EggerErpBackend.parse_callback(body.encode())
    assert "Liefertermin: 15.01.2027." in entry["update"].message


# --- 4. the customer search and the question before a duplicate ---


def test_customer_search_has_a_label_and_answers_htmx_with_the_results_only(client_alice, customer, mitte):
    f.CustomerFactory(branch=mitte, first_name="Hans", last_name="Albers")
    url = reverse("transactions:customer_list")
    html = client_alice.get(url).content.decode()
    assert '<label class="form-label" for="id_q">Kunde suchen</label>' in html
    search = html[html.index('name="q"') - 300 :]
    search = search[: search.index(">", 300)]
    assert 'class="form-control"' in search and 'hx-trigger="input changed delay:300ms, search"' in search
    # Without JavaScript: the whole page, filtered.
    page = client_alice.get(url, {"q": "muster"}).content.decode()
    assert "<nav" in page and "Mustermann" in page and "Albers" not in page
    # As you type: the results and the count (out of band, for the live region), no layout.
    response = client_alice.get(url, {"q": "alb"}, HTTP_HX_REQUEST="true")
    partial = response.content.decode()
    assert "<nav" not in partial and 'id="customer-results"' in partial and "Albers" in partial
    assert "Mustermann" not in partial and 'hx-swap-oob="true"' in partial and "1 Kunde gefunden" in partial
    assert "HX-Request" in response["Vary"]
    assert client_alice.get(url, {"q": "9" * 300}).status_code == 200


def _new_customer(branch, **overrides):
    return {"branch": str(branch.pk), "first_name": "erika", "last_name": "MUSTERMANN", "birth_date": "1950-03-01", **overrides}


def test_a_namesake_with_the_same_birth_date_asks_first(client_alice, customer, mitte, nord):
    from otoorder.transactions.models import Customer

    customer.birth_date = "1950-03-01"
    customer.save(update_fields=["birth_date"])
    f.CustomerFactory(branch=nord, first_name="Erika", last_name="Mustermann", birth_date="1950-03-01")
    url = reverse("transactions:customer_create")
    response = client_alice.post(url, _new_customer(mitte))
    html = response.content.decode()
    assert response.status_code == 200 and Customer.objects.count() == 2
    assert 'id="duplicate-question"' in html and 'id="confirm-duplicate"' in html
    # Her own branch's customer with a link; the other branch's only by its branch.
    assert reverse("transactions:customer_detail", kwargs={"pk": customer.pk}) in html
    assert f"ein Kunde der {nord}" in html
    # Another birth date is another person: no question.
    assert client_alice.post(url, _new_customer(mitte, birth_date="1951-03-01")).status_code == 302
    assert client_alice.post(url, {**_new_customer(mitte), "confirm_duplicate": "on"}).status_code == 302
    assert Customer.objects.filter(last_name__iexact="Mustermann").count() == 4


def test_api_refuses_a_duplicate_customer_with_409_unless_confirmed(alice, customer, mitte):
    from otoorder.transactions.models import Customer

    customer.birth_date = "1950-03-01"
    customer.save(update_fields=["birth_date"])
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post("/api/v1/customers/", _new_customer(mitte), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_customer" and "confirm_duplicate" in body["detail"]
    assert body["duplicates"] == [{"id": str(customer.pk), "customer_number": customer.customer_number, "branch": str(mitte.pk)}]
    assert body["other_branches"] == 0 and Customer.objects.count() == 1
    response = api.post("/api/v1/customers/", {**_new_customer(mitte), "confirm_duplicate": True}, format="json")
    assert response.status_code == 201 and "confirm_duplicate" not in response.json()
    assert Customer.objects.count() == 2


# --- 8. the company's own suppliers first; another company's supplier after a confirmation ---


def _order_post(company, supplier, **extra):
    return {
        "company": str(company.pk), "supplier": str(supplier.pk), "order_type": "new", "priority": "standard",
        "right-order": "on", "right-vent_type": "parallel", "right-quantity": "1", "right-acoustic_modification": "none",
        "left-vent_type": "none", "left-quantity": "1",
        **{f"right-{key}": value for key, value in bte_item("right").items() if key != "side"},
        **extra,
    }  # fmt: skip


def test_own_suppliers_first_and_a_mismatch_asks_before_sending(client_alice, transaction_obj, dreve, dreve_supplier):
    from otoorder.orders.models import EarmouldOrder

    hoerluchs = f.CompanyFactory(name="Hörluchs")
    other = f.SupplierFactory(company=hoerluchs, name="Aaa Großhandel")
    own = f.SupplierFactory(company=dreve, name="Zzz Dreve Versand")
    preview = reverse("transactions:order_service_preview", kwargs={"pk": transaction_obj.pk})
    html = client_alice.get(preview, {"company": dreve.pk}).content.decode()
    own_group = html.index('label="Lieferanten von Dreve"')
    assert own_group < html.index(str(dreve_supplier.pk)) < html.index(str(own.pk)) < html.index('label="Andere"')
    assert html.index('label="Andere"') < html.index(str(other.pk))
    assert 'id="supplier-mismatch"' not in html
    mismatch = client_alice.get(preview, {"company": dreve.pk, "supplier": other.pk}).content.decode()
    assert 'id="supplier-mismatch"' in mismatch and "nicht von Dreve" in mismatch

    url = reverse("transactions:order_service", kwargs={"pk": transaction_obj.pk})
    response = client_alice.post(url, _order_post(dreve, other))
    html = response.content.decode()
    assert response.status_code == 200 and not EarmouldOrder.objects.exists()
    assert "gehört nicht zur Firma „Dreve“" in html and 'name="confirm_supplier"' in html
    response = client_alice.post(url, _order_post(dreve, other, confirm_supplier="on"))
    assert response.status_code == 302
    assert EarmouldOrder.objects.get().supplier == other
    # The company's own supplier needs no confirmation.
    assert client_alice.post(url, _order_post(dreve, own)).status_code == 302


def test_api_asks_for_a_confirmation_of_a_supplier_of_another_company(transaction_obj, dreve, dreve_supplier, alice):
    from otoorder.orders.models import EarmouldOrder

    other = f.SupplierFactory(company=f.CompanyFactory(name="Hörluchs"), name="Aaa Großhandel")
    api = APIClient()
    api.force_authenticate(alice)
    body = {
        "transaction": str(transaction_obj.pk), "company": str(dreve.pk), "supplier": str(other.pk),
        "items": [bte_item("right")],
    }  # fmt: skip
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert "gehört nicht zur Firma „Dreve“" in error["errors"]["supplier"][0] and "confirm_supplier" in error["errors"]["supplier"][0]
    assert not EarmouldOrder.objects.exists()
    response = api.post("/api/v1/orders/", {**body, "confirm_supplier": True}, format="json")
    assert response.status_code == 201, response.content
    assert EarmouldOrder.objects.get().supplier == other
    # The company's own supplier needs no confirmation.
    assert api.post("/api/v1/orders/", {**body, "supplier": str(dreve_supplier.pk)}, format="json").status_code == 201


# --- 7. the manual paths: the supplier's contacts and the lab's reference ---


@pytest.mark.parametrize(
    "method,sentence",
    [("print", "ausdrucken und an Hörluchs schicken"), ("fax", "an Hörluchs faxen"), ("phone", "Bitte Hörluchs anrufen")],
)
def test_manual_paths_show_the_contacts_and_take_the_labs_reference(client_alice, transaction_obj, alice, method, sentence):
    hoerluchs = f.CompanyFactory(name="Hörluchs")
    supplier = f.SupplierFactory(
        company=hoerluchs, order_method=method, order_email="auftrag@hoerluchs.test",
        phone_number="+49 40 123456", fax_number="+49 40 123457",
    )  # fmt: skip
    order = services.place_order(transaction_obj=transaction_obj, company=hoerluchs, supplier=supplier, items=[bte_item()], user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.AWAITING_MANUAL
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).content.decode()
    hint = page[page.index('id="manual-hint"') :]
    hint = hint[: hint.index("</div>")]
    assert sentence in hint
    assert 'href="tel:+49 40 123456"' in hint and "+49 40 123457" in hint and "mailto:auftrag@hoerluchs.test" in hint
    assert 'name="lab_reference"' in page
    url = reverse("orders:order_confirm", kwargs={"pk": order.pk})
    client_alice.post(url, {"lab_reference": "x" * 101})
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_MANUAL
    client_alice.post(url, {"lab_reference": " HL-2026-0815 "})
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED and order.external_reference == "HL-2026-0815"
    assert "HL-2026-0815" in order.events.last().message


def test_api_confirm_takes_the_labs_reference(transaction_obj, alice):
    hoerluchs = f.CompanyFactory(name="Hörluchs")
    supplier = f.SupplierFactory(company=hoerluchs, order_method="phone", order_email="", phone_number="+49 40 1")
    order = services.place_order(transaction_obj=transaction_obj, company=hoerluchs, supplier=supplier, items=[bte_item()], user=alice)
    dispatch.run(order.dispatch.pk)
    api = APIClient()
    api.force_authenticate(alice)
    assert api.post(f"/api/v1/orders/{order.pk}/confirm/", {"lab_reference": "y" * 101}, format="json").status_code == 400
    response = api.post(f"/api/v1/orders/{order.pk}/confirm/", {"lab_reference": "HL-7"}, format="json")
    assert response.status_code == 200 and response.json()["external_reference"] == "HL-7"
