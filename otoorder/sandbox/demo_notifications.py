"""Demo orders after the lab, so that the bell of ``demo-staff`` shows something in ``make run``.

Two orders of a demo customer of Filiale Mitte: one the lab confirmed and shipped (with a DHL
tracking number), one whose sending failed. Their status changes go through the lifecycle
and ``apply_status_update`` like real reports, so the notifications arise the real way (from
the order events, after commit) for the staff of the branch. The outbox rows are marked done
first: the worker of ``make run`` sends neither. Idempotent: nothing happens when the demo
customer already has orders.
"""

from decimal import Decimal

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import DispatchState, EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import Dispatch, EarmouldOrder
from otoorder.transactions.models import Transaction

ITEM = {
    "side": "right",
    "product_family": "bte",
    "style": "shell",
    "material": "acrylic",
    "colour": "transparent",
    "vent_type": "parallel",
    "vent_diameter_mm": Decimal("1.5"),
    "tube": "standard_2_1",
}


def _placed(customer, template, company, supplier, user):
    txn = Transaction.objects.start(customer=customer, template=template, user=user)
    order = services.place_order(
        transaction_obj=txn, company=company, supplier=supplier, items=[dict(ITEM)], user=user, step=txn.order_service_step
    )
    Dispatch.objects.filter(order=order).update(state=DispatchState.DONE)
    lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
    return order


def load_demo_orders(*, customer, template, company, supplier, user):
    """Returns how many orders were created (0 when the demo customer has orders already)."""
    if EarmouldOrder.objects.filter(customer=customer).exists():
        return 0
    shipped = _placed(customer, template, company, supplier, user)
    lifecycle.set_status(shipped, OrderStatus.ORDERED, source=EventSource.WORKER, message="Demo")
    apply_status_update(shipped, StatusUpdate(status="confirmed", external_status="bestätigt", external_reference="DEMO-1001"))
    apply_status_update(
        shipped,
        StatusUpdate(
            status="shipped", external_status="versandt", tracking_number="00340434161094042557", data={"carrier": "DHL"}
        ),
    )
    failed = _placed(customer, template, company, supplier, user)
    failed.failure_reason = "Demo: Der Mailserver des Labors hat die Bestellung abgewiesen (550)."
    lifecycle.set_status(
        failed, OrderStatus.FAILED, source=EventSource.WORKER, message=failed.failure_reason, save_fields=["failure_reason"]
    )
    return 2
