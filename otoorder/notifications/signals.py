"""Order events become notifications once their transaction has committed.

The receiver only decides whether an event concerns staff (a cheap look at its fields) and
leaves the work to ``transaction.on_commit``: a rolled-back status change notifies nobody,
and the notification reads the order as committed (tracking number, the lab's question).
``robust`` keeps a failing notification from turning the committed change (a lab's callback,
a worker's result) into an error: it is logged instead.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from otoorder.orders.models import OrderEvent

from .services import kind_of, notify_event


@receiver(post_save, sender=OrderEvent, dispatch_uid="notifications-from-order-events")
def order_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw or kind_of(instance) is None:
        return
    event_id = instance.pk
    transaction.on_commit(lambda: notify_event(event_id), robust=True)
