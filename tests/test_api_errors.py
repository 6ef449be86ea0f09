"""An unexpected error in an API view still answers in the API's JSON format."""

import pytest
from rest_framework.test import APIClient

from otoorder.orders import services

pytestmark = pytest.mark.django_db


def test_unhandled_error_answers_json_500(monkeypatch, alice, transaction_obj, dreve):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "resolve_for", broken)
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        f"/api/v1/transactions/{transaction_obj.pk}/order-service/preview/", {"company": str(dreve.pk)}, format="json"
    )
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "IT" in response.json()["detail"]


def test_item_errors_found_by_the_service_keep_their_ear(monkeypatch, alice, transaction_obj, dreve, dreve_supplier):
    """A rule only the order service sees (here: a catalogue change in between) still lands on its ear."""
    from otoorder.orders.validation import ItemsInvalid
    from tests.factories import bte_item, ric_item

    def refuse(**kwargs):
        raise ItemsInvalid([{}, {"style": "Nicht mehr im Katalog."}])

    monkeypatch.setattr(services, "place_order", refuse)
    client = APIClient()
    client.force_authenticate(alice)
    body = {
        "transaction": str(transaction_obj.pk),
        "company": str(dreve.pk),
        "supplier": str(dreve_supplier.pk),
        "items": [bte_item("right"), ric_item("left")],
    }
    response = client.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["items"] == [{}, {"style": ["Nicht mehr im Katalog."]}]
