"""GET /api/v1/orders/: the filters status=open, overdue, needs_attention, supplier and q, all
combinable and validated (German 400s); each order's eta, overdue, at_risk, needs_attention,
tracking_url and messages_unread; a constant number of queries; the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from otoorder.orders import services
from otoorder.orders.choices import MessageChannel, MessageDirection, OrderStatus
from otoorder.orders.models import EarmouldOrder, OrderMessage
from tests import factories as f
from tests.factories import bte_item

pytestmark = pytest.mark.django_db
S = OrderStatus
DAY = timedelta(days=1)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def make(txn, supplier, user, **fields):
    order = services.place_order(
        transaction_obj=txn, company=supplier.company, supplier=supplier, items=[bte_item()], user=user
    )
    if fields:
        EarmouldOrder.objects.filter(pk=order.pk).update(**fields)
        order.refresh_from_db()
    return order


def lab_question(order, read=False):
    return OrderMessage.objects.create(
        order=order, direction=MessageDirection.FROM_LAB, channel=MessageChannel.INTERFACE, text="Rückfrage",
        read_at=timezone.now() if read else None, state="done",
    )


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def orders(transaction_obj, dreve_supplier, alice, today):
    egger = f.SupplierFactory(company=f.CompanyFactory(name="Egger"), carrier="gls")
    return {
        "late": make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - 2 * DAY, external_reference="LAB-77"),
        "risk": make(transaction_obj, dreve_supplier, alice, status=S.CONFIRMED, eta=today + 6 * DAY, date_required=today + 3 * DAY),
        "hold": make(transaction_obj, egger, alice, status=S.ON_HOLD, eta=today + 2 * DAY),
        "shipped": make(transaction_obj, egger, alice, status=S.SHIPPED, eta=today - 5 * DAY, tracking_number="TRK 5/6"),
        "closed": make(transaction_obj, egger, alice, status=S.CLOSED),
        "egger": egger,
    }


def ids(response):
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def pks(orders, *names):
    return {str(orders[name].pk) for name in names}


def test_each_order_carries_its_schedule_tracking_and_unread_messages(alice, orders, today):
    lab_question(orders["hold"])
    lab_question(orders["hold"])
    lab_question(orders["hold"], read=True)
    rows = {row["id"]: row for row in api(alice).get("/api/v1/orders/").json()["results"]}
    late, risk, hold, shipped = (rows[str(orders[name].pk)] for name in ("late", "risk", "hold", "shipped"))
    assert (late["eta"], late["overdue"], late["at_risk"], late["needs_attention"]) == (
        (today - 2 * DAY).isoformat(), True, False, True,
    )
    assert (risk["overdue"], risk["at_risk"], risk["needs_attention"]) == (False, True, False)
    assert (hold["needs_attention"], hold["messages_unread"], late["messages_unread"]) == (True, 2, 0)
    assert (shipped["overdue"], shipped["tracking_number"], shipped["carrier"]) == (False, "TRK 5/6", "")
    assert shipped["tracking_url"] == "https://gls-group.com/DE/de/paketverfolgung?match=TRK%205%2F6"
    assert late["tracking_url"] == ""
    detail = api(alice).get(f"/api/v1/orders/{orders['hold'].pk}/").json()
    assert (detail["messages_unread"], detail["needs_attention"], detail["eta"]) == (2, True, (today + 2 * DAY).isoformat())


def test_filters_alone_and_combined(alice, orders):
    client = api(alice)
    assert ids(client.get("/api/v1/orders/?status=open")) == pks(orders, "late", "risk", "hold", "shipped")
    assert ids(client.get("/api/v1/orders/?overdue=true")) == pks(orders, "late")
    assert ids(client.get("/api/v1/orders/?overdue=false")) == pks(orders, "risk", "hold", "shipped", "closed")
    assert ids(client.get("/api/v1/orders/?needs_attention=true")) == pks(orders, "late", "hold")
    assert ids(client.get(f"/api/v1/orders/?supplier={orders['egger'].pk}")) == pks(orders, "hold", "shipped", "closed")
    assert ids(client.get(f"/api/v1/orders/?supplier={orders['egger'].pk}&status=open&needs_attention=true")) == pks(orders, "hold")
    assert ids(client.get("/api/v1/orders/?q=lab-77")) == pks(orders, "late")
    assert ids(client.get("/api/v1/orders/", {"q": "trk 5/6"})) == pks(orders, "shipped")
    assert ids(client.get("/api/v1/orders/", {"q": orders["risk"].number.lower()})) == pks(orders, "risk")
    assert ids(client.get("/api/v1/orders/?q=MUSTERMANN&status=open&overdue=true")) == pks(orders, "late")
    assert ids(client.get("/api/v1/orders/?status=shipped&overdue=true")) == set()


def test_search_by_customer_name_or_number(alice, orders, customer, transaction_obj, dreve_supplier, nord):
    other = f.CustomerFactory(branch=customer.branch, first_name="Hans", last_name="Huber")
    txn = f.TransactionFactory(customer=other, template=transaction_obj.template, started_by=alice)
    hans = make(txn, dreve_supplier, alice)
    client = api(alice)
    assert ids(client.get("/api/v1/orders/?q=huber")) == {str(hans.pk)}
    assert ids(client.get("/api/v1/orders/", {"q": "Hans Huber"})) == {str(hans.pk)}
    assert ids(client.get(f"/api/v1/orders/?q={other.customer_number}")) == {str(hans.pk)}
    assert len(ids(client.get(f"/api/v1/orders/?q={customer.customer_number}"))) == 5
    assert ids(client.get("/api/v1/orders/?q=erika huber")) == set()


@pytest.mark.parametrize(
    "query, field, words",
    [
        ("status=verloren", "status", "keine gültige Option"),
        ("overdue=vielleicht", "overdue", "Wahrheitswert"),
        ("needs_attention=2", "needs_attention", "Wahrheitswert"),
        ("supplier=dreve", "supplier", "UUID"),
        ("q=" + "x" * 101, "q", "100 Zeichen"),
    ],
)
def test_bad_filters_are_400_in_german(alice, orders, query, field, words):
    response = api(alice).get(f"/api/v1/orders/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and body["detail"] and field in body["errors"]
    assert words in " ".join(body["errors"][field]), body


def test_another_branch_sees_none_of_it(bob, orders):
    client = api(bob)
    assert ids(client.get("/api/v1/orders/?status=open")) == set()
    assert ids(client.get("/api/v1/orders/?q=LAB-77")) == set()
    assert ids(client.get(f"/api/v1/orders/?supplier={orders['egger'].pk}")) == set()


def test_the_list_keeps_a_constant_number_of_queries(alice, transaction_obj, dreve_supplier, today, django_assert_num_queries):
    client = api(alice)
    first = make(transaction_obj, dreve_supplier, alice, status=S.ON_HOLD, eta=today - DAY, tracking_number="1", carrier="dhl")
    lab_question(first)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/orders/?status=open").json()["results"]) == 1
    for number in range(8):
        order = make(transaction_obj, dreve_supplier, alice, status=S.ON_HOLD, eta=today - DAY, tracking_number=str(number))
        lab_question(order)
    with django_assert_num_queries(len(one.captured_queries)):
        rows = client.get("/api/v1/orders/?status=open&needs_attention=true&q=mustermann").json()["results"]
    assert len(rows) == 9 and all(row["messages_unread"] == 1 for row in rows)


def test_the_schema_declares_the_filters_and_fields(alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/orders/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"status", "overdue", "needs_attention", "supplier", "q", "customer"} <= set(parameters)
    assert "open" in parameters["status"]["schema"]["enum"]
    assert parameters["q"]["schema"]["maxLength"] == 100
    assert "400" in operation["responses"]
    fields = schema["components"]["schemas"]["OrderList"]["properties"]
    assert {"eta", "overdue", "at_risk", "needs_attention", "tracking_url", "messages_unread"} <= set(fields)
    assert fields["overdue"]["type"] == "boolean" and fields["messages_unread"]["type"] == "integer"
