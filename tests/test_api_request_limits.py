"""Requests the server will not read answer in the API's error format, never 500 (fuzz findings).

The size and nesting of JSON bodies: tests/test_input_bounds.py."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def api_alice(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_too_many_form_fields_are_400(api_alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{i}=x" for i in range(20))
    response = api_alice.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_fields"
    assert response.json()["detail"] == "Die Anfrage enthält zu viele Felder oder Dateien."


def test_the_schema_declares_413_where_a_body_is_parsed(db):
    paths = APIClient().get("/api/schema/?format=json").json()["paths"]
    assert "413" in paths[URL]["post"]["responses"]
    assert "413" in paths["/api/v1/impressions/"]["post"]["responses"]
    assert "413" not in paths[URL]["get"]["responses"]
