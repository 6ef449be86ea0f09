"""Fault tests with real parts: a worker killed mid-send, the broker down at submission,
two workers racing over duplicated messages. No order is lost and none is sent twice.
"""

import signal
import time

import pytest

from otoorder.orders import dispatch
from otoorder.orders.choices import AttemptOutcome, DispatchState, OrderStatus
from otoorder.orders.models import Dispatch
from otoorder.orders.routing import queue_name
from otoorder.orders.tasks import dispatch_order

from .conftest import BROKER_URL, free_port, use_broker, wait_for, wait_for_status
from .test_dispatch_real import messages_for, place, statuses

#: The queue of the standard process's labs (``routing``): where these orders' tasks wait.
STANDARD_QUEUE = queue_name("standard")

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_killed_while_sending_is_taken_back_by_the_sweeper(
    start_worker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    smtp_lab.answer_next("stall")
    first = start_worker(email_url=smtp_lab.url, name="doomed")

    order = place(transaction_obj, dreve_supplier, alice)

    assert smtp_lab.stalled.wait(timeout=20), "the worker never reached the lab"
    assert Dispatch.objects.get(order=order).state == DispatchState.SENDING
    first.kill(signal.SIGKILL)
    first.process.wait(timeout=10)
    wait_for(lambda: smtp_lab.abandoned, timeout=10, message="the lab to notice the dead client")
    smtp_lab.release.set()
    assert smtp_lab.accepted == []

    # A fresh worker with beat: the sweeper takes the row back after the sending deadline.
    start_worker(email_url=smtp_lab.url, name="rescuer", beat=True, OTOORDER_SWEEP_INTERVAL="0.5")

    wait_for_status(order, OrderStatus.ORDERED, timeout=30)
    (accepted,) = smtp_lab.accepted
    # The same idempotency key both times: the lab can recognise the re-delivery.
    assert str(order.pk) in accepted["Message-ID"]
    assert accepted["Message-ID"] == smtp_lab.abandoned[0]["Message-ID"]
    assert statuses(order) == [
        OrderStatus.QUEUED,
        OrderStatus.SENDING,
        OrderStatus.QUEUED,
        OrderStatus.SENDING,
        OrderStatus.ORDERED,
    ]
    assert "unterbrochen" in order.events.filter(to_status=OrderStatus.QUEUED).last().message
    # The killed worker's send may have reached the lab: the attempt log says so.
    assert list(order.attempts.values_list("number", "outcome")) == [
        (1, AttemptOutcome.AMBIGUOUS),
        (2, AttemptOutcome.ORDERED),
    ]
    assert order.attempts.get(number=1).request_summary == {"idempotency_key": str(order.pk)}


def test_broker_down_at_submission_loses_nothing(start_worker, broker, smtp_lab, transaction_obj, dreve_supplier, alice):
    start_worker(email_url=smtp_lab.url)
    use_broker(f"redis://127.0.0.1:{free_port()}/15")  # nothing listens there

    started = time.monotonic()
    order = place(transaction_obj, dreve_supplier, alice)
    assert time.monotonic() - started < 10, "a dead broker must not hold the submission"

    row = Dispatch.objects.get(order=order)
    assert (order.status, row.state, row.last_enqueued_at) == (OrderStatus.QUEUED, DispatchState.QUEUED, None)
    # Nothing reached the live broker the worker consumes: no message waiting, none taken.
    assert broker.llen(STANDARD_QUEUE) == 0 and broker.hlen("unacked") == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.QUEUED and smtp_lab.accepted == []

    use_broker(BROKER_URL)  # the broker is back
    assert wait_for(dispatch.sweep, timeout=10, message="the sweeper to publish the row") == 1

    wait_for_status(order, OrderStatus.ORDERED)
    assert len(messages_for(smtp_lab, order)) == len(smtp_lab.accepted) == 1
    assert dispatch.sweep() == 0  # nothing left to publish
    assert order.attempts.count() == 1


def test_two_workers_and_duplicated_messages_send_each_order_once(
    start_worker, broker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    orders = [place(transaction_obj, dreve_supplier, alice) for _ in range(5)]
    for order in orders:  # each was published once at commit; two more copies of each
        for _ in range(2):
            dispatch_order.apply_async((order.dispatch.pk,))
    assert broker.llen(STANDARD_QUEUE) == 15

    workers = [start_worker(email_url=smtp_lab.url, name=name, concurrency=2) for name in ("left", "right")]

    for order in orders:
        wait_for_status(order, OrderStatus.ORDERED)

    def all_handled():
        logs = "".join(w.log_path.read_text(errors="replace") for w in workers)
        return logs.count("succeeded in") == 15 and logs

    logs = wait_for(all_handled, timeout=20, message="all 15 messages to be handled")
    assert logs.count(": 'ordered'") == 5 and logs.count(": None") == 10
    assert len(smtp_lab.accepted) == 5
    for order in orders:
        assert len(messages_for(smtp_lab, order)) == 1
        assert order.attempts.count() == 1
