"""Overdue orders: one notification per order, recipient and day (``Kind.OVERDUE``).

Beat runs ``notify_overdue`` every hour; the unique constraint ``notification_once_per_day``
(recipient, order, kind, day) makes every later run of the same day add nothing, so a
repeated or overlapping run, or a beat that missed its hour, is harmless. Which orders are
overdue is decided by ``otoorder.orders.schedule`` (ETA or date required passed without
shipment).
"""

import logging

from django.utils import timezone

from otoorder.orders import schedule

from .choices import Kind
from .models import Notification
from .services import params_for, recipient_ids

logger = logging.getLogger(__name__)

#: Orders handled per insert.
BATCH = 500


def _due(order, today):
    passed = [day for day in (order.eta, order.date_required) if day is not None and day < today]
    return min(passed) if passed else None


def notify_overdue(today=None):
    """Notify every overdue order's branch for ``today``; returns the notifications written
    (an upper bound: rows that existed already are skipped by the database)."""
    today = today or timezone.localdate()
    orders = list(schedule.overdue_orders(today).select_related("supplier__company").order_by("pk"))
    people = recipient_ids({order.branch_id for order in orders})
    rows = []
    for order in orders:
        params = params_for(Kind.OVERDUE, order)
        due = _due(order, today)
        if due is not None:
            params["due"] = due.isoformat()
        rows += [
            Notification(recipient_id=user_id, order=order, kind=Kind.OVERDUE, params=params, day=today)
            for user_id in people.get(order.branch_id, [])
        ]
    Notification.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    logger.info("overdue: %s orders, %s notifications offered for %s", len(orders), len(rows), today)
    return len(rows)
