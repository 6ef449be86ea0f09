"""Goods receipt, fitting and closing: services, the order page and the API."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from otoorder.orders import lifecycle
from otoorder.orders.choices import OrderStatus
from otoorder.orders.lifecycle import InvalidTransition
from otoorder.orders.models import OrderEvent
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order, walk  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(dreve_txn, dreve_supplier, alice):
    return ordered_order(dreve_txn, dreve_supplier, alice)


# --- services ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [(), (OrderStatus.CONFIRMED,), (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION), (OrderStatus.SHIPPED,)],
)
def test_receive_records_serials_per_ear_from_every_lab_status(order, alice, path):
    walk(order, *path)
    order = lifecycle.receive(order, user=alice, serials={"right": " R-1001 ", "left": "L-1002"})
    assert order.status == OrderStatus.RECEIVED
    assert order.received_at is not None
    assert dict(order.items.values_list("side", "serial_number")) == {"right": "R-1001", "left": "L-1002"}
    event = order.events.last()
    assert (event.to_status, event.actor, event.data) == (
        OrderStatus.RECEIVED,
        alice,
        {
            "serials": {"right": "R-1001", "left": "L-1002"},
            "code": "goods_received",
            "params": {"variant": "serials", "serials": {"right": "R-1001", "left": "L-1002"}},
        },
    )


def test_receive_refuses_a_side_the_order_does_not_have(dreve_txn, dreve_supplier, alice):
    from tests.factories import bte_item

    order = ordered_order(dreve_txn, dreve_supplier, alice, items=[bte_item("right")])
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.receive(order, user=alice, serials={"left": "L-1"})
    assert "serial_left" in excinfo.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED


def test_receive_refuses_an_order_not_at_the_lab(dreve_txn, dreve_supplier, alice):
    from otoorder.orders.services import place_order
    from tests.factories import bte_item

    queued = place_order(
        transaction_obj=dreve_txn, company=dreve_supplier.company, supplier=dreve_supplier,
        items=[bte_item("right")], user=alice,
    )
    with pytest.raises(InvalidTransition):
        lifecycle.receive(queued, user=alice, serials={"right": "R-1"})


def test_fit_records_date_and_default_warranty(order, alice, settings):
    settings.OTOORDER_WARRANTY_MONTHS = 12
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    fitted_on = timezone.localdate()
    order = lifecycle.fit(order, user=alice, fitted_on=fitted_on)
    assert order.status == OrderStatus.FITTED
    assert order.fitted_on == fitted_on
    assert order.warranty_until == lifecycle.add_months(fitted_on, 12)
    assert order.events.last().actor == alice


def test_fit_warranty_configurable_per_call_and_by_setting(order, alice, settings):
    settings.OTOORDER_WARRANTY_MONTHS = 24
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    order = lifecycle.fit(order, user=alice, warranty_months=6)
    assert order.warranty_until == lifecycle.add_months(timezone.localdate(), 6)


def test_add_months_keeps_the_end_of_month():
    assert lifecycle.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert lifecycle.add_months(date(2024, 11, 15), 12) == date(2025, 11, 15)
    assert lifecycle.add_months(date(2024, 12, 1), 1) == date(2025, 1, 1)


def test_fit_refuses_before_receipt_and_future_dates(order, alice):
    with pytest.raises(InvalidTransition):
        lifecycle.fit(order, user=alice)
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.fit(order, user=alice, fitted_on=timezone.localdate() + timedelta(days=1))
    assert "fitted_on" in excinfo.value.message_dict


@pytest.mark.parametrize("path", [(), (OrderStatus.CONFIRMED,), (OrderStatus.SHIPPED,)])
def test_close_without_receipt_needs_a_reason(order, alice, path):
    walk(order, *path)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.close(order, user=alice, reason=" ")
    assert "reason" in excinfo.value.message_dict
    order = lifecycle.close(order, user=alice, reason="Kunde verzichtet")
    assert order.status == OrderStatus.CLOSED
    assert order.close_reason == "Kunde verzichtet"
    assert order.closed_at is not None
    assert order.events.last().data == {"without_receipt": True, "code": "closed", "params": {"reason": "Kunde verzichtet"}}


def test_close_after_fitting_needs_no_reason(order, alice):
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    lifecycle.fit(order, user=alice)
    order = lifecycle.close(order, user=alice)
    assert order.status == OrderStatus.CLOSED


def test_closed_order_cannot_be_closed_again(order, alice):
    lifecycle.close(order, user=alice, reason="erledigt")
    with pytest.raises(InvalidTransition):
        lifecycle.close(order, user=alice, reason="nochmal")


# --- order page ----------------------------------------------------------------------------


def test_order_page_receive_fit_close(client_alice, order, alice):
    url = reverse("orders:order_detail", kwargs={"pk": order.pk})
    page = client_alice.get(url).content.decode()
    assert 'id="receive-form"' in page and 'id="remake-order"' in page
    response = client_alice.post(
        reverse("orders:order_receive", kwargs={"pk": order.pk}), {"serial_right": "R-7", "serial_left": "L-8"}
    )
    assert response.status_code == 302
    page = client_alice.get(url).content.decode()
    assert "R-7" in page and 'id="fit-form"' in page and 'id="receive-form"' not in page
    today = timezone.localdate()
    response = client_alice.post(
        reverse("orders:order_fit", kwargs={"pk": order.pk}), {"fitted_on": today.isoformat(), "warranty_months": "24"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.FITTED
    assert order.warranty_until == lifecycle.add_months(today, 24)
    response = client_alice.post(reverse("orders:order_close", kwargs={"pk": order.pk}), {"reason": ""})
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED


def test_order_page_close_without_reason_keeps_the_page_with_the_message(client_alice, order):
    response = client_alice.post(reverse("orders:order_close", kwargs={"pk": order.pk}), {"reason": ""})
    assert response.status_code == 400
    assert "Grund des Abschlusses" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED


def test_order_page_fit_in_the_future_keeps_input(client_alice, order, alice):
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client_alice.post(
        reverse("orders:order_fit", kwargs={"pk": order.pk}), {"fitted_on": future, "warranty_months": "7"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert future in page and 'value="7"' in page and "in der Zukunft" in page


def test_order_page_refused_transition_is_a_message(client_alice, order, alice):
    lifecycle.close(order, user=alice, reason="erledigt")
    response = client_alice.post(reverse("orders:order_receive", kwargs={"pk": order.pk}), {}, follow=True)
    assert "Wareneingang ist nur" in response.content.decode()


@pytest.mark.parametrize("name", ["orders:order_receive", "orders:order_fit", "orders:order_close", "orders:order_remake"])
def test_bob_gets_404_for_lifecycle_actions(client_bob, order, name):
    assert client_bob.post(reverse(name, kwargs={"pk": order.pk}), {"reason": "x"}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED


# --- API -----------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_receive_fit_close(order, alice):
    client = api(alice)
    response = client.post(
        f"/api/v1/orders/{order.pk}/receive/", {"serials": {"right": "R-1", "left": "L-2"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "received" and body["received_at"]
    assert {item["side"]: item["serial_number"] for item in body["items"]} == {"right": "R-1", "left": "L-2"}
    response = client.post(f"/api/v1/orders/{order.pk}/fit/", {"warranty_months": 18}, format="json")
    assert response.status_code == 200
    today = timezone.localdate()
    assert response.json()["fitted_on"] == today.isoformat()
    assert response.json()["warranty_until"] == lifecycle.add_months(today, 18).isoformat()
    response = client.post(f"/api/v1/orders/{order.pk}/close/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    detail = client.get(f"/api/v1/orders/{order.pk}/").json()
    assert detail["fitted_on"] == today.isoformat() and detail["closed_at"]
    assert {item["side"]: item["serial_number"] for item in detail["items"]} == {"right": "R-1", "left": "L-2"}


def test_api_close_without_receipt_needs_reason(order, alice):
    response = api(alice).post(f"/api/v1/orders/{order.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = api(alice).post(f"/api/v1/orders/{order.pk}/close/", {"reason": "Kunde verzogen"}, format="json")
    assert response.json()["close_reason"] == "Kunde verzogen"


def test_api_fit_before_receipt_is_409(order, alice):
    response = api(alice).post(f"/api/v1/orders/{order.pk}/fit/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_status"


def test_api_invalid_input_is_400(order, alice):
    response = api(alice).post(f"/api/v1/orders/{order.pk}/fit/", {"warranty_months": 500}, format="json")
    assert response.status_code == 400
    assert "warranty_months" in response.json()["errors"]


@pytest.mark.parametrize("action", ["receive", "fit", "close"])
def test_api_bob_gets_404(order, bob, action):
    events = OrderEvent.objects.count()
    response = api(bob).post(f"/api/v1/orders/{order.pk}/{action}/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert OrderEvent.objects.count() == events
