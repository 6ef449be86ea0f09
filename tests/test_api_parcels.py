"""POST/GET /api/v1/parcels/: a parcel of physical impressions to one lab, scoped by branch."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from otoorder.orders import parcels, scans
from otoorder.orders.models import Parcel
from tests import factories as f
from tests import scan_files
from tests.test_impressions_api import api_alice, client_for, private_media  # noqa: F401 - fixtures
from tests.test_parcels import order_with_impressions

pytestmark = pytest.mark.django_db
URL = "/api/v1/parcels/"


@pytest.fixture
def order(transaction_obj, dreve, dreve_supplier, alice):
    return order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)


def body(supplier, impressions, **overrides):
    return {
        "supplier": str(supplier.pk),
        "impressions": [str(i.pk) for i in impressions],
        "carrier": "dhl",
        "tracking_number": "00340434161094042557",
        **overrides,
    }


def test_create_answers_201_with_the_parcel_and_its_packing_list(api_alice, order, dreve_supplier, mitte):
    placed, impressions = order
    response = api_alice.post(URL, body(dreve_supplier, impressions.values()), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    parcel = Parcel.objects.get()
    assert data["id"] == str(parcel.pk)
    assert data["branch"] == str(mitte.pk)
    assert data["supplier"] == {"id": str(dreve_supplier.pk), "name": "Dreve"}
    assert (data["carrier"], data["tracking_number"], data["is_open"], data["closed_at"]) == (
        "dhl", "00340434161094042557", True, None,
    )  # fmt: skip
    assert data["tracking_url"].startswith("https://www.dhl.de/")
    assert data["packing_list_url"] == f"http://testserver/bestellungen/pakete/{parcel.pk}/packliste.pdf"
    assert sorted((i["side"], i["order_number"], i["label_number"], i["received_at"]) for i in data["impressions"]) == [
        ("left", placed.number, f"{placed.number}-L", None),
        ("right", placed.number, f"{placed.number}-R", None),
    ]
    assert {i["customer_number"] for i in data["impressions"]} == {placed.customer.customer_number}
    assert {i["order"] for i in data["impressions"]} == {str(placed.pk)}


def test_the_packing_list_url_serves_the_pdf(api_alice, client, alice, order, dreve_supplier):
    _placed, impressions = order
    url = api_alice.post(URL, body(dreve_supplier, impressions.values()), format="json").json()["packing_list_url"]
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("other_branch", "impression_not_found", "nicht gefunden"),
        ("other_lab", "impression_other_lab", "nicht an Dreve"),
        ("in_parcel", "impression_in_parcel", "schon in einem Paket"),
        ("scan", "impression_not_physical", "3D-Scan"),
        ("too_many", "too_many_impressions", "Höchstens 50 Abdrücke"),
        ("none", "no_impressions", "mindestens einen Abdruck"),
    ],
)
def test_refusals_answer_400_with_code_and_german_reason(
    case, code, words, api_alice, order, dreve_supplier, alice, bob, nord, template, customer, transaction_obj
):
    _placed, impressions = order
    chosen = list(impressions.values())
    if case == "other_branch":
        other = f.CustomerFactory(branch=nord)
        txn = f.TransactionFactory(customer=other, template=template, started_by=bob)
        _theirs, theirs = order_with_impressions(txn, dreve_supplier.company, dreve_supplier, bob, sides=("right",))
        chosen = list(theirs.values())
    elif case == "other_lab":
        egger = f.CompanyFactory(name="egger")
        supplier = f.SupplierFactory(company=egger, order_email="a@egger.test")
        _other, others = order_with_impressions(transaction_obj, egger, supplier, alice, sides=("right",))
        chosen = list(others.values())
    elif case == "in_parcel":
        parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=[chosen[0].pk], carrier="dpd", tracking_number="X")
    elif case == "scan":
        chosen = [
            scans.create_impression(
                customer=customer, side="right", kind="scan", user=alice,
                upload=SimpleUploadedFile("r.stl", scan_files.stl_binary()),
            )
        ]  # fmt: skip
    data = body(dreve_supplier, chosen)
    if case == "too_many":
        data["impressions"] = [f"00000000-0000-0000-0000-{n:012d}" for n in range(51)]
    elif case == "none":
        data["impressions"] = []
    before = Parcel.objects.count()
    response = api_alice.post(URL, data, format="json")
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert answer["code"] == code
    assert words in answer["detail"]
    assert answer["errors"]["impressions"][0] == answer["detail"]
    assert Parcel.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"carrier": "pigeon"}, "carrier"),
        ({"tracking_number": ""}, "tracking_number"),
        ({"tracking_number": "9" * 101}, "tracking_number"),
        ({"supplier": "00000000-0000-0000-0000-000000000001"}, "supplier"),
        ({"supplier": "kein-uuid"}, "supplier"),
        ({"impressions": ["kein-uuid"]}, "impressions"),
        ({"impressions": "nicht eine Liste"}, "impressions"),
    ],
)
def test_invalid_fields_answer_400_invalid(api_alice, order, dreve_supplier, overrides, field):
    _placed, impressions = order
    response = api_alice.post(URL, {**body(dreve_supplier, impressions.values()), **overrides}, format="json")
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid" and field in answer["errors"]


def test_list_is_paginated_and_scoped_to_the_branch(api_alice, alice, bob, order, dreve_supplier, nord, template):
    _placed, impressions = order
    for impression in impressions.values():
        parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=[impression.pk], carrier="dhl", tracking_number=impression.side)
    other = f.CustomerFactory(branch=nord)
    txn = f.TransactionFactory(customer=other, template=template, started_by=bob)
    _theirs, theirs = order_with_impressions(txn, dreve_supplier.company, dreve_supplier, bob, sides=("right",))
    bobs = parcels.create_parcel(user=bob, supplier=dreve_supplier, impressions=[theirs["right"].pk], carrier="dhl", tracking_number="B")
    response = api_alice.get(URL, {"limit": 1})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2 and len(data["results"]) == 1 and data["next"]
    assert data["results"][0]["tracking_number"] == "left"  # newest first
    assert api_alice.get(f"{URL}{bobs.pk}/").status_code == 404
    assert client_for(bob).get(f"{URL}{bobs.pk}/").json()["tracking_number"] == "B"
    assert api_alice.get(URL, {"limit": 0}).status_code == 400


def test_list_costs_the_same_queries_for_one_and_many_parcels(api_alice, alice, transaction_obj, dreve, dreve_supplier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as context:
            assert api_alice.get(URL).status_code == 200
        return len(context.captured_queries)

    _order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
    parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=list(i.pk for i in impressions.values()), carrier="dhl", tracking_number="1")
    one = count()
    for _ in range(3):
        _order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
        parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=list(i.pk for i in impressions.values()), carrier="dhl", tracking_number="1")
    assert count() == one


def test_anonymous_gets_401(order):
    assert APIClient().get(URL).status_code == 401
    assert APIClient().post(URL, {}, format="json").status_code == 401


def test_close_by_hand_once(api_alice, alice, order, dreve_supplier):
    placed, impressions = order
    parcel = parcels.create_parcel(
        user=alice, supplier=dreve_supplier, impressions=[i.pk for i in impressions.values()], carrier="dhl", tracking_number="1"
    )
    response = api_alice.post(f"{URL}{parcel.pk}/close/")
    assert response.status_code == 200
    assert response.json()["is_open"] is False and response.json()["closed_at"]
    assert placed.events.filter(data__code="parcel_closed_by_staff").count() == 1
    again = api_alice.post(f"{URL}{parcel.pk}/close/")
    assert again.status_code == 409 and again.json()["code"] == "parcel_closed"
