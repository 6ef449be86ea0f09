"""GET /api/v1/catalogue/?supplier=<id>: offered values with codes, unrestricted fields, rules,
validity by day, errors and the schema."""

from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from otoorder import vocabulary
from suppliers.models import CatalogueEntry, CatalogueRule
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalogue/"


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def catalogue(dreve_supplier):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="shell", code="D-SCH", label="Schale D")
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="canal", code="D-STO")
    CatalogueEntry.objects.create(
        supplier=dreve_supplier, field="material", value="titanium", code="D-TI", valid_from=date.today() + timedelta(days=10)
    )
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="colour", value="beige", code="F-BE")
    CatalogueRule.objects.create(supplier=dreve_supplier, style="shell", max_vent_mm="2.0", note="dünnwandig")
    CatalogueRule.objects.create(supplier=dreve_supplier, material="silicone", max_vent_mm="1.5", valid_until=date(2020, 1, 1))
    return dreve_supplier


def test_offered_values_codes_and_rules(api, catalogue):
    response = api.get(URL, {"supplier": str(catalogue.pk)})
    assert response.status_code == 200
    body = response.json()
    assert body["supplier"] == str(catalogue.pk) and body["on"] == date.today().isoformat()
    style = body["fields"]["style"]
    assert style["restricted"] is True and style["label"] == "Bauform"
    assert style["values"] == [
        {"value": "canal", "label": "Stöpsel", "code": "D-STO", "lab_label": ""},
        {"value": "shell", "label": "Schale", "code": "D-SCH", "lab_label": "Schale D"},
    ]
    assert body["fields"]["colour"]["values"] == [{"value": "beige", "label": "beige", "code": "F-BE", "lab_label": ""}]
    assert body["rules"] == [{
        "style": "shell", "material": "", "max_vent_mm": "2.0", "note": "dünnwandig", "valid_from": None, "valid_until": None,
    }]


def test_unrestricted_fields_list_every_canonical_value(api, catalogue):
    body = api.get(URL, {"supplier": str(catalogue.pk)}).json()
    material = body["fields"]["material"]  # titanium only from next week: unrestricted today
    assert material["restricted"] is False
    assert [v["value"] for v in material["values"]] == list(vocabulary.Material.values)
    assert all(v["code"] == "" for v in material["values"])
    assert set(body["fields"]) == {
        "product_family", "style", "material", "vent_type", "tube", "receiver_power", "surface_finish",
        "acoustic_modification", "canal_length", "protection_filter", "colour",
    }


def test_on_a_given_day(api, catalogue):
    later = (date.today() + timedelta(days=11)).isoformat()
    body = api.get(URL, {"supplier": str(catalogue.pk), "on": later}).json()
    assert body["on"] == later
    assert body["fields"]["material"]["values"] == [{"value": "titanium", "label": "Titan", "code": "D-TI", "lab_label": ""}]
    old = api.get(URL, {"supplier": str(catalogue.pk), "on": "2019-06-01"}).json()
    assert {r["material"] for r in old["rules"]} == {"", "silicone"}


def test_supplier_without_catalogue_is_unrestricted(api, dreve_supplier):
    body = api.get(URL, {"supplier": str(dreve_supplier.pk)}).json()
    assert not any(field["restricted"] for field in body["fields"].values())
    assert body["fields"]["colour"]["values"] == [] and body["rules"] == []


@pytest.mark.parametrize(
    "params, code",
    [
        ({}, "supplier_missing"),
        ({"supplier": "kein-uuid"}, "unknown_supplier"),
        ({"supplier": "5b7f3b4e-7a52-4f0f-9d59-3c8a6f3f1e01"}, "unknown_supplier"),
    ],
)
def test_supplier_missing_or_unknown(api, db, params, code):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["detail"]


def test_inactive_supplier_is_unknown(api, db):
    supplier = SupplierFactory(is_active=False)
    assert api.get(URL, {"supplier": str(supplier.pk)}).json()["code"] == "unknown_supplier"


def test_bad_day(api, dreve_supplier):
    response = api.get(URL, {"supplier": str(dreve_supplier.pk), "on": "31.12.2026"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "on" in response.json()["errors"]


def test_staff_of_any_branch_may_read_anonymous_may_not(bob, dreve_supplier):
    client = APIClient()
    assert client.get(URL, {"supplier": str(dreve_supplier.pk)}).status_code == 401
    client.force_authenticate(bob)
    assert client.get(URL, {"supplier": str(dreve_supplier.pk)}).status_code == 200


def test_in_the_schema(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/catalogue/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"supplier", "on"}
    assert "400" in operation["responses"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    props = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"supplier", "on", "fields", "rules"} <= set(props)
