"""Fixtures and helpers shared by the lifecycle, order form, history and re-order tests."""

import pytest

from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.lifecycle import set_status
from otoorder.orders.services import place_order
from otoorder.transactions.models import Transaction
from tests import factories as f

#: The way from the outbox to the lab, as the worker and the lab move an order.
TO_ORDERED = (OrderStatus.SENDING, OrderStatus.ORDERED)


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def client_bob(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def dreve_template(dreve, dreve_supplier):
    return f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)


@pytest.fixture
def dreve_txn(customer, dreve_template, alice):
    return Transaction.objects.start(customer=customer, template=dreve_template, user=alice)


def walk(order, *statuses):
    for status in statuses:
        set_status(order, status, source=EventSource.WORKER, message=f"test: {status}")
    return order


def ordered_order(txn, supplier, user, items=None, **header):
    """An order that reached the lab (status ``ordered``)."""
    order = place_order(
        transaction_obj=txn,
        company=supplier.company,
        supplier=supplier,
        items=items or [f.bte_item("right"), f.bte_item("left")],
        user=user,
        header=header,
    )
    return walk(order, *TO_ORDERED)
