"""The order's lifecycle: the status machine (``TRANSITIONS``, ``set_status``) and the steps after
the lab — goods receipt, fitting, closing — and the follow-up orders (re-order, remake).

Every status change of an order, by staff, worker or lab, goes through ``set_status`` (the
lifecycle is data in ``TRANSITIONS``) and so leaves an event with its actor. Placing, sending
and lab reports (``services``, ``dispatch``, ``lab_updates``) all build on this module, which
imports none of them. Views and the API call these functions and map
``ValidationError``/``InvalidTransition`` to their messages.
"""

import calendar
import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otoorder.transactions.models import Step, StepType, Transaction, TransactionTemplate
from otoorder.vocabulary import ImpressionKind, Side

from . import event_texts, schedule
from .choices import EventSource, OrderStatus, OrderType
from .models import EarmouldOrder, OrderEvent, OrderItem
from .validation import ITEM_FIELDS

logger = logging.getLogger(__name__)

S = OrderStatus
#: Where a cancellation goes back to when the lab refuses it ("bereits in Fertigung").
CANCEL_RETURNS = {S.AWAITING_PORTAL, S.ORDERED, S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.ON_HOLD}
#: The lifecycle as data: which status may follow which. "Abschließen" (closed) is possible
#: without a goods receipt, with a reason, once the order has left the branch or failed.
#: An order at a lab is cancelled by asking the lab (``cancel_requested``, or
#: ``cancel_to_report`` where staff report it); the lab itself may report it cancelled.
TRANSITIONS = {
    S.DRAFT: {S.QUEUED, S.CANCELLED},
    S.QUEUED: {S.SENDING, S.CANCELLED, S.FAILED},
    S.SENDING: {S.QUEUED, S.ORDERED, S.CONFIRMED, S.AWAITING_MANUAL, S.AWAITING_PORTAL, S.FAILED, S.REJECTED_BY_LAB},
    S.AWAITING_MANUAL: {S.ORDERED, S.CANCELLED},
    S.AWAITING_PORTAL: {
        S.ORDERED, S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.CANCELLED, S.FAILED,
        S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT,
    },
    S.ORDERED: {
        S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.RECEIVED, S.CANCELLED, S.CLOSED, S.ON_HOLD,
        S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT,
    },
    S.CONFIRMED: {
        S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.RECEIVED, S.CANCELLED, S.CLOSED, S.ON_HOLD,
        S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT,
    },
    S.IN_PRODUCTION: {
        S.SHIPPED, S.RECEIVED, S.CLOSED, S.ON_HOLD, S.CANCELLED, S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT,
    },
    S.ON_HOLD: {
        S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.CANCELLED, S.CLOSED,
        S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT,
    },
    S.CANCEL_REQUESTED: {S.CANCELLED, S.CANCEL_TO_REPORT, *CANCEL_RETURNS},
    S.CANCEL_TO_REPORT: {S.CANCELLED, *CANCEL_RETURNS},
    S.SHIPPED: {S.RECEIVED, S.CLOSED},
    S.RECEIVED: {S.FITTED, S.CLOSED},
    S.FITTED: {S.CLOSED},
    S.FAILED: {S.QUEUED, S.CANCELLED, S.CLOSED},
    S.REJECTED_BY_LAB: {S.QUEUED, S.CANCELLED, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}


class OrderError(Exception):
    code = "order_error"

    def __init__(self, message, **context):
        super().__init__(message)
        self.message = message
        self.context = context


class InvalidTransition(OrderError):
    code = "invalid_status"


def set_status(order, new_status, *, source, actor=None, code=None, params=None, message="", data=None, save_fields=()):
    """Move ``order`` to ``new_status`` and append the event (the lifecycle is data).

    The event carries ``code`` and ``params`` (``event_texts``; given as arguments or in
    ``data``; a plain change is ``status_changed``); ``message`` defaults to the German
    sentence. The dates a status
    implies are set on the way (``schedule.stamp``): the ETA when the order reaches the lab,
    ``shipped_at`` when it is shipped.
    """
    data = dict(data or {})
    data["code"] = code or data.get("code") or "status_changed"
    data["params"] = params if params is not None else data.get("params") or {}
    old = order.status
    if new_status not in TRANSITIONS.get(old, set()):
        raise InvalidTransition(
            _("Eine Bestellung im Status „%(old)s“ kann nicht „%(new)s“ werden.")
            % {"old": OrderStatus(old).label, "new": OrderStatus(new_status).label}
        )
    order.status = new_status
    stamped = schedule.stamp(order, new_status)
    order.save(update_fields=list(dict.fromkeys(["status", "updated_at", *save_fields, *stamped])))
    tick_steps(order, new_status)
    if data["code"] == "status_changed":
        data["params"] = {"status": new_status, **data["params"]}
    return OrderEvent.objects.create(
        order=order,
        from_status=old,
        to_status=new_status,
        source=source,
        actor=actor if actor and actor.is_authenticated else None,
        message=message or event_texts.german(data["code"], data["params"]),
        data=data,
    )


#: The Vorgang's steps an order ticks off when it reaches a status: placing it ticks the
#: Bestellservice step (and "Abdruck nehmen" when the order carries its impressions), the goods
#: receipt "Wareneingang prüfen", the fitting "Anpassung". Staff tick the others by hand.
STEPS_TICKED_BY = {
    S.QUEUED: (StepType.ORDER_SERVICE, StepType.IMPRESSION),
    S.RECEIVED: (StepType.GOODS_RECEIPT,),
    S.FITTED: (StepType.FITTING,),
}


def tick_steps(order, status):
    """Tick off the open steps of the order's Vorgang that ``status`` completes (one UPDATE)."""
    step_types = list(STEPS_TICKED_BY.get(status, ()))
    if not step_types or order.transaction_id is None:
        return
    if StepType.IMPRESSION in step_types and not order.items.filter(impression__isnull=False).exists():
        step_types.remove(StepType.IMPRESSION)
    Step.objects.filter(transaction_id=order.transaction_id, step_type__in=step_types, done_at__isnull=True).update(
        done_at=timezone.now()
    )


def record_event(order, *, code, params=None, message="", source, actor=None, to_status=None, data=None, save_fields=()):
    """An event with ``data["code"]`` and ``data["params"]`` (``event_texts``): a status
    change when ``to_status`` differs and the lifecycle allows it, else an entry in the
    history. Either way the order's ``updated_at`` moves (the live status watches it).
    ``message`` (the German sentence, kept for the migration period) defaults to the code's."""
    if to_status is not None and to_status != order.status and to_status in TRANSITIONS.get(order.status, ()):
        return set_status(
            order, to_status, source=source, actor=actor, code=code, params=params, message=message, data=data,
            save_fields=save_fields,
        )
    data = {**(data or {}), "code": code, "params": params or {}}
    order.save(update_fields=["updated_at", *save_fields])
    return OrderEvent.objects.create(
        order=order,
        source=source,
        actor=actor if actor and actor.is_authenticated else None,
        message=message or event_texts.german(code, data["params"]),
        data=data,
    )


#: Statuses from which the earmoulds can arrive at the branch (Wareneingang).
RECEIVABLE = {OrderStatus.ORDERED, OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.SHIPPED}
#: Statuses in which staff may close an order (with a reason when nothing was received).
CLOSABLE_WITHOUT_RECEIPT = {
    OrderStatus.ORDERED,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.FAILED,
    OrderStatus.REJECTED_BY_LAB,
}
SERIAL_MAX = OrderItem._meta.get_field("serial_number").max_length


def can_receive(order):
    return order.status in RECEIVABLE


def can_fit(order):
    return order.status == OrderStatus.RECEIVED


def can_close(order):
    return order.status in CLOSABLE_WITHOUT_RECEIPT or order.status in (OrderStatus.RECEIVED, OrderStatus.FITTED)


def needs_close_reason(order):
    return order.status in CLOSABLE_WITHOUT_RECEIPT


def _locked(order):
    return EarmouldOrder.objects.select_for_update().get(pk=order.pk)


def _serial_errors(items, serials, without_serial):
    errors = {}
    for side, serial in serials.items():
        if side not in items:
            errors[f"serial_{side}"] = _("Diese Bestellung enthält kein %(side)s Ohr: bitte keine Seriennummer dafür angeben.") % {
                "side": _("linkes") if side == Side.LEFT else _("rechtes")
            }
        elif len(serial) > SERIAL_MAX:
            errors[f"serial_{side}"] = _("Die Seriennummer darf höchstens %(max)d Zeichen lang sein.") % {"max": SERIAL_MAX}
    for side in without_serial:
        if side not in items:
            errors[f"no_serial_{side}"] = _("Diese Bestellung enthält dieses Ohr nicht.")
        elif serials.get(side):
            errors[f"no_serial_{side}"] = _(
                "Bitte entweder die Seriennummer angeben oder „ohne Seriennummer“ ankreuzen, nicht beides."
            )
    for side in items:
        if not serials.get(side) and side not in without_serial and f"serial_{side}" not in errors:
            errors[f"serial_{side}"] = (
                _("Bitte die Seriennummer rechts angeben oder „ohne Seriennummer“ ankreuzen.")
                if side == Side.RIGHT
                else _("Bitte die Seriennummer links angeben oder „ohne Seriennummer“ ankreuzen.")
            )
    return errors


def receive(order, *, user, serials=None, without_serial=(), received_at=None):
    """Wareneingang: record the serial number per ear and move the order to ``received``.

    ``serials`` maps a side (``right``/``left``) to the serial number on that earmould. Every
    ear of the order needs its serial or is named in ``without_serial`` (many soft moulds carry
    none): an ear left out is refused, so a receipt is never silently without serials. A side
    the order does not contain is refused.
    """
    serials = {side: (serial or "").strip() for side, serial in (serials or {}).items()}
    without_serial = set(without_serial or ())
    with transaction.atomic():
        order = _locked(order)
        if not can_receive(order):
            raise InvalidTransition(
                _("Wareneingang ist nur für bestellte, bestätigte, in Fertigung befindliche oder versandte "
                  "Bestellungen möglich; diese ist „%(status)s“.") % {"status": order.get_status_display()}
            )
        items = {item.side: item for item in order.items.all()}
        errors = _serial_errors(items, serials, without_serial)
        if errors:
            raise ValidationError(errors)
        for side, serial in serials.items():
            items[side].serial_number = serial
            items[side].save(update_fields=["serial_number"])
        order.received_at = received_at or timezone.now()
        recorded = {side: serial for side, serial in serials.items() if serial}
        set_status(
            order,
            OrderStatus.RECEIVED,
            source=EventSource.STAFF,
            actor=user,
            code="goods_received",
            params={"variant": "serials", "serials": recorded} if recorded else {},
            data={"serials": recorded, **({"without_serial": sorted(without_serial)} if without_serial else {})},
            save_fields=["received_at"],
        )
    logger.info("order %s received by user %s", order.pk, getattr(user, "pk", None))
    return order


def can_correct_serial(order):
    """Serial numbers can be added or corrected once the goods receipt is booked."""
    return order.received_at is not None and order.status != OrderStatus.CANCELLED


def correct_serial(order, *, user, side, serial):
    """Add or correct the serial number of one ear after the goods receipt (empty = the ear
    carries none); an event keeps the old and the new number."""
    serial = (serial or "").strip()
    with transaction.atomic():
        order = _locked(order)
        if not can_correct_serial(order):
            raise InvalidTransition(_("Seriennummern lassen sich erst nach dem Wareneingang ergänzen oder korrigieren."))
        item = order.items.filter(side=side).first()
        if item is None:
            raise ValidationError({"side": _("Diese Bestellung enthält dieses Ohr nicht: bitte das bestellte Ohr wählen.")})
        if len(serial) > SERIAL_MAX:
            raise ValidationError({"serial": _("Die Seriennummer darf höchstens %(max)d Zeichen lang sein.") % {"max": SERIAL_MAX}})
        old = item.serial_number
        if old == serial:
            raise ValidationError({"serial": _("Diese Seriennummer ist bereits eingetragen.")})
        item.serial_number = serial
        item.save(update_fields=["serial_number"])
        params = {"side": side, "old": old, "new": serial}
        record_event(
            order,
            code="serial_corrected",
            params=params,
            source=EventSource.STAFF,
            actor=user,
        )
    logger.info("order %s: serial of the %s ear corrected by user %s", order.pk, side, getattr(user, "pk", None))
    return order


def add_months(start, months):
    """``start`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def fit(order, *, user, fitted_on=None, warranty_months=None):
    """Anpassung: record the fitting date and the warranty end and move to ``fitted``.

    The warranty runs ``warranty_months`` (default ``OTOORDER_WARRANTY_MONTHS``) from the
    fitting day.
    """
    fitted_on = fitted_on or timezone.localdate()
    months = settings.OTOORDER_WARRANTY_MONTHS if warranty_months in (None, "") else warranty_months
    errors = {}
    if fitted_on > timezone.localdate():
        errors["fitted_on"] = _("Das Anpassungsdatum liegt in der Zukunft: bitte das Datum der Anpassung angeben.")
    try:
        months = int(months)
        if not 0 <= months <= 120:
            raise ValueError
    except (TypeError, ValueError):
        errors["warranty_months"] = _("Die Gewährleistung muss zwischen 0 und 120 Monaten liegen.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = _locked(order)
        if not can_fit(order):
            raise InvalidTransition(
                _("Anpassen geht erst nach dem Wareneingang; diese Bestellung ist „%(status)s“.")
                % {"status": order.get_status_display()}
            )
        if order.received_at and fitted_on < timezone.localtime(order.received_at).date():
            raise ValidationError({"fitted_on": _("Das Anpassungsdatum liegt vor dem Wareneingang: bitte prüfen.")})
        order.fitted_on = fitted_on
        order.warranty_until = add_months(fitted_on, months)
        set_status(
            order,
            OrderStatus.FITTED,
            source=EventSource.STAFF,
            actor=user,
            code="fitted",
            params={"date": fitted_on.isoformat(), "until": order.warranty_until.isoformat()},
            data={"fitted_on": fitted_on.isoformat(), "warranty_until": order.warranty_until.isoformat()},
            save_fields=["fitted_on", "warranty_until"],
        )
    logger.info("order %s fitted by user %s", order.pk, getattr(user, "pk", None))
    return order


def close(order, *, user, reason=""):
    """„Abschließen“ (as in AMPAREX): end the order; without a goods receipt a reason is required."""
    reason = (reason or "").strip()
    with transaction.atomic():
        order = _locked(order)
        if not can_close(order):
            raise InvalidTransition(
                _("Eine Bestellung im Status „%(status)s“ kann nicht abgeschlossen werden.")
                % {"status": order.get_status_display()}
            )
        if needs_close_reason(order) and not reason:
            raise ValidationError(
                {"reason": _("Ohne Wareneingang bitte den Grund des Abschlusses angeben (z. B. „Kunde verzichtet“).")}
            )
        order.closed_at = timezone.now()
        order.close_reason = reason
        set_status(
            order,
            OrderStatus.CLOSED,
            source=EventSource.STAFF,
            actor=user,
            code="closed",
            params={"reason": reason} if reason else {},
            data={"without_receipt": order.received_at is None},
            save_fields=["closed_at", "close_reason"],
        )
    logger.info("order %s closed by user %s", order.pk, getattr(user, "pk", None))
    return order


# --- Follow-up orders: re-order and remake --------------------------------------------------

#: Statuses of an order whose earmould counts as the customer's "last earmould" of an ear.
REORDERABLE = {
    OrderStatus.QUEUED,
    OrderStatus.SENDING,
    OrderStatus.AWAITING_MANUAL,
    OrderStatus.AWAITING_PORTAL,
    OrderStatus.ORDERED,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
    OrderStatus.FITTED,
    OrderStatus.CLOSED,
}


def last_items(customer, sides=(Side.RIGHT, Side.LEFT)):
    """``{side: OrderItem}``: the newest earmould ordered for each ear (failed or cancelled
    orders do not count)."""
    items = (
        OrderItem.objects.filter(order__customer=customer, order__status__in=REORDERABLE, side__in=list(sides))
        .select_related("order__supplier", "order__company", "impression")
        .order_by("-order__created_at")
    )
    found = {}
    for item in items:
        found.setdefault(item.side, item)
        if len(found) == len(sides):
            break
    return found


def item_initial(item):
    """An order item as the initial values of the order form's ear (every field prefilled)."""
    initial = {name: getattr(item, name) for name in ITEM_FIELDS if name not in ("side", "impression")}
    initial["impression"] = str(item.impression_id) if item.impression_id else ""
    initial["order"] = True
    return initial


def reorder_initial(customer, sides):
    """Prefill for a re-order of the last earmoulds of ``sides``; None when there is none.

    Same company and supplier as the newest of them; the impression is reused, and a stored
    scan makes the order a ``reorder_from_scan``.
    """
    items = last_items(customer, sides)
    if not items:
        return None
    newest = max(items.values(), key=lambda item: item.order.created_at).order
    from_scan = any(item.impression and item.impression.kind == ImpressionKind.SCAN for item in items.values())
    return {
        "company": newest.company,
        "supplier": newest.supplier,
        "based_on": newest,
        "header": {"order_type": OrderType.REORDER_FROM_SCAN if from_scan else OrderType.NEW},
        "ears": {side: item_initial(item) for side, item in items.items()},
    }


def remake_initial(original):
    """Prefill for a remake (Reklamation) of ``original``: same lab and specification, linked."""
    return {
        "company": original.company,
        "supplier": original.supplier,
        "header": {"order_type": OrderType.REMAKE, "original_order": str(original.pk)},
        "ears": {item.side: item_initial(item) for item in original.items.select_related("impression")},
    }


def order_template(preferred=None):
    """The transaction template for a follow-up order: ``preferred`` when it is active and has
    a Bestellservice step, otherwise the first active one that has."""
    templates = TransactionTemplate.objects.filter(is_active=True, steps__step_type=StepType.ORDER_SERVICE).distinct()
    if preferred is not None and templates.filter(pk=preferred.pk).exists():
        return preferred
    return templates.order_by("name").first()
