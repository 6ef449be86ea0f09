"""The staff browser UI through Django's test client: scoping, the Bestellservice step,
order placement through the form and the order actions."""

import pytest
from django.urls import reverse

from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.models import Attempt, Dispatch, EarmouldOrder, OrderItem
from otoorder.orders.lifecycle import set_status
from otoorder.orders.services import place_order
from otoorder.transactions.models import Customer, Transaction
from suppliers.models import OrderMethod
from tests import factories as f

pytestmark = pytest.mark.django_db


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def client_bob(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def dreve_template(dreve, dreve_supplier):
    """A template whose Bestellservice step predefines Dreve (R6)."""
    return f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)


@pytest.fixture
def dreve_txn(customer, dreve_template, alice):
    return Transaction.objects.start(customer=customer, template=dreve_template, user=alice)


@pytest.fixture
def nord_customer(nord):
    return f.CustomerFactory(branch=nord, first_name="Max", last_name="Nordmann")


def ear_data(side, item=None, order=True):
    """The POST fields of one ear as the form names them (prefix = side)."""
    item = dict(item or {})
    item.pop("side", None)
    data = {f"{side}-vent_type": "none", f"{side}-quantity": "1"}
    if order:
        data[f"{side}-order"] = "on"
    data.update({f"{side}-{name}": "" if value is None else str(value) for name, value in item.items()})
    return data


def order_post(company=None, supplier=None, *ears, **header):
    data = {
        "company": str(company.pk) if company else "",
        "order_type": "new",
        "priority": "standard",
        "date_required": "",
        "notes": "",
        **header,
    }
    if supplier is not None:
        data["supplier"] = str(supplier.pk)
    for ear in ears:
        data.update(ear)
    return data


def order_service_url(txn):
    return reverse("transactions:order_service", kwargs={"pk": txn.pk})


def preview_url(txn):
    return reverse("transactions:order_service_preview", kwargs={"pk": txn.pk})


def make_order(txn, company, supplier, user):
    return place_order(
        transaction_obj=txn, company=company, supplier=supplier, items=[f.bte_item("right")], user=user
    )


def force_status(order, *statuses):
    """Walk an order along the lifecycle, as the worker would."""
    for status in statuses:
        set_status(order, status, source=EventSource.WORKER, message=f"test: {status}")
    return order


# --- login and scoping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["transactions:customer_list", "transactions:customer_create", "orders:order_list"]
)
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_cannot_open_order_service_or_pdf(client, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    for url in (
        order_service_url(transaction_obj),
        preview_url(transaction_obj),
        reverse("orders:order_detail", kwargs={"pk": order.pk}),
        reverse("orders:order_pdf", kwargs={"pk": order.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))


def test_customer_list_shows_only_own_branch(client_alice, customer, nord_customer):
    response = client_alice.get(reverse("transactions:customer_list"))
    assert response.status_code == 200
    assert "Mustermann" in response.text
    assert "Nordmann" not in response.text


def test_customer_search_by_name_and_number(client_alice, customer, mitte):
    other = f.CustomerFactory(branch=mitte, first_name="Hans", last_name="Schmidt")
    url = reverse("transactions:customer_list")
    by_name = client_alice.get(url, {"q": "muster"})
    assert "Mustermann" in by_name.text and "Schmidt" not in by_name.text
    by_number = client_alice.get(url, {"q": str(other.customer_number)})
    assert "Schmidt" in by_number.text and "Mustermann" not in by_number.text


def test_bob_gets_404_for_mitte_customer_transaction_and_order(
    client_bob, customer, transaction_obj, dreve, dreve_supplier, alice
):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    urls = [
        reverse("transactions:customer_detail", kwargs={"pk": customer.pk}),
        reverse("transactions:transaction_detail", kwargs={"pk": transaction_obj.pk}),
        order_service_url(transaction_obj),
        preview_url(transaction_obj),
        reverse("orders:order_detail", kwargs={"pk": order.pk}),
        reverse("orders:order_detail", kwargs={"pk": order.pk}) + "?live=0",
        reverse("orders:order_pdf", kwargs={"pk": order.pk}),
    ]
    for url in urls:
        assert client_bob.get(url).status_code == 404, url
    assert order.number not in client_bob.get(reverse("orders:order_list")).text
    # Actions on a foreign order are refused too, and change nothing.
    force_status(order, OrderStatus.SENDING, OrderStatus.FAILED)
    assert client_bob.post(reverse("orders:order_resend", kwargs={"pk": order.pk})).status_code == 404
    assert client_bob.post(reverse("orders:order_cancel", kwargs={"pk": order.pk})).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED


def test_bob_cannot_start_transaction_for_mitte_customer(client_bob, customer, template):
    url = reverse("transactions:transaction_start", kwargs={"pk": customer.pk})
    assert client_bob.post(url, {"template": template.pk}).status_code == 404
    assert not Transaction.objects.exists()


# --- customers and transactions --------------------------------------------------------------


def test_create_customer_defaults_to_the_only_branch(client_alice, mitte, nord):
    response = client_alice.get(reverse("transactions:customer_create"))
    branch_field = response.context["form"].fields["branch"]
    assert list(branch_field.queryset) == [mitte]
    assert branch_field.initial == mitte.pk
    response = client_alice.post(
        reverse("transactions:customer_create"),
        {"branch": mitte.pk, "first_name": "Lena", "last_name": "Lauscher", "birth_date": "1950-04-01"},
    )
    customer = Customer.objects.get(last_name="Lauscher")
    assert response.status_code == 302
    assert response.url == reverse("transactions:customer_detail", kwargs={"pk": customer.pk})
    assert customer.branch == mitte


def test_create_customer_refuses_another_branch(client_alice, nord):
    response = client_alice.post(
        reverse("transactions:customer_create"),
        {"branch": nord.pk, "first_name": "Lena", "last_name": "Lauscher"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["branch"]
    assert not Customer.objects.exists()


def test_customer_detail_and_start_transaction(client_alice, customer, template):
    detail = client_alice.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk}))
    assert detail.status_code == 200
    assert "Vorgang starten" in detail.text
    response = client_alice.post(
        reverse("transactions:transaction_start", kwargs={"pk": customer.pk}), {"template": template.pk}
    )
    txn = Transaction.objects.get(customer=customer)
    assert response.url == reverse("transactions:transaction_detail", kwargs={"pk": txn.pk})
    assert txn.steps.count() == template.steps.count()
    page = client_alice.get(response.url)
    assert order_service_url(txn) in page.text
    assert "Otoplastik bestellen" in page.text


def test_inactive_template_cannot_be_started(client_alice, customer, template):
    template.is_active = False
    template.save()
    client_alice.post(reverse("transactions:transaction_start", kwargs={"pk": customer.pk}), {"template": template.pk})
    assert not Transaction.objects.exists()


def test_customer_detail_lists_orders_with_status(client_alice, customer, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    page = client_alice.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk}))
    assert order.number in page.text
    assert 'data-status="queued"' in page.text


# --- the Bestellservice step ------------------------------------------------------------------


def test_order_service_preselects_predefined_company_r6(client_alice, dreve_txn, dreve, dreve_supplier):
    response = client_alice.get(order_service_url(dreve_txn))
    assert response.status_code == 200
    forms = response.context["forms"]
    assert forms.header["company"].value() == dreve.pk
    assert f'<option value="{dreve.pk}" selected>' in response.text
    assert f'<option value="{dreve_supplier.pk}" selected>' in response.text
    assert response.context["resolution"].outcome == "ready"
    assert "wird über" in response.text and "Dreve" in response.text


def test_order_service_without_predefined_company_starts_empty(client_alice, transaction_obj, dreve):
    response = client_alice.get(order_service_url(transaction_obj))
    assert response.context["resolution"].outcome == "no_order"
    assert "Ohne Firma wird keine Bestellung erstellt" in response.text


def test_preview_no_company(client_alice, transaction_obj):
    response = client_alice.get(preview_url(transaction_obj), {"company": ""})
    assert response.status_code == 200
    assert 'data-outcome="no_order"' in response.text
    assert "Ohne Firma wird keine Bestellung erstellt" in response.text
    assert 'name="supplier"' not in response.text


def test_preview_supplier_required_offers_candidates_own_first(client_alice, transaction_obj, dreve_supplier):
    egger = f.CompanyFactory(name="Egger")
    egger_direct = f.SupplierFactory(company=egger, name="Egger Direkt")
    egger_wholesale = f.SupplierFactory(company=egger, name="Egger Großhandel")
    response = client_alice.get(preview_url(transaction_obj), {"company": egger.pk})
    assert 'data-outcome="supplier_required"' in response.text
    assert "Bitte Lieferanten wählen" in response.text
    text = response.text
    # Egger's own suppliers come first, then the others; none is preselected (two of its own).
    assert text.index("Egger Direkt") < text.index("Egger Großhandel") < text.index(dreve_supplier.display_name)
    assert " selected>" not in text
    assert {s.pk for s in response.context["own_candidates"]} == {egger_direct.pk, egger_wholesale.pk}


def test_preview_preselects_the_only_supplier_of_the_company(client_alice, transaction_obj, dreve, dreve_supplier):
    f.SupplierFactory(company=f.CompanyFactory(name="Großhandel GmbH"))
    response = client_alice.get(preview_url(transaction_obj), {"company": dreve.pk})
    assert 'data-outcome="ready"' in response.text
    assert f'<option value="{dreve_supplier.pk}" selected>' in response.text
    assert "vorausgewählt" in response.text


def test_preview_ready_through_definition(client_alice, transaction_obj, chain, dreve, dreve_supplier):
    f.InterfaceDefinitionFactory(chain=chain, name="Dreve direkt", companies=[dreve], supplier=dreve_supplier)
    response = client_alice.get(preview_url(transaction_obj), {"company": dreve.pk})
    assert 'data-outcome="ready"' in response.text
    assert "Dreve direkt" in response.text and "Standard Bestellprozess" in response.text
    assert "festgelegt" in response.text
    # The definition fixes the supplier: there is nothing to choose.
    assert 'name="supplier"' not in response.text


def test_preview_with_chosen_supplier(client_alice, transaction_obj, dreve, dreve_supplier):
    other = f.SupplierFactory(company=f.CompanyFactory(name="Großhandel GmbH"), name="Hörteile Großhandel")
    response = client_alice.get(preview_url(transaction_obj), {"company": dreve.pk, "supplier": other.pk})
    assert 'data-outcome="ready"' in response.text
    assert "Hörteile Großhandel" in response.text
    assert f'<option value="{other.pk}" selected>' in response.text


def test_preview_ignores_garbage_ids(client_alice, transaction_obj):
    response = client_alice.get(preview_url(transaction_obj), {"company": "not-a-uuid"})
    assert response.status_code == 200
    assert 'data-outcome="no_order"' in response.text


def test_valid_post_creates_one_queued_order(client_alice, dreve_txn, dreve, dreve_supplier, alice):
    data = order_post(
        dreve,
        dreve_supplier,
        ear_data("right", f.bte_item("right", vent_diameter_mm="1,5")),
        ear_data("left", order=False),
        notes="Bitte glänzend",
        priority="express",
    )
    response = client_alice.post(order_service_url(dreve_txn), data)
    order = EarmouldOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:order_detail", kwargs={"pk": order.pk})
    assert order.status == OrderStatus.QUEUED
    assert (order.company, order.supplier, order.created_by) == (dreve, dreve_supplier, alice)
    assert order.step == dreve_txn.order_service_step
    assert (order.priority, order.notes) == ("express", "Bitte glänzend")
    item = OrderItem.objects.get(order=order)
    assert (item.side, item.style, item.tube, str(item.vent_diameter_mm)) == ("right", "shell", "standard_2_1", "1.5")
    assert Dispatch.objects.filter(order=order, state="queued").count() == 1
    detail = client_alice.get(response.url)
    assert "wurde erstellt" in detail.text
    assert 'id="order-status"' in detail.text and 'data-status="queued"' in detail.text


def test_both_ears_create_two_items(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(dreve, dreve_supplier, ear_data("right", f.bte_item("right")), ear_data("left", f.ric_item("left")))
    client_alice.post(order_service_url(dreve_txn), data)
    order = EarmouldOrder.objects.get()
    assert sorted(order.items.values_list("side", "product_family")) == [("left", "ric"), ("right", "bte")]


def test_no_company_creates_nothing(client_alice, dreve_txn):
    data = order_post(None, None, ear_data("right", f.bte_item("right")))
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert response.status_code == 200
    assert "ohne Firma wird keine Bestellung erstellt" in response.context["forms"].header.errors["company"][0]
    assert not EarmouldOrder.objects.exists()
    assert not Dispatch.objects.exists()
    # What the user typed stays.
    assert 'value="transparent"' in response.text


def test_ric_without_receiver_power_is_a_field_error(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(dreve, dreve_supplier, ear_data("left", f.ric_item("left", receiver_power="")), notes="Eilig")
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert response.status_code == 200
    left = response.context["forms"].ears[1]
    assert left.side == "left"
    assert "Hörerleistung" in left.errors["receiver_power"][0]
    assert not EarmouldOrder.objects.exists()
    # The error is shown at the field, and the typed values are kept.
    assert 'id="id_left-receiver_power"' in response.text and "is-invalid" in response.text
    assert 'value="beige"' in response.text
    assert "Eilig" in response.text
    assert f'<option value="{dreve.pk}" selected>' in response.text


def test_no_ear_selected_creates_nothing(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(dreve, dreve_supplier, ear_data("right", f.bte_item("right"), order=False))
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert "Bitte mindestens ein Ohr bestellen." in response.text
    assert not EarmouldOrder.objects.exists()


def test_unselected_ear_with_bad_input_is_ignored(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(
        dreve,
        dreve_supplier,
        ear_data("right", f.bte_item("right")),
        ear_data("left", {"vent_diameter_mm": "abc", "quantity": "x"}, order=False),
    )
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert response.status_code == 302
    assert EarmouldOrder.objects.get().items.count() == 1


def test_vent_too_large_for_style_is_a_field_error(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(dreve, dreve_supplier, ear_data("right", f.bte_item("right", style="cic", vent_diameter_mm="2,5")))
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert "höchstens 1,0 mm" in response.context["forms"].ears[0].errors["vent_diameter_mm"][0]
    assert not EarmouldOrder.objects.exists()


def test_supplier_required_is_a_supplier_error(client_alice, dreve_txn):
    egger = f.CompanyFactory(name="Egger")
    f.SupplierFactory(company=egger, name="Egger Direkt")
    f.SupplierFactory(company=egger, name="Egger Großhandel")
    data = order_post(egger, None, ear_data("right", f.bte_item("right")))
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert response.context["forms"].header.errors["supplier"]
    assert "Lieferant gewählt werden" in response.text
    assert 'data-outcome="supplier_required"' in response.text
    assert not EarmouldOrder.objects.exists()


def test_interface_supplier_without_definition_is_a_supplier_error(client_alice, dreve_txn, dreve):
    portal = f.SupplierFactory(company=dreve, name="Dreve Portal", order_method=OrderMethod.INTERFACE)
    data = order_post(dreve, portal, ear_data("right", f.bte_item("right")))
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert "keine Schnittstellendefinition" in response.context["forms"].header.errors["supplier"][0]
    assert not EarmouldOrder.objects.exists()
    # The chosen supplier stays selected.
    assert f'<option value="{portal.pk}" selected>' in response.text


def test_past_date_required_is_refused(client_alice, dreve_txn, dreve, dreve_supplier):
    data = order_post(dreve, dreve_supplier, ear_data("right", f.bte_item("right")), date_required="2001-01-01")
    response = client_alice.post(order_service_url(dreve_txn), data)
    assert response.context["forms"].header.errors["date_required"]
    assert not EarmouldOrder.objects.exists()


def test_transaction_without_order_service_step_has_no_order_page(client_alice, customer, alice):
    plain = f.TemplateFactory(name="Nachsorge")
    plain.steps.filter(step_type="order_service").delete()
    txn = Transaction.objects.start(customer=customer, template=plain, user=alice)
    assert client_alice.get(order_service_url(txn)).status_code == 404


# --- orders: list, detail, actions, PDF ------------------------------------------------------------


def test_order_list_filters_by_status(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    queued = make_order(transaction_obj, dreve, dreve_supplier, alice)
    failed = force_status(make_order(transaction_obj, dreve, dreve_supplier, alice), OrderStatus.SENDING, OrderStatus.FAILED)
    everything = client_alice.get(reverse("orders:order_list"))
    assert everything.text.index(failed.number) < everything.text.index(queued.number)  # newest first
    only_failed = client_alice.get(reverse("orders:order_list"), {"status": "failed"})
    assert failed.number in only_failed.text and queued.number not in only_failed.text


def test_in_flight_order_polls_fast_and_a_settled_order_stops(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    detail_url = reverse("orders:order_detail", kwargs={"pk": order.pk})
    page = client_alice.get(detail_url).text
    assert 'hx-trigger="every 2000ms, live-check"' in page and f"{detail_url}?live=" in page
    partial = client_alice.get(detail_url, {"live": "old"})
    assert 'hx-trigger="every 2000ms, live-check"' in partial.text and "<html" not in partial.text
    force_status(order, OrderStatus.SENDING, OrderStatus.FAILED, OrderStatus.CANCELLED)
    partial = client_alice.get(detail_url, {"live": "old"}).text
    assert 'id="live-region"' in partial and "hx-trigger" not in partial
    assert 'data-status="cancelled"' in partial


def test_the_status_check_after_sending_brings_the_lifecycle_actions(
    client_alice, transaction_obj, dreve, dreve_supplier, alice
):
    """A page that watched the order go out shows receipt/close/remake without a reload."""
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    detail_url = reverse("orders:order_detail", kwargs={"pk": order.pk})
    page = client_alice.get(detail_url).text
    assert '<div id="lifecycle-area">' in page and 'id="receive-order"' not in page
    force_status(order, OrderStatus.SENDING, OrderStatus.ORDERED)
    partial = client_alice.get(detail_url, {"live": "old"}).text
    assert 'hx-trigger="every 5000ms, live-check"' in partial  # still open: slower checks
    assert '<div id="lifecycle-area">' in partial
    assert 'id="receive-order"' in partial and 'id="remake-order"' in partial
    assert reverse("orders:attachment_upload", args=[order.pk]) not in partial  # no upload once sent


def test_failed_order_shows_reason_attempts_and_resend(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    from django.utils import timezone

    order = force_status(make_order(transaction_obj, dreve, dreve_supplier, alice), OrderStatus.SENDING, OrderStatus.FAILED)
    order.failure_reason = "Der Mailserver lehnt die Anmeldung ab."
    order.save()
    Attempt.objects.create(
        order=order, number=1, started_at=timezone.now(), duration_ms=120,
        outcome="permanent_error", permanent=True, error="535 authentication failed",
    )
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).text
    assert 'id="failure-reason"' in page and "Der Mailserver lehnt die Anmeldung ab." in page
    assert "Was tun" in page
    assert "535 authentication failed" in page and "120 ms" in page
    assert 'id="resend-order"' in page

    response = client_alice.post(reverse("orders:order_resend", kwargs={"pk": order.pk}))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.QUEUED and order.failure_reason == ""
    assert order.dispatch.state == "queued"
    assert order.events.filter(to_status=OrderStatus.QUEUED, actor=alice).count() == 2


def test_resend_of_queued_order_is_refused_with_a_message(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    response = client_alice.post(reverse("orders:order_resend", kwargs={"pk": order.pk}), follow=True)
    assert "Nur fehlgeschlagene" in response.text
    order.refresh_from_db()
    assert order.status == OrderStatus.QUEUED


def test_confirm_manual_order(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = force_status(make_order(transaction_obj, dreve, dreve_supplier, alice), OrderStatus.SENDING, OrderStatus.AWAITING_MANUAL)
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).text
    assert 'id="confirm-order"' in page and 'id="manual-hint"' in page
    response = client_alice.post(reverse("orders:order_confirm", kwargs={"pk": order.pk}), follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED and order.ordered_at is not None
    assert "als bestellt bestätigt" in response.text


def test_actions_need_post(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    for name in ("orders:order_resend", "orders:order_confirm", "orders:order_cancel"):
        assert client_alice.get(reverse(name, kwargs={"pk": order.pk})).status_code == 405


def test_cancel_order(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    assert 'id="cancel-order"' in client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).text
    client_alice.post(reverse("orders:order_cancel", kwargs={"pk": order.pk}), {"reason": "Kunde verzogen"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.dispatch.state == "cancelled"
    assert order.events.last().text == "Storniert (noch nicht beim Labor). Kunde verzogen"
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).text
    assert 'id="cancel-order"' not in page and 'id="resend-order"' not in page


def test_pdf_download(client_alice, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    response = client_alice.get(reverse("orders:order_pdf", kwargs={"pk": order.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="Bestellformular-{order.number}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_chain_admin_sees_orders_of_every_branch(client, dave, transaction_obj, dreve, dreve_supplier, alice):
    order = make_order(transaction_obj, dreve, dreve_supplier, alice)
    client.force_login(dave)
    assert client.get(reverse("orders:order_detail", kwargs={"pk": order.pk})).status_code == 200


def test_inactive_predefined_company_is_not_preselected(client_alice, dreve_txn, dreve):
    dreve.is_active = False
    dreve.save()
    response = client_alice.get(order_service_url(dreve_txn))
    assert response.context["resolution"].outcome == "no_order"
