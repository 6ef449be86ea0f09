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
