"""The limits per lab on the real Redis (``throttle``), and what a task does at the limit (``lanes``).

Several workers on several hosts share one Redis: here several clients stand for them. A lab at
its limit gets its task published again with a countdown, on its queue, with the row
untouched; the poll of a lab at its limit is skipped until the next run. The labs are real
HTTP servers on loopback; nothing of ours is patched.
"""

import base64
import json
from datetime import timedelta

import pytest
import redis

from otoorder.orders import lifecycle, polling, services, throttle
from otoorder.orders.choices import DispatchState, OrderStatus
from otoorder.orders.models import Dispatch, EarmouldOrder
from otoorder.orders.routing import queue_name
from otoorder.orders.tasks import dispatch_order, poll_lab
from tests import factories as f
from tests.labs.http_lab import Reply

from .conftest import BROKER_URL, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DREVE_QUEUE = queue_name("dreve_smartorder")


def limits(parallel=1, per_minute=None, lab="lab-a"):
    return throttle.Limits(lab=lab, parallel=parallel, per_minute=per_minute)


def other_host():
    """A second Redis connection: what another worker host would use."""
    return redis.Redis.from_url(BROKER_URL)


def test_parallel_transfers_are_counted_across_hosts(broker):
    first = throttle._acquire_redis(throttle.client(BROKER_URL), limits(parallel=2))
    second = throttle._acquire_redis(other_host(), limits(parallel=2))
    assert first.granted and second.granted
    third = throttle._acquire_redis(other_host(), limits(parallel=2))
    assert (third.granted, third.busy, third.wait) == (False, True, None)
    assert throttle._acquire_redis(other_host(), limits(parallel=2, lab="lab-b")).granted
    second.release()
    assert throttle._acquire_redis(throttle.client(BROKER_URL), limits(parallel=2)).granted


def test_the_rate_limit_spaces_starts_by_redis_clock(broker):
    first = throttle._acquire_redis(throttle.client(BROKER_URL), limits(parallel=5, per_minute=6))
    assert first.granted
    second = throttle._acquire_redis(other_host(), limits(parallel=5, per_minute=6))
    assert not second.granted and not second.busy and 9.0 < second.wait <= 10.0
    first.release()


def test_a_dead_workers_ticket_frees_itself_after_the_sending_deadline(broker, settings):
    settings.OTOORDER_DISPATCH = {**settings.OTOORDER_DISPATCH, "SENDING_DEADLINE": timedelta(seconds=1)}
    held = throttle._acquire_redis(throttle.client(BROKER_URL), limits())
    assert held.granted  # and never released: its worker died
    assert not throttle._acquire_redis(other_host(), limits()).granted
    running, _next = throttle.keys(limits())
    assert 0 < broker.pttl(running) <= 1000
    ticket = wait_for(
        lambda: (t := throttle._acquire_redis(other_host(), limits())).granted and t,
        timeout=5,
        interval=0.05,
        message="the dead worker's ticket to expire",
    )
    ticket.release()


def test_an_unreachable_redis_does_not_stop_sending():
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    ticket = throttle._acquire_redis(unreachable, limits())
    assert ticket.granted
    ticket.release()


# --- at the limit: the task waits, the row does not move ---------------------------------------


@pytest.fixture
def dreve_definition(chain, dreve, dreve_supplier, http_lab):
    return f.InterfaceDefinitionFactory(
        chain=chain,
        name="Dreve SmartOrder",
        backend="dreve_smartorder",
        supplier=dreve_supplier,
        options={"endpoint_url": f"{http_lab.url}/api/v1"},
        secrets={"api_key": "sandbox-key"},
        companies=[dreve],
        max_parallel_sends=1,
    )


def waiting_messages(broker, queue):
    """``(task name, args, kwargs, eta)`` of the messages waiting in ``queue``."""
    found = []
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, _embed = json.loads(body)
        found.append((message["headers"]["task"], args, kwargs, message["headers"].get("eta")))
    return found


def test_a_send_to_a_lab_at_its_limit_is_published_again_with_a_countdown(
    broker, transaction_obj, dreve, dreve_supplier, dreve_definition, alice, http_lab
):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[f.bte_item()], user=alice
    )
    row = order.dispatch
    ((task, args, kwargs, eta),) = waiting_messages(broker, DREVE_QUEUE)  # published at commit
    assert (task, args, kwargs, eta) == ("otoorder.orders.tasks.dispatch_order", [row.pk], {}, None)
    broker.delete(DREVE_QUEUE)

    busy = throttle.acquire(throttle.limits_of(dreve_definition))  # another worker sends to this lab
    assert busy.granted
    assert dispatch_order(row.pk) is None
    row.refresh_from_db()
    assert (row.state, row.attempt_count, row.retry_until) == (DispatchState.QUEUED, 0, None)
    assert http_lab.requests == [] and order.attempts.count() == 0
    ((task, args, kwargs, eta),) = waiting_messages(broker, DREVE_QUEUE)
    assert (args, kwargs) == ([row.pk], {"deferrals": 1}) and eta is not None

    busy.release()
    http_lab.script(Reply.json({"order_number": "DRV-1", "status": "accepted"}, status=201), method="POST")
    assert dispatch_order(row.pk, deferrals=1) == OrderStatus.CONFIRMED
    (request,) = http_lab.requests
    assert request.header("Idempotency-Key") == str(order.pk)
    assert Dispatch.objects.get(pk=row.pk).state == DispatchState.DONE
    # The ticket was given back: the lab is free again.
    again = throttle.acquire(throttle.limits_of(dreve_definition))
    assert again.granted
    again.release()


def test_a_message_for_a_row_already_sent_takes_no_ticket(
    broker, transaction_obj, dreve, dreve_supplier, dreve_definition, alice
):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[f.bte_item()], user=alice
    )
    Dispatch.objects.filter(pk=order.dispatch.pk).update(state=DispatchState.DONE)
    broker.delete(DREVE_QUEUE)
    busy = throttle.acquire(throttle.limits_of(dreve_definition))
    assert dispatch_order(order.dispatch.pk) is None
    assert waiting_messages(broker, DREVE_QUEUE) == []  # not deferred: nothing to send
    busy.release()


def test_the_poll_of_a_lab_at_its_limit_waits_for_the_next_run(
    broker, transaction_obj, dreve, dreve_supplier, dreve_definition, alice, http_lab
):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[f.bte_item()], user=alice
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, OrderStatus.CONFIRMED, source="worker")
    EarmouldOrder.objects.filter(pk=order.pk).update(external_reference="DRV-1")
    http_lab.script(Reply.json({"order_number": "DRV-1", "status": "shipped"}), method="GET", path="/api/v1/orders/DRV-1")

    busy = throttle.acquire(throttle.limits_of(dreve_definition))
    assert poll_lab(str(dreve_definition.pk)) is None
    assert http_lab.requests == []
    busy.release()
    assert polling.poll_one(dreve_definition.pk) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
