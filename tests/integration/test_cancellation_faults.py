"""Cancellations under faults, with real parts: a worker killed while it sends a cancellation,
the broker down at the moment of cancelling, and an order cancelled while its message waits in
the broker. Nothing is lost and nothing is sent twice (the lab is the SMTP lab of the standard
process; the cancellation travels as the STORNO e-mail).
"""

import signal
import time

import pytest

from otoorder.orders import cancellation, dispatch, services
from otoorder.orders.choices import AttemptOutcome, DispatchState, OrderStatus
from otoorder.orders.models import Cancellation, Dispatch
from otoorder.orders.routing import queue_name

from .conftest import BROKER_URL, free_port, use_broker, wait_for, wait_for_status
from .test_dispatch_real import messages_for, place

#: The queue of the standard process's labs (``routing``): where these orders' tasks wait.
STANDARD_QUEUE = queue_name("standard")

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def storno_mails(messages, order):
    return [m for m in messages if "STORNO" in m["Subject"] and order.number in m["Subject"]]


def ordered(start_worker, smtp_lab, transaction_obj, supplier, user, **worker):
    first = start_worker(email_url=smtp_lab.url, **worker)
    order = place(transaction_obj, supplier, user)
    wait_for_status(order, OrderStatus.ORDERED)
    return first, order


def test_worker_killed_while_sending_a_cancellation_loses_nothing_and_sends_once(
    start_worker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    doomed, order = ordered(start_worker, smtp_lab, transaction_obj, dreve_supplier, alice, name="doomed")
    smtp_lab.answer_next("stall")

    services.cancel(order, user=alice, reason="Kunde verzichtet")

    assert smtp_lab.stalled.wait(timeout=20), "the worker never reached the lab with the cancellation"
    row = Cancellation.objects.get(order=order)
    assert row.state == DispatchState.SENDING
    doomed.kill(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    wait_for(lambda: smtp_lab.abandoned, timeout=10, message="the lab to notice the dead client")
    smtp_lab.release.set()
    assert storno_mails(smtp_lab.accepted, order) == []

    # A fresh worker with beat: the sweeper takes the cancellation back after the deadline.
    start_worker(email_url=smtp_lab.url, name="rescuer", beat=True, OTOORDER_SWEEP_INTERVAL="0.5")

    wait_for(lambda: Cancellation.objects.get(pk=row.pk).state == DispatchState.DONE, timeout=30, message="delivery")
    (accepted,) = storno_mails(smtp_lab.accepted, order)
    (abandoned,) = storno_mails(smtp_lab.abandoned, order)
    # The same key both times: the lab recognises the re-delivery.
    assert accepted["Message-ID"] == abandoned["Message-ID"] == f"<{order.pk}-storno-1@otoorder>"
    attempts = list(order.attempts.filter(purpose="cancellation").values_list("number", "outcome"))
    assert attempts == [(1, AttemptOutcome.AMBIGUOUS), (2, AttemptOutcome.DELIVERED)]
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    assert Cancellation.objects.filter(order=order).count() == 1


def test_broker_down_at_the_moment_of_cancelling_loses_nothing(
    start_worker, broker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    _worker, order = ordered(start_worker, smtp_lab, transaction_obj, dreve_supplier, alice)
    use_broker(f"redis://127.0.0.1:{free_port()}/15")  # nothing listens there

    started = time.monotonic()
    order = services.cancel(order, user=alice, reason="Kunde verzichtet")
    assert time.monotonic() - started < 10, "a dead broker must not hold the cancellation"
    row = Cancellation.objects.get(order=order)
    assert (order.status, row.state, row.last_enqueued_at) == (OrderStatus.CANCEL_REQUESTED, "queued", None)
    assert broker.llen(STANDARD_QUEUE) == 0

    use_broker(BROKER_URL)  # the broker is back
    assert wait_for(cancellation.sweep, timeout=10, message="the sweeper to publish the cancellation") == 1
    wait_for(lambda: Cancellation.objects.get(pk=row.pk).state == DispatchState.DONE, timeout=30, message="delivery")
    assert len(storno_mails(smtp_lab.accepted, order)) == 1
    assert cancellation.sweep() == 0
    assert order.attempts.filter(purpose="cancellation").count() == 1


def test_order_cancelled_while_its_message_waits_is_never_sent(
    start_worker, broker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    order = place(transaction_obj, dreve_supplier, alice)  # published; no worker yet
    assert broker.llen(STANDARD_QUEUE) == 1
    order = services.cancel(order, user=alice)
    assert order.status == OrderStatus.CANCELLED

    start_worker(email_url=smtp_lab.url)  # takes the message: its claim fails
    wait_for(lambda: broker.llen(STANDARD_QUEUE) == 0 and broker.hlen("unacked") == 0, timeout=20, message="the message taken")
    assert dispatch.sweep() == 0
    assert Dispatch.objects.get(order=order).state == DispatchState.CANCELLED
    assert messages_for(smtp_lab, order) == [] and order.attempts.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
