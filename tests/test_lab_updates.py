"""Lab reports applied to orders: lifecycle moves, kept fields, duplicates change nothing."""

import pytest

from otoorder.backends import signing
from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from tests.factories import bte_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def ordered(transaction_obj, dreve, dreve_supplier, alice):
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice)
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, OrderStatus.ORDERED, source="worker")
    return order


def test_update_moves_the_order_and_keeps_the_lab_fields(ordered):
    update = StatusUpdate(status="shipped", external_status="versandt", external_reference="D-77", tracking_number="DHL-1", message="Versandt.")
    assert apply_status_update(ordered, update)
    ordered.refresh_from_db()
    assert (ordered.status, ordered.external_reference, ordered.tracking_number) == ("shipped", "D-77", "DHL-1")
    event = ordered.events.last()
    assert (event.source, event.from_status, event.to_status) == ("lab", "ordered", "shipped")
    # The event renders from its code; the backend's German summary is kept beside it.
    assert (event.data["code"], event.data["backend_message"]) == ("lab_status", "Versandt.")
    assert event.text == "Statusmeldung des Labors: versandt Auftragsnummer des Labors: D-77. Sendungsnummer: DHL-1."


def test_duplicate_update_changes_nothing(ordered):
    update = StatusUpdate(status="confirmed", external_reference="D-77")
    assert apply_status_update(ordered, update)
    count = ordered.events.count()
    assert not apply_status_update(ordered, update)
    assert ordered.events.count() == count


def test_late_update_is_recorded_without_going_back(ordered):
    apply_status_update(ordered, StatusUpdate(status="shipped", tracking_number="DHL-1"))
    apply_status_update(ordered, StatusUpdate(status="confirmed", external_reference="D-77"))
    ordered.refresh_from_db()
    assert ordered.status == "shipped" and ordered.external_reference == "D-77"
    assert "bleibt" in ordered.events.last().message


def test_unknown_lab_status_is_recorded_only(ordered):
    apply_status_update(ordered, StatusUpdate(status=None, external_status="qualitaetspruefung"))
    ordered.refresh_from_db()
    assert ordered.status == "ordered" and ordered.external_status == "qualitaetspruefung"


def test_properties_are_kept_on_the_order(ordered):
    apply_status_update(ordered, StatusUpdate(status="confirmed", data={"properties": {"right": {"style": "Schale"}}}))
    ordered.refresh_from_db()
    assert ordered.lab_properties == {"right": {"style": "Schale"}}


def test_signature_round_trip_and_refusals():
    header = signing.sign("geheim", b'{"a":1}', timestamp=1_000_000)
    assert signing.verify("geheim", b'{"a":1}', header, now=1_000_100) == 1_000_000
    with pytest.raises(signing.SignatureError, match="falsch"):
        signing.verify("anders", b'{"a":1}', header, now=1_000_100)
    with pytest.raises(signing.SignatureError, match="falsch"):
        signing.verify("geheim", b'{"a":2}', header, now=1_000_100)
    with pytest.raises(signing.SignatureError, match="abgelaufen"):
        signing.verify("geheim", b'{"a":1}', header, now=1_000_000 + 301)
    with pytest.raises(signing.SignatureError, match="unlesbar"):
        signing.verify("geheim", b"{}", "v1=abc", now=1_000_000)


@pytest.mark.parametrize("lab_status", ["rejected_by_lab", "in_production", "shipped", "confirmed"])
def test_portal_reports_move_an_order_waiting_for_the_portal(transaction_obj, dreve, dreve_supplier, alice, lab_status):
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice)
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, OrderStatus.AWAITING_PORTAL, source="worker")
    apply_status_update(order, StatusUpdate(status=lab_status, external_reference="P-1"))
    order.refresh_from_db()
    assert order.status == lab_status


def test_the_api_shows_what_the_lab_reported(ordered, alice):
    from rest_framework.test import APIClient

    apply_status_update(
        ordered,
        StatusUpdate(status="shipped", tracking_number="DHL-1", data={"properties": {"right": {"style": "Schale"}}}),
    )
    client = APIClient()
    client.force_authenticate(alice)
    body = client.get(f"/api/v1/orders/{ordered.pk}/").json()
    assert (body["status"], body["tracking_number"], body["lab_properties"]) == (
        "shipped",
        "DHL-1",
        {"right": {"style": "Schale"}},
    )
