"""The complaint endpoints: reasons, raising (with the free-remake proposal and the remake),
the branch-scoped list with its filters, the decision with the cost bearer; errors."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from otoorder.complaints import services
from otoorder.complaints.models import Complaint
from tests import factories as f
from tests.complaint_fixtures import delivered, delivered_order  # noqa: F401
from tests.lifecycle_fixtures import dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(order):
    return f"/api/v1/orders/{order.pk}/complaints/"


def test_reasons_list_code_label_category(alice):
    body = api(alice).get("/api/v1/complaint-reasons/").json()
    assert {"code": "fit_pressure", "label": "passt nicht / drückt", "category": "fit"} in body
    assert len(body) == 6


def test_raise_answers_201_with_the_case_and_the_free_remake(delivered_order, alice):
    response = api(alice).post(
        url(delivered_order),
        {"sides": ["right"], "reason": "feedback", "description": "pfeift", "return_old_mould": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["reason"]["code"] == "feedback"
    assert body["free_remake"]["free"] is True
    assert body["free_remake"]["code"] == "inside_window"
    assert body["free_remake"]["why"].startswith("Innerhalb des Fensters")
    assert body["remake_order"] is None


def test_raise_with_remake_returns_the_remake_order(delivered_order, alice):
    body = api(alice).post(
        url(delivered_order), {"sides": ["left"], "reason": "fit_pressure", "create_remake": True}, format="json"
    ).json()
    assert body["remake_order"]["order_type"] == "remake"
    assert body["status"] == "reported"
    complaint = Complaint.objects.get(pk=body["id"])
    assert complaint.remake_order.original_order_id == delivered_order.pk


def test_outside_the_window_free_remake_is_false(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=100)
    body = api(alice).post(url(order), {"sides": ["right"], "reason": "retention"}, format="json").json()
    assert body["free_remake"]["free"] is False
    assert body["free_remake"]["code"] == "outside_window"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"sides": [], "reason": "feedback"}, "sides"),
        ({"sides": ["middle"], "reason": "feedback"}, "sides"),
        ({"sides": ["right"], "reason": "unknown"}, "reason"),
        ({"sides": ["right"], "reason": "x" * 41}, "reason"),
        ({"sides": ["right"], "reason": "feedback", "description": "x" * 2001}, "description"),
    ],
)
def test_invalid_input_answers_400_in_german(delivered_order, alice, payload, field):
    response = api(alice).post(url(delivered_order), payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]


def test_an_order_not_delivered_answers_409(dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    response = api(alice).post(url(order), {"sides": ["right"], "reason": "feedback"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_status"


def test_another_branch_gets_404(delivered_order, bob):
    response = api(bob).post(url(delivered_order), {"sides": ["right"], "reason": "feedback"}, format="json")
    assert response.status_code == 404


def test_list_is_branch_scoped_and_filtered(delivered_order, alice, bob, dreve_supplier):
    open_one = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    decided = services.raise_complaint(delivered_order, user=alice, sides=["left"], reason="loss")
    services.decide(decided, user=alice, outcome="credit", cost_bearer="lab")
    body = api(alice).get("/api/v1/complaints/?status=open").json()
    assert [c["id"] for c in body["results"]] == [str(open_one.pk)]
    assert api(alice).get(f"/api/v1/complaints/?supplier={dreve_supplier.pk}").json()["count"] == 2
    assert api(alice).get(f"/api/v1/complaints/?supplier={f.SupplierFactory().pk}").json()["count"] == 0
    assert api(bob).get("/api/v1/complaints/").json()["count"] == 0
    assert api(alice).get("/api/v1/complaints/?status=bogus").status_code == 400


def test_list_queries_do_not_grow_with_the_complaints(delivered_order, alice, django_assert_max_num_queries):
    for _ in range(5):
        services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    with django_assert_max_num_queries(8):
        assert api(alice).get("/api/v1/complaints/").json()["count"] == 5


def test_decision_records_cost_bearer_and_amount(delivered_order, alice):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    response = api(alice).post(
        f"/api/v1/complaints/{complaint.pk}/decision/",
        {"outcome": "charged_remake", "cost_bearer": "chain", "amount": "39.90"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["cost_bearer"] == "chain"
    complaint.refresh_from_db()
    assert (complaint.status, complaint.cost_bearer, complaint.amount) == ("decided", "chain", Decimal("39.90"))


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"outcome": "gift", "cost_bearer": "lab"}, "outcome"),
        ({"outcome": "credit", "cost_bearer": "nobody"}, "cost_bearer"),
        ({"outcome": "credit", "cost_bearer": "lab", "amount": "-3"}, "amount"),
        ({"outcome": "credit", "cost_bearer": "lab", "amount": "1e12"}, "amount"),
    ],
)
def test_decision_refuses_bad_input(delivered_order, alice, payload, field):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    response = api(alice).post(f"/api/v1/complaints/{complaint.pk}/decision/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_decision_on_a_done_complaint_answers_409(delivered_order, alice):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    services.close(services.decide(complaint, user=alice, outcome="credit", cost_bearer="lab"), user=alice)
    response = api(alice).post(
        f"/api/v1/complaints/{complaint.pk}/decision/", {"outcome": "credit", "cost_bearer": "lab"}, format="json"
    )
    assert response.status_code == 409


def test_the_endpoints_are_in_the_schema(alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/complaint-reasons/",
        "/api/v1/orders/{id}/complaints/",
        "/api/v1/complaints/",
        "/api/v1/complaints/{id}/decision/",
    ):
        assert path in schema["paths"], path
