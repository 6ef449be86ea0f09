"""No 500 from input: bounded pagination, absurd callback signatures, JSON bombs and NaN in
signed callbacks, and an impression's ``file_format`` that its own schema allows."""

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from otoorder.backends import signing, strictjson
from otoorder.orders import dispatch, scans, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import CallbackReceipt
from tests import factories as f
from tests.factories import bte_item

pytestmark = pytest.mark.django_db

SECRET = f.PORTAL_SECRET


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


# --- pagination ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=1e3", "limit"),
        ("limit=" + "9" * 40, "limit"),
        ("offset=abc", "offset"),
        ("offset=-5", "offset"),
        ("offset=" + "9" * 30, "offset"),
        ("offset=1000001", "offset"),
        ("limit=%D9%A1", "limit"),  # an Arabic-Indic digit: int() reads it, we do not
    ],
)
def test_out_of_range_or_non_numeric_pagination_is_a_400(api, customer, query, field):
    response = api.get(f"/api/v1/customers/?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][field] == ["Bitte eine ganze Zahl von %s angeben." % ("1 bis 500" if field == "limit" else "0 bis 1000000")]


def test_pagination_within_bounds_pages(api, customer, mitte):
    f.CustomerFactory(branch=mitte)
    first = api.get("/api/v1/customers/?limit=1").json()
    assert first["count"] == 2 and len(first["results"]) == 1 and "offset=1" in first["next"]
    second = api.get("/api/v1/customers/?limit=500&offset=1").json()
    assert len(second["results"]) == 1 and second["results"][0]["id"] != first["results"][0]["id"]
    assert api.get("/api/v1/customers/?offset=1000000").json()["results"] == []


def test_schema_declares_the_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/customers/"]["get"]["parameters"]}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert parameters["offset"] == {"type": "integer", "minimum": 0, "maximum": 1_000_000}


# --- callbacks: signatures and payloads --------------------------------------------------


@pytest.fixture
def portal(chain, dreve, dreve_supplier):
    return f.portal_definition(chain, dreve, dreve_supplier)


@pytest.fixture
def awaiting(portal, transaction_obj, dreve, alice):
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item()], user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.AWAITING_PORTAL
    order.refresh_from_db()
    return order


def post(definition, body, header):
    return Client(enforce_csrf_checks=True).generic(
        "POST",
        f"/api/v1/callbacks/{definition.pk}/",
        body,
        content_type="application/json",
        HTTP_X_OTOORDER_SIGNATURE=header,
    )


def report(order, **extra):
    return {"order_id": str(order.pk), "order_number": "AEO-1", "status": "confirmed", **extra}


def assert_nothing_applied(response, code, order):
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and response.json()["detail"]
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PORTAL and not order.external_reference
    assert CallbackReceipt.objects.count() == 0


@pytest.mark.parametrize(
    "timestamp",
    [str(10**30), str(10**400), "-5", "-" + str(10**400), "abc", "1e9", "١٧٠٠٠٠٠٠٠٠", " 1700000000", "1_700_000_000", ""],
)
def test_absurd_timestamps_are_invalid_signatures(awaiting, portal, timestamp):
    body = json.dumps(report(awaiting)).encode()
    header = f"t={timestamp},v1={signing.digest(SECRET, timestamp, body)}"
    assert_nothing_applied(post(portal, body, header), "invalid_signature", awaiting)


@pytest.mark.parametrize("digest", ["ä" * 64, "€", "0" * 63, "0" * 65, "A" * 64, ""])
def test_malformed_digests_are_invalid_signatures(awaiting, portal, digest):
    body = json.dumps(report(awaiting)).encode()
    header = signing.sign(SECRET, body).split(",v1=")[0] + f",v1={digest}"
    assert_nothing_applied(post(portal, body, header), "invalid_signature", awaiting)


@pytest.mark.parametrize(
    "body",
    [
        # 10,000 levels: json.loads would end in a RecursionError.
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "properties": '
        + "[" * 10_000 + "]" * 10_000 + "}",
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "x": ' + "{\"a\": " * 100 + "1" + "}" * 100 + "}",
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "properties": {"right": {"form": NaN}}}',
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "properties": {"right": {"form": Infinity}}}',
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "properties": {"right": {"form": -Infinity}}}',
        '{"order_id": "%(id)s", "status": "confirmed", "order_number": "A", "properties": {"right": {"form": 1e400}}}',
    ],
    ids=["deep-arrays", "deep-objects", "nan", "infinity", "minus-infinity", "overflowing-float"],
)
def test_signed_json_too_deep_or_not_finite_is_invalid_payload(awaiting, portal, body):
    body = (body % {"id": awaiting.pk}).encode()
    assert_nothing_applied(post(portal, body, signing.sign(SECRET, body)), "invalid_payload", awaiting)


def test_a_normal_signed_report_still_applies(awaiting, portal):
    body = json.dumps(report(awaiting, properties={"right": {"form": "Concha", "vent": 1.5, "brackets": "[[{"}})).encode()
    response = post(portal, body, signing.sign(SECRET, body))
    assert response.status_code == 200, response.content
    awaiting.refresh_from_db()
    assert awaiting.status == OrderStatus.CONFIRMED and awaiting.lab_properties["right"]["vent"] == 1.5


def test_strict_json_depth_ignores_brackets_in_strings():
    assert strictjson.nesting_depth('{"a": "[[[[\\"{{{{", "b": [1, [2]]}') == 3
    assert strictjson.loads('{"a": "[[[["}') == {"a": "[[[["}
    with pytest.raises(ValueError, match="deeper than 2"):
        strictjson.loads("[[[1]]]", max_depth=2)


# --- impressions -----------------------------------------------------------------------------


def test_file_format_of_a_physical_impression_is_allowed_by_the_schema(api, customer):
    scans.create_impression(customer=customer, side="left", kind="physical")
    value = api.get("/api/v1/impressions/").json()["results"][0]["file_format"]
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    field = components["Impression"]["properties"]["file_format"]
    allowed = set()
    for option in field.get("oneOf", field.get("allOf", [])):
        allowed.update(components[option["$ref"].rsplit("/", 1)[1]]["enum"])
    if field.get("nullable"):
        allowed.add(None)
    assert value in allowed, (value, field)
    assert value is None


# --- JSON request bodies of the API ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["[" * 10_000 + "]" * 10_000, '{"username": "a", "password": NaN}', '{"username": 1e999, "password": "x"}'],
    ids=["deep", "nan", "overflow"],
)
def test_unparseable_json_bodies_are_400(db, body):
    response = APIClient().generic("POST", "/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json() == {"code": "parse_error", "detail": "Die Anfrage ist kein gültiges JSON."}


def test_an_oversized_json_body_is_413(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"username": "a" * 2000, "password": "x"})
    response = APIClient().generic("POST", "/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"code": "payload_too_large", "detail": "Die Anfrage ist zu groß (höchstens 1 kB)."}
