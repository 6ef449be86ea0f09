"""Celery tasks: they take ids only and are idempotent (the claim makes them so)."""

from celery import shared_task

from . import cancellation, dispatch, lab_messages, polling


@shared_task(name=dispatch.DISPATCH_TASK, acks_late=True, ignore_result=True)
def dispatch_order(dispatch_id):
    status = dispatch.run(dispatch_id)
    return str(status) if status else None


@shared_task(name=cancellation.CANCEL_TASK, acks_late=True, ignore_result=True)
def send_cancellation(cancellation_id):
    """Carry a cancellation request to the lab (``cancellation.run``)."""
    outcome = cancellation.run(cancellation_id)
    return str(outcome) if outcome else None


@shared_task(name=lab_messages.MESSAGE_TASK, acks_late=True, ignore_result=True)
def send_lab_message(message_id):
    """Carry staff's answer to a lab's question (``lab_messages.run``)."""
    outcome = lab_messages.run(message_id)
    return str(outcome) if outcome else None


@shared_task(name="otoorder.orders.tasks.sweep_dispatches", ignore_result=True)
def sweep_dispatches():
    """The sweeper of every outbox: orders, cancellations and answers to lab questions."""
    return dispatch.sweep() + cancellation.sweep() + lab_messages.sweep()


@shared_task(name="otoorder.orders.tasks.poll_labs", ignore_result=True)
def poll_labs():
    """Ask the labs about orders in flight and read their inboxes (``polling.poll_all``)."""
    return polling.poll_all()
