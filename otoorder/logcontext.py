"""The order a log record concerns, carried as ``order_id`` on every record (JSON logs).

A worker binds the order's UUID while it carries one of the order's outbox rows
(``orders.outbox.run``); Celery's task signals clear it around every task
(``otoorder.celery``), so a record of the next task never carries the previous order.
Only the UUID travels: never a name, an address or anything else of the customer.
"""

import contextvars
import logging

_order_id = contextvars.ContextVar("otoorder_order_id", default=None)


def bind_order(order_id):
    """Records logged from now on in this context concern ``order_id``."""
    _order_id.set(str(order_id) if order_id is not None else None)


def clear():
    _order_id.set(None)


def current_order():
    return _order_id.get()


class OrderContextFilter(logging.Filter):
    """Adds ``order_id`` to a record while an order is bound (never drops a record)."""

    def filter(self, record):
        order_id = _order_id.get()
        if order_id is not None and not hasattr(record, "order_id"):
            record.order_id = order_id
        return True
