"""Sending orders: the order's outbox row (``Dispatch``) on the shared outbox (``outbox``).

How an order travels (DESIGN.md §3): ``place_order`` stores the order as ``queued`` with its
``Dispatch`` row in one transaction and publishes the task after commit; the worker claims the
row, builds the document, calls the backend with the order's UUID as idempotency key, records
the attempt and moves the order on. Claim, retry policy, attempt log and sweeper are the
outbox's (``outbox.py``), shared with cancellations and lab messages; this module says what
the answers mean for the order.

A cancellation that arrives while the order is being sent is parked (``cancellation``): when
the send ends, a failed or refused send is cancelled at once, a delivered one becomes a
cancellation request to the lab.
"""

import logging

from django.db import transaction
from django.utils import timezone

from otoorder.backends.result import ResultStatus

from . import cancellation, event_texts, outbox
from .choices import AttemptPurpose, DispatchState, EventSource, OrderStatus
from .documents import build_document
from .lifecycle import record_event, set_status
from .models import Dispatch
from .outbox import backoff_seconds, policy, retry_delay  # noqa: F401 - the dispatch API of tests and callers

logger = logging.getLogger(__name__)

RESULT_TO_STATUS = {
    ResultStatus.ORDERED: OrderStatus.ORDERED,
    ResultStatus.CONFIRMED: OrderStatus.CONFIRMED,
    ResultStatus.AWAITING_PORTAL: OrderStatus.AWAITING_PORTAL,
    ResultStatus.AWAITING_MANUAL: OrderStatus.AWAITING_MANUAL,
    ResultStatus.REJECTED: OrderStatus.REJECTED_BY_LAB,
}


def result_params(result):
    """The event params of a lab's answer to the order (code ``sent``): which answer, the
    lab's number, the lab's own words of a refusal, the attachments and scans it did not carry. The
    backend's German summary stays in the event's data (``backend_message``), not shown."""
    params = {"variant": result.status.value}
    if result.status == ResultStatus.ORDERED and result.data.get("email_to"):
        params.update(variant="email", to=result.data["email_to"])
    if result.external_reference:
        params["reference"] = result.external_reference
    if result.lab_text:
        params["lab_text"] = result.lab_text
    for name in ("attachments_not_sent", "scans_separate"):
        if result.data.get(name):
            params[name] = result.data[name]
    return params


#: The Celery task that runs ``run`` (``tasks.dispatch_order``). It is published by name, so
#: this module does not import the task module, which imports it.
DISPATCH_TASK = "otoorder.orders.tasks.dispatch_order"


class OrderOutbox(outbox.Outbox):
    """The order itself: idempotency key the order's UUID, attempts with purpose ``order``."""

    model = Dispatch
    task = DISPATCH_TASK
    purpose = AttemptPurpose.ORDER
    noun = "dispatch"

    def claimed(self, row, order):
        if order.status == OrderStatus.QUEUED:
            _transition(order, OrderStatus.SENDING, code="sending")

    def deliver(self, row, order, backend):
        return backend.send(build_document(order))

    def succeeded(self, row, token, order, result, started_at, duration_ms):
        return _succeed(row, token, order, result, started_at, duration_ms)

    def retrying(self, row, order, error, countdown):
        params = outbox.retry_params(row, error, countdown)
        if order.status == OrderStatus.QUEUED:  # taken back by the sweeper meanwhile
            record_event(order, code="send_retry", params=params, source=EventSource.WORKER)
        elif order.status == OrderStatus.SENDING:
            _transition(order, OrderStatus.QUEUED, code="send_retry", params=params)
        if not error.ambiguous and cancellation.cancel_parked(order, sent=False):
            # Cancelled while this attempt ran, and the lab did not get the order.
            Dispatch.objects.filter(pk=row.pk).update(state=DispatchState.CANCELLED)
            return OrderStatus.CANCELLED
        transaction.on_commit(lambda: enqueue(row.pk, countdown=countdown))
        return OrderStatus.QUEUED

    def given_up(self, row, order, error, reason):
        order.failure_reason = event_texts.german("send_failed", reason)
        order.failure_params = reason
        if order.status in (OrderStatus.SENDING, OrderStatus.QUEUED):
            _transition(
                order, OrderStatus.FAILED, code="send_failed", params=reason, save_fields=["failure_reason", "failure_params"]
            )
        if cancellation.cancel_parked(order, sent=False):
            return OrderStatus.CANCELLED
        return OrderStatus.FAILED

    def taken_back(self, row, order):
        if order.status == OrderStatus.SENDING:
            _transition(order, OrderStatus.QUEUED, code="send_interrupted")


ORDERS = OrderOutbox()


def enqueue(dispatch_id, countdown=None):
    """Publish the order's task (see ``outbox.enqueue``); False leaves it to the sweeper."""
    return outbox.enqueue(ORDERS, dispatch_id, countdown=countdown)


def claim(dispatch_id):
    """Atomically take a due ``queued`` row; returns the claim token or None."""
    return outbox.claim(ORDERS, dispatch_id)


def run(dispatch_id):
    """Send one outbox row if it can be claimed. Returns the new order status or None."""
    return outbox.run(ORDERS, dispatch_id)


def sweep(now=None):
    """Publish order rows that should be moving and are not; returns how many were published."""
    return outbox.sweep(ORDERS, now)


def _succeed(dispatch, token, order, result, started_at, duration_ms):
    new_status = RESULT_TO_STATUS[result.status]
    with transaction.atomic():
        order = outbox.lock_order(order.pk)
        ours = outbox.release(ORDERS, dispatch, token, state=DispatchState.DONE, last_error="")
        outbox.record_attempt(
            ORDERS,
            dispatch,
            order,
            started_at,
            duration_ms,
            result.status.value,
            summary=result.request_summary,
            response=result.raw_response,
            fresh=ours,
        )
        fields = []
        if result.external_reference:
            order.external_reference = result.external_reference
            fields.append("external_reference")
        if result.external_status:
            order.external_status = result.external_status
            fields.append("external_status")
        if result.data.get("properties"):
            order.lab_properties = result.data["properties"]
            fields.append("lab_properties")
        if new_status in (OrderStatus.ORDERED, OrderStatus.CONFIRMED):
            order.ordered_at = timezone.now()
            fields.append("ordered_at")
        if order.status == OrderStatus.QUEUED:
            # The sweeper had taken the row back from this presumed-dead worker meanwhile.
            _transition(order, OrderStatus.SENDING, code="late_answer")
        if order.status == new_status:
            order.save(update_fields=[*fields, "updated_at"])
        elif order.status == OrderStatus.SENDING:
            _transition(
                order,
                new_status,
                code="sent",
                params=result_params(result),
                data={"external_reference": result.external_reference, "backend_message": result.message, **result.data},
                save_fields=fields,
            )
        else:
            # A late answer for an order that moved on meanwhile (e.g. cancelled): keep the lab's
            # words and number, change nothing else.
            order.save(update_fields=[*fields, "updated_at"])
            record_event(
                order,
                code="sent",
                params=result_params(result),
                source=EventSource.WORKER,
                data={"external_reference": result.external_reference, "backend_message": result.message},
            )
        # Cancelled while it was being sent: the lab has it now, so ask the lab (or, when the
        # lab refused it or staff still have to order by hand, cancel at once).
        parked = cancellation.cancel_parked(order, sent=new_status not in cancellation.NOT_AT_LAB)
        if parked:
            new_status = order.status
    logger.info("order %s sent: %s", order.pk, new_status)
    return new_status


def _transition(order, new_status, *, code, params=None, data=None, save_fields=()):
    """A worker's status change; callers hold the transaction (and the order's lock)."""
    return set_status(
        order, new_status, source=EventSource.WORKER, code=code, params=params, data=data, save_fields=save_fields
    )
