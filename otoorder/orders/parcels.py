"""Impression logistics: the box label of an impression and the parcel (Sammelversand).

Staff put the open physical impressions going to one lab into one parcel and record the
carrier and tracking number once (``create_parcel``); every order with an impression in it shows
"Abdruck unterwegs" with the tracking link. The lab's report that it received impressions
(``StatusUpdate.impressions_received``, applied by ``lab_updates``) marks them received and closes
a parcel once all of its impressions arrived (``record_lab_receipt``); staff may close one by
hand (``close_parcel``). Each step writes an event on the orders concerned.

Every lookup is scoped by ``visible_to(user)``: another branch's impression is "not found".
"""

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otoorder.vocabulary import Carrier, ImpressionKind, Side

from . import choices, labels
from .choices import EventSource, OrderStatus
from .event_texts import TEXTS
from .lifecycle import record_event
from .models import EarmouldOrder, Impression, OrderItem, Parcel, ParcelItem

logger = logging.getLogger(__name__)

#: More boxes than this do not go into one parcel (and bound the work of one request).
MAX_IMPRESSIONS = 50
#: An impression goes to the lab while its order is on the way there or at the lab: not yet
#: shipped back, failed, rejected or being cancelled.
PARCEL_STATUSES = frozenset(choices.AWAITING_SHIPMENT - choices.CANCELLING)
TRACKING_MAX = Parcel._meta.get_field("tracking_number").max_length


def open_items(user, supplier=None):
    """The order items whose physical impression may go into a parcel: the impression is in no
    parcel and not at the lab yet, its order is visible to ``user`` and on its way to the lab."""
    items = OrderItem.objects.filter(
        order__in=EarmouldOrder.objects.visible_to(user),
        order__status__in=list(PARCEL_STATUSES),
        impression__kind=ImpressionKind.PHYSICAL,
        impression__lab_received_at__isnull=True,
        impression__parcel_item__isnull=True,
    )
    if supplier is not None:
        items = items.filter(order__supplier=supplier)
    return items.select_related("order__customer", "order__supplier__company", "order__branch", "impression").order_by(
        "order__number", "-side"
    )


def open_impressions(user, supplier):
    """``open_items`` with one item per impression (an impression on two open orders to the
    lab is offered once, with the first order by number)."""
    items = {}
    for item in open_items(user, supplier):
        items.setdefault(item.impression_id, item)
    return list(items.values())


def label_order(impression, user):
    """The order whose number the box label of ``impression`` carries: the order it travels
    with in a parcel, else its newest visible order that is not cancelled; ``None`` without one."""
    item = ParcelItem.objects.filter(impression=impression).select_related("order").first()
    if item is not None:
        return item.order
    return (
        EarmouldOrder.objects.visible_to(user)
        .filter(items__impression=impression)
        .exclude(status__in=(OrderStatus.DRAFT, OrderStatus.CANCELLED))
        .order_by("-created_at")
        .first()
    )


def box_label(impression, order):
    """The values printed on the box label of ``impression`` sent with ``order``."""
    return labels.BoxLabel(
        number=labels.label_number(order.number, impression.side),
        order_number=order.number,
        side=impression.side,
        lab=order.supplier.display_name,
        branch=order.branch.name,
        impression_date=timezone.localtime(impression.created_at).date() if impression.created_at else None,
        customer_number=str(impression.customer.customer_number),
    )


def _refusal(message, code):
    return ValidationError(message, code=code)


def _check_impressions(impressions, found, supplier, user):
    """The (impression, order) pairs of the requested ids, or the German refusals with codes."""
    errors, pairs = [], []
    orders = {}
    for item in (
        OrderItem.objects.filter(impression__in=list(found.values()), order__in=EarmouldOrder.objects.visible_to(user))
        .exclude(order__status__in=(OrderStatus.DRAFT,))
        .select_related("order__supplier__company", "order__branch")
        .order_by("-order__created_at")
    ):
        orders.setdefault(item.impression_id, []).append(item.order)
    for pk in impressions:
        impression = found.get(pk)
        if impression is None:
            errors.append(
                _refusal(
                    _("Der Abdruck %(id)s wurde nicht gefunden (unbekannt oder aus einer anderen Filiale).") % {"id": pk},
                    "impression_not_found",
                )
            )
            continue
        name = str(impression)
        if impression.kind != ImpressionKind.PHYSICAL:
            errors.append(
                _refusal(
                    _("„%(name)s“ ist ein 3D-Scan: in ein Paket gehören nur Abdrücke per Post.") % {"name": name},
                    "impression_not_physical",
                )
            )
            continue
        existing = getattr(impression, "parcel_item", None)
        if existing is not None:
            errors.append(
                _refusal(
                    _("„%(name)s“ liegt schon in einem Paket (Sendungsnummer %(number)s).")
                    % {"name": name, "number": existing.parcel.tracking_number},
                    "impression_in_parcel",
                )
            )
            continue
        if impression.lab_received_at is not None:
            errors.append(
                _refusal(_("„%(name)s“ ist schon beim Labor eingegangen.") % {"name": name}, "impression_received")
            )
            continue
        candidates = [order for order in orders.get(impression.pk, ()) if order.status in PARCEL_STATUSES]
        if not candidates:
            errors.append(
                _refusal(
                    _("Zu „%(name)s“ gibt es keine offene Bestellung, die auf den Abdruck wartet.") % {"name": name},
                    "impression_without_order",
                )
            )
            continue
        order = next((o for o in candidates if o.supplier_id == supplier.pk), None)
        if order is None:
            errors.append(
                _refusal(
                    _("„%(name)s“ gehört zur Bestellung %(number)s an %(lab)s, nicht an %(supplier)s.")
                    % {
                        "name": name,
                        "number": candidates[0].number,
                        "lab": candidates[0].supplier.display_name,
                        "supplier": supplier.display_name,
                    },
                    "impression_other_lab",
                )
            )
            continue
        pairs.append((impression, order))
    if not errors and len({order.branch_id for _impression, order in pairs}) > 1:
        errors.append(
            _refusal(
                _("Ein Paket geht aus einer Filiale: bitte nur Abdrücke einer Filiale auswählen."),
                "impressions_mixed_branches",
            )
        )
    return pairs, errors


def clean_parcel(*, carrier, tracking_number, impressions):
    """The field errors of a parcel's values (before any lookup)."""
    errors = {}
    if carrier not in Carrier.values:
        errors["carrier"] = [_refusal(_("Bitte den Versanddienstleister wählen."), "invalid_carrier")]
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        errors["tracking_number"] = [_refusal(_("Bitte die Sendungsnummer des Pakets angeben."), "required")]
    elif len(tracking_number) > TRACKING_MAX:
        errors["tracking_number"] = [
            _refusal(_("Die Sendungsnummer hat höchstens %(max)d Zeichen.") % {"max": TRACKING_MAX}, "max_length")
        ]
    if not impressions:
        errors["impressions"] = [_refusal(_("Bitte mindestens einen Abdruck auswählen."), "no_impressions")]
    elif len(impressions) > MAX_IMPRESSIONS:
        errors["impressions"] = [
            _refusal(
                _("Höchstens %(max)d Abdrücke passen in ein Paket; bitte auf mehrere Pakete verteilen.")
                % {"max": MAX_IMPRESSIONS},
                "too_many_impressions",
            )
        ]
    elif len({_as_uuid(pk) for pk in impressions}) != len(impressions):
        errors["impressions"] = [_refusal(_("Jeder Abdruck kann nur einmal ins Paket."), "duplicate_impressions")]
    if errors:
        raise ValidationError(errors)
    return tracking_number, [_as_uuid(pk) for pk in impressions]


def _as_uuid(value):
    """An impression id as a UUID; a malformed one stays as it came (and is "not found")."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return str(value)[:40]


def create_parcel(*, user, supplier, impressions, carrier, tracking_number):
    """A parcel of ``impressions`` (ids) to ``supplier``: all physical, open, of one branch, each
    with an order to that lab. Raises ``ValidationError`` keyed by field, each error with a code."""
    tracking_number, impressions = clean_parcel(carrier=carrier, tracking_number=tracking_number, impressions=impressions)
    with transaction.atomic():
        found = {
            impression.pk: impression
            for impression in Impression.objects.visible_to(user)
            .filter(pk__in=[pk for pk in impressions if isinstance(pk, uuid.UUID)])
            .select_related("customer", "parcel_item__parcel")
            .select_for_update(of=("self",))
        }
        pairs, errors = _check_impressions(impressions, found, supplier, user)
        if errors:
            raise ValidationError({"impressions": errors})
        parcel = Parcel.objects.create(
            branch_id=pairs[0][1].branch_id,
            supplier=supplier,
            carrier=carrier,
            tracking_number=tracking_number,
            created_by=user if user and user.is_authenticated else None,
        )
        try:
            with transaction.atomic():
                ParcelItem.objects.bulk_create(
                    [ParcelItem(parcel=parcel, impression=impression, order=order) for impression, order in pairs]
                )
        except IntegrityError:
            # Another request packed one of them meanwhile.
            raise ValidationError(
                {"impressions": [_refusal(_("Einer der Abdrücke wurde gerade in ein anderes Paket gelegt."), "impression_in_parcel")]}
            ) from None
        Impression.objects.filter(pk__in=[impression.pk for impression, _order in pairs]).update(
            tracking_number=tracking_number
        )
        carrier_label = str(Carrier(carrier).label)
        for order in _distinct_orders(order for _impression, order in pairs):
            _event(
                order,
                "impression_parcel_sent",
                {"supplier": supplier.display_name, "carrier": carrier_label, "tracking_number": tracking_number},
                source=EventSource.STAFF,
                actor=user,
            )
    logger.info("parcel %s with %d impressions created by user %s", parcel.pk, len(pairs), getattr(user, "pk", None))
    return parcel


def _distinct_orders(orders):
    seen = {}
    for order in orders:
        seen.setdefault(order.pk, order)
    return list(seen.values())


def _event(order, code, params, *, source, actor=None):
    """An event with its code and parameters; its stored sentence is the German one, whatever
    language the request that caused it speaks (pages render the code in the reader's)."""
    with translation.override(settings.LANGUAGE_CODE):
        message = str(TEXTS[code]) % params
    record_event(order, code=code, params=params, message=message, source=source, actor=actor)


def _close(parcel, *, user, code, source):
    parcel.closed_at = timezone.now()
    parcel.closed_by = user if user and user.is_authenticated else None
    parcel.save(update_fields=["closed_at", "closed_by"])
    orders = EarmouldOrder.objects.filter(parcel_items__parcel=parcel).distinct().order_by("number")
    for order in orders:
        _event(order, code, {"tracking_number": parcel.tracking_number}, source=source, actor=user)


def close_parcel(parcel, *, user):
    """Staff close an open parcel by hand (the lab confirmed by phone, or it is settled)."""
    with transaction.atomic():
        parcel = Parcel.objects.select_for_update().get(pk=parcel.pk)
        if not parcel.is_open:
            raise ValidationError(_("Dieses Paket ist bereits abgeschlossen."), code="parcel_closed")
        _close(
            parcel,
            user=user,
            code="parcel_closed_by_staff",
            source=EventSource.STAFF,
        )
    logger.info("parcel %s closed by user %s", parcel.pk, getattr(user, "pk", None))
    return parcel


RECEIVED_CODES = {Side.RIGHT: "impression_received_right", Side.LEFT: "impression_received_left"}


def record_lab_receipt(order, sides, *, source=EventSource.LAB):
    """The lab reports it has the physical impressions of ``sides`` of ``order``: mark them
    received, write an event per ear, close every parcel whose impressions all arrived.

    Called by ``lab_updates`` inside its transaction; returns the number of impressions marked."""
    sides = [side for side in Side.values if side in set(sides)]
    items = list(
        order.items.filter(
            side__in=sides, impression__kind=ImpressionKind.PHYSICAL, impression__lab_received_at__isnull=True
        ).select_related("impression")
    )
    if not items:
        return 0
    now = timezone.now()
    Impression.objects.filter(pk__in=[item.impression_id for item in items]).update(lab_received_at=now)
    for item in sorted(items, key=lambda item: item.side != Side.RIGHT):
        _event(order, RECEIVED_CODES[item.side], {}, source=source)
    touched = ParcelItem.objects.filter(impression__in=[item.impression_id for item in items]).values("parcel")
    parcels = Parcel.objects.select_for_update().filter(closed_at__isnull=True, pk__in=touched).order_by("pk")
    for parcel in parcels:
        if not parcel.items.filter(impression__lab_received_at__isnull=True).exists():
            _close(
                parcel,
                user=None,
                code="parcel_closed_received",
                source=source,
            )
    return len(items)


def packing_list(parcel):
    """The values of the parcel's packing list, one line per box, by order number, right first."""
    items = parcel.items.select_related("order", "impression__customer").order_by("order__number", "-impression__side")
    lines = tuple(
        labels.PackingLine(
            label_number=labels.label_number(item.order.number, item.impression.side),
            order_number=item.order.number,
            side=item.impression.side,
            customer_number=str(item.impression.customer.customer_number),
            received=item.impression.lab_received_at is not None,
        )
        for item in items
    )
    return labels.PackingList(
        lab=parcel.supplier.display_name,
        branch_lines=tuple(parcel.branch.address_lines),
        carrier=parcel.get_carrier_display(),
        tracking_number=parcel.tracking_number,
        created_at=timezone.localtime(parcel.created_at).date(),
        lines=lines,
    )


def order_parcels(order):
    """``[(item, parcel)]`` of the order's impressions in parcels, right ear first (order page)."""
    items = order.parcel_items.select_related("parcel", "impression")
    return sorted(items, key=lambda item: item.impression.side != Side.RIGHT)
