"""Fixed numbers of SQL statements per send and per staff page (issue: speed at 100,000 orders).

Each count is asserted exactly, with a long history or list beside a short one, so that a
change that adds a statement per row (an N+1) or per send fails here and must say why. The
numbers are what bench/run.py prints; bench/README.md explains where each statement goes.
"""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from otoorder.orders import dispatch, services
from otoorder.orders.choices import OrderStatus
from tests import factories as f
from tests.labs.http_lab import Reply
from tests.lifecycle_fixtures import client_alice, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db

#: Statements of one send through the standard process (PDF and SMTP), outside a test's
#: transaction: the claim (row joined with the locked order, conditional UPDATE, the order
#: "sending" and its event), the document (order, ears, attachments, catalogue codes), the
#: outcome (order locked, row released, attempt, order "ordered" and its event, the check for
#: a cancellation parked meanwhile). Transaction control (BEGIN/COMMIT) is not counted.
SEND_STATEMENTS = 14
#: The HTTP lab confirms at once: after the commit the lab's confirmation notifies the branch
#: (the event, the branch's people, the notification).
HTTP_SEND_STATEMENTS = SEND_STATEMENTS + 3


def _statements(captured):
    """The statements that do work: neither savepoints (a test runs inside a transaction,
    a worker does not) nor transaction control."""
    return [q["sql"] for q in captured if not q["sql"].split(None, 1)[0].upper() in {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}]


def _send(order, on_commit):
    """One send with what runs after its commits (``on_commit``: pytest-django's
    ``django_capture_on_commit_callbacks``; a test's transaction never commits)."""
    with CaptureQueriesContext(connection) as captured, on_commit(execute=True):
        status = dispatch.run(order.dispatch.pk)
    return status, _statements(captured.captured_queries)


def test_a_send_through_the_standard_process_makes_a_fixed_number_of_statements(
    transaction_obj, dreve_supplier, alice, django_capture_on_commit_callbacks
):
    counts = []
    for ears in ([f.bte_item("right")], [f.bte_item("right"), f.ric_item("left")]):
        order = services.place_order(
            transaction_obj=transaction_obj, company=dreve_supplier.company, supplier=dreve_supplier, items=ears, user=alice
        )
        status, statements = _send(order, django_capture_on_commit_callbacks)
        assert status == OrderStatus.ORDERED
        counts.append(len(statements))
    assert counts == [SEND_STATEMENTS, SEND_STATEMENTS], counts
    assert len(mail.outbox) == 2


def test_a_send_to_an_http_lab_makes_a_fixed_number_of_statements(
    http_lab, chain, dreve, dreve_supplier, transaction_obj, alice, django_capture_on_commit_callbacks
):
    f.InterfaceDefinitionFactory(
        chain=chain,
        backend="dreve_smartorder",
        supplier=dreve_supplier,
        options={"endpoint_url": f"{http_lab.url}/api/v1"},
        secrets={"api_key": "key"},
        companies=[dreve],
    )
    http_lab.script(Reply.json({"order_number": "D-1", "status": "received"}, status=201), repeat=True)
    counts = []
    for ears in ([f.bte_item("right")], [f.bte_item("right"), f.ric_item("left")]):
        order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=ears, user=alice)
        status, statements = _send(order, django_capture_on_commit_callbacks)
        assert status == OrderStatus.CONFIRMED
        counts.append(len(statements))
    assert counts == [HTTP_SEND_STATEMENTS, HTTP_SEND_STATEMENTS], counts
    assert len(http_lab.requests) == 2


# --- Pages: the same statements for one order as for many -------------------------------


#: Statements per page, the session, the user and the bell's unread count included. The same
#: for one order as for many (each page's list, history or events are one statement).
PAGE_QUERIES = {
    "worklist": 13,
    "order_list_filtered": 14,
    "order_list_chain_admin": 13,
    "order_page": 19,
    "customer_page": 13,
    "customer_search": 6,
    "scorecard": 11,
}


def _pages(order, customer, supplier):
    return {
        "worklist": ("alice", reverse("orders:order_list")),
        "order_list_filtered": ("alice", f"{reverse('orders:order_list')}?status=all&supplier={supplier.pk}"),
        "order_list_chain_admin": ("dave", f"{reverse('orders:order_list')}?status=all"),
        "order_page": ("alice", reverse("orders:order_detail", kwargs={"pk": order.pk})),
        "customer_page": ("alice", reverse("transactions:customer_detail", kwargs={"pk": customer.pk})),
        "customer_search": ("alice", f"{reverse('transactions:customer_list')}?q={customer.last_name}"),
        "scorecard": ("dave", reverse("scorecard")),
    }


def _count(client, user, path):
    client.force_login(user)
    client.get(path)  # the first request's own work (sessions, caches)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


def test_each_page_makes_a_fixed_number_of_queries_however_many_orders(
    client, alice, dave, customer, dreve_txn, dreve_supplier, mitte  # noqa: F811
):
    first = ordered_order(dreve_txn, dreve_supplier, alice)
    users = {"alice": alice, "dave": dave}
    one = {name: _count(client, users[who], path) for name, (who, path) in _pages(first, customer, dreve_supplier).items()}
    for _ in range(12):
        ordered_order(dreve_txn, dreve_supplier, alice)
        f.CustomerFactory(branch=mitte, last_name=customer.last_name)
    many = {name: _count(client, users[who], path) for name, (who, path) in _pages(first, customer, dreve_supplier).items()}
    assert one == many
    assert one == PAGE_QUERIES
