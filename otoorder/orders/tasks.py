"""Celery tasks: they take ids only and are idempotent (the claim makes them so).

The tasks that talk to a lab run on the lab's queue (``routing``) and within its limits
(``lanes``, ``throttle``); ``deferrals`` counts how often a row already waited for them.
"""

from celery import shared_task

from . import cancellation, dispatch, lab_messages, lanes, polling
from .routing import POLL_TASK


@shared_task(name=dispatch.DISPATCH_TASK, acks_late=True, ignore_result=True)
def dispatch_order(dispatch_id, deferrals=0):
    status = lanes.run(dispatch.ORDERS, dispatch_id, deferrals)
    return str(status) if status else None


@shared_task(name=cancellation.CANCEL_TASK, acks_late=True, ignore_result=True)
def send_cancellation(cancellation_id, deferrals=0):
    """Carry a cancellation request to the lab (``cancellation.run``)."""
    outcome = lanes.run(cancellation.CANCELLATIONS, cancellation_id, deferrals)
    return str(outcome) if outcome else None


@shared_task(name=lab_messages.MESSAGE_TASK, acks_late=True, ignore_result=True)
def send_lab_message(message_id, deferrals=0):
    """Carry staff's answer to a lab's question (``lab_messages.run``)."""
    outcome = lanes.run(lab_messages.MESSAGES, message_id, deferrals)
    return str(outcome) if outcome else None


@shared_task(name="otoorder.orders.tasks.sweep_dispatches", ignore_result=True)
def sweep_dispatches():
    """The sweeper of every outbox: orders, cancellations and answers to lab questions."""
    return dispatch.sweep() + cancellation.sweep() + lab_messages.sweep()


@shared_task(name="otoorder.orders.tasks.poll_labs", ignore_result=True)
def poll_labs():
    """Hand out one poll per pollable definition, each to its lab's queue (``poll_lab``).

    Returns the ids of the definitions whose poll was published.
    """
    published = []
    for definition, _backend_class in polling.pollable_definitions():
        poll_lab.apply_async((str(definition.pk),))
        published.append(str(definition.pk))
    return published


@shared_task(name=POLL_TASK, ignore_result=True)
def poll_lab(definition_id):
    """Ask one lab about its orders in flight and read its inbox (``polling.poll_one``)."""
    return polling.poll_one(definition_id)
