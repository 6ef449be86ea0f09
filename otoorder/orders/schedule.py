"""When an order's earmoulds are expected, and whether the order is late (ETA and overdue).

Labs count working days: Monday to Friday without the public holidays of the branch's
Bundesland (``Branch.state``, the ``holidays`` library). The ETA of an order is the day it was
sent (``ordered_at``, local time) plus the supplier's turnaround (``turnaround_days``, else
``delivery_days``) plus its shipping days, counted in working days; it is stored on the order
(``EarmouldOrder.eta``) when the order reaches the lab, so lists filter and sort on a column.

- **overdue**: the order is open and the earmoulds have not left the lab yet
  (``choices.AWAITING_SHIPMENT``), and its ETA or its date required lies before today;
- **at risk**: such an order whose ETA falls after its date required.

Both exist twice, as functions of one order (``is_overdue``, ``is_at_risk``, ``days_late``) and
as database expressions (``overdue_q``, ``at_risk_q``, ``annotate_schedule``,
``overdue_orders``), which say the same thing (tested against each other).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.utils import timezone

from otoorder.vocabulary import GermanState

from . import choices
from .models import EarmouldOrder

#: Statuses in which an order has reached the lab: its ETA is set then (once).
REACHED_LAB = {
    choices.OrderStatus.ORDERED,
    choices.OrderStatus.CONFIRMED,
    choices.OrderStatus.IN_PRODUCTION,
    choices.OrderStatus.SHIPPED,
}
#: No supplier promises more than this; beyond it the count stops (bounded work).
MAX_WORKING_DAYS = 366


@lru_cache(maxsize=512)
def public_holidays(state, year):
    """The public holidays of a Bundesland in a year, as a frozenset of dates."""
    if state not in GermanState.values:
        state = GermanState.NW
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year).keys())


def is_working_day(day, state):
    return day.weekday() < 5 and day not in public_holidays(state, day.year)


def add_working_days(start, days, state):
    """The date ``days`` working days after ``start`` (``start`` itself never counts).

    0 days is ``start`` itself; an order sent on a Saturday with one day of turnaround is due
    on Monday (or Tuesday when Monday is a holiday of the state).
    """
    days = max(0, min(int(days), MAX_WORKING_DAYS))
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day, state):
            days -= 1
    return day


def turnaround_days(supplier):
    """The supplier's working days of manufacture: ``turnaround_days``, else ``delivery_days``."""
    return supplier.turnaround_days if supplier.turnaround_days is not None else supplier.delivery_days


def compute_eta(order, sent_at=None):
    """The expected date of the order (sent + turnaround + shipping working days), or None
    for an order that was not sent yet."""
    sent_at = sent_at or order.ordered_at
    if sent_at is None:
        return None
    supplier = order.supplier
    start = timezone.localtime(sent_at).date() if timezone.is_aware(sent_at) else sent_at.date()
    return add_working_days(start, turnaround_days(supplier) + (supplier.shipping_days or 0), order.branch.state)


def stamp(order, new_status, now=None):
    """Set the dates a status change implies; returns the names of the fields it set.

    Called by ``lifecycle.set_status`` for every change: the ETA when the order reaches the
    lab (ordered, confirmed — manual confirmation and portal completion included — or straight
    to production or shipped), kept when it is set already; ``shipped_at`` when it is shipped.
    "Erneut senden" (back to queued) starts a new round: the ETA of the earlier one is cleared.
    """
    fields = []
    now = now or timezone.now()
    if new_status == choices.OrderStatus.QUEUED and order.eta is not None:
        order.eta = None
        fields.append("eta")
    if new_status in REACHED_LAB and order.eta is None:
        order.eta = compute_eta(order, sent_at=order.ordered_at or now)
        fields.append("eta")
    if new_status == choices.OrderStatus.SHIPPED and order.shipped_at is None:
        order.shipped_at = now
        fields.append("shipped_at")
    return fields


def _today(today):
    return today or timezone.localdate()


# --- One order -----------------------------------------------------------------------------


def _deadlines(order):
    return [day for day in (order.eta, order.date_required) if day is not None]


def is_overdue(order, today=None):
    today = _today(today)
    return order.status in choices.AWAITING_SHIPMENT and any(day < today for day in _deadlines(order))


def is_at_risk(order):
    return (
        order.status in choices.AWAITING_SHIPMENT
        and order.eta is not None
        and order.date_required is not None
        and order.eta > order.date_required
    )


def days_late(order, today=None):
    """Calendar days since the earliest passed deadline (ETA or date required); 0 when not overdue."""
    today = _today(today)
    if not is_overdue(order, today):
        return 0
    return (today - min(day for day in _deadlines(order) if day < today)).days


@dataclass(frozen=True)
class Schedule:
    eta: date | None
    date_required: date | None
    overdue: bool
    at_risk: bool
    days_late: int


def schedule_of(order, today=None):
    """Everything the order page shows about the order's dates, computed once."""
    today = _today(today)
    return Schedule(
        eta=order.eta,
        date_required=order.date_required,
        overdue=is_overdue(order, today),
        at_risk=is_at_risk(order),
        days_late=days_late(order, today),
    )


# --- The same in SQL -----------------------------------------------------------------------


def overdue_q(today=None, prefix=""):
    """``Q`` of overdue orders (``prefix`` e.g. ``"order__"`` from a related model)."""
    today = _today(today)
    return Q(**{f"{prefix}status__in": list(choices.AWAITING_SHIPMENT)}) & (
        Q(**{f"{prefix}eta__lt": today}) | Q(**{f"{prefix}date_required__lt": today})
    )


def at_risk_q(prefix=""):
    return Q(**{f"{prefix}status__in": list(choices.AWAITING_SHIPMENT)}) & Q(
        **{f"{prefix}eta__gt": F(f"{prefix}date_required")}
    )


def flag(q):
    """A condition as a boolean column (False, never NULL)."""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def annotate_schedule(queryset, today=None):
    """Adds the boolean annotations ``is_overdue`` and ``is_at_risk`` (filterable in SQL)."""
    return queryset.annotate(is_overdue=flag(overdue_q(today)), is_at_risk=flag(at_risk_q()))


def overdue_orders(today=None):
    """Every overdue order (all branches: narrow with ``visible_to`` where a user reads it)."""
    return EarmouldOrder.objects.filter(overdue_q(today))
