"""The sweeper against the real broker: exactly the rows that should be moving and are not are
published, each once, and nothing else. What it published is read back from the Redis queue.
"""

import base64
import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from otoorder.orders import dispatch
from otoorder.orders.choices import DispatchState, OrderStatus
from otoorder.orders.models import Dispatch, EarmouldOrder
from otoorder.orders.routing import queue_name

from .test_dispatch_real import place

#: The queue of the standard process's labs (``routing``): where these orders' tasks wait.
STANDARD_QUEUE = queue_name("standard")

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DISPATCH_TASK = "otoorder.orders.tasks.dispatch_order"


def published(broker):
    """Dispatch ids of the task messages waiting in the broker's queue (a multiset)."""
    ids = Counter()
    for raw in broker.lrange(STANDARD_QUEUE, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == DISPATCH_TASK
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        ids[args[0]] += 1
    return ids


def test_the_sweeper_publishes_exactly_the_stuck_rows_once(broker, settings, transaction_obj, dreve_supplier, alice):
    policy = settings.OTOORDER_DISPATCH
    queued_deadline, sending_deadline = policy["QUEUED_DEADLINE"], policy["SENDING_DEADLINE"]
    rows = {name: place(transaction_obj, dreve_supplier, alice).dispatch.pk for name in "ABCDEFG"}
    assert published(broker) == Counter(rows.values())  # each order was published once at commit
    broker.delete(STANDARD_QUEUE)  # no worker runs here: those messages are gone, as if lost

    now = timezone.now()
    long_ago = now - max(queued_deadline, sending_deadline) * 2

    def row(name, **fields):
        Dispatch.objects.filter(pk=rows[name]).update(**fields)

    row("A", due_at=long_ago, last_enqueued_at=None)  # due, never published
    row("B", due_at=long_ago, last_enqueued_at=long_ago)  # due, its message lost long ago
    row("C", due_at=long_ago, last_enqueued_at=now - queued_deadline / 2)  # published recently
    row("D", due_at=now + timedelta(minutes=5), last_enqueued_at=None)  # a retry not yet due
    row("E", state=DispatchState.SENDING, claimed_at=long_ago, claim_token=uuid.uuid4())  # worker died
    row("F", state=DispatchState.SENDING, claimed_at=now - sending_deadline / 2, claim_token=uuid.uuid4())
    row("G", state=DispatchState.DONE)
    EarmouldOrder.objects.filter(dispatch__pk=rows["E"]).update(status=OrderStatus.SENDING)

    dispatch.sweep(now=now)

    assert published(broker) == Counter({rows["A"]: 1, rows["B"]: 1, rows["E"]: 1})
    taken_back = Dispatch.objects.get(pk=rows["E"])
    assert (taken_back.state, taken_back.claim_token) == (DispatchState.QUEUED, None)
    assert taken_back.order.status == OrderStatus.QUEUED
    untouched = Dispatch.objects.get(pk=rows["F"])
    assert untouched.state == DispatchState.SENDING and untouched.claim_token is not None

    # Published rows count as published: the next sweep has nothing to add.
    dispatch.sweep(now=timezone.now())
    assert published(broker) == Counter({rows["A"]: 1, rows["B"]: 1, rows["E"]: 1})
