"""Celery tasks: they take ids only and are idempotent (the claim makes them so)."""

from celery import shared_task

from . import dispatch, polling


@shared_task(name=dispatch.DISPATCH_TASK, acks_late=True, ignore_result=True)
def dispatch_order(dispatch_id):
    status = dispatch.run(dispatch_id)
    return str(status) if status else None


@shared_task(name="otoorder.orders.tasks.sweep_dispatches", ignore_result=True)
def sweep_dispatches():
    return dispatch.sweep()


@shared_task(name="otoorder.orders.tasks.poll_labs", ignore_result=True)
def poll_labs():
    """Ask the labs about orders in flight and read their inboxes (``polling.poll_all``)."""
    return polling.poll_all()
