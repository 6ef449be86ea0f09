"""The free-remake window (kostenlose Nachfertigung, DOMAIN.md §8): pure computations.

A lab remakes an earmould free of charge for fit (fit, feedback, retention) within
``Supplier.remake_fit_days`` days of delivery and for material defects within
``Supplier.remake_material_months`` months; not when style, material, colour or vent were
changed in the remake. "Delivery" is the order's goods receipt (``received_at``), else the
day the lab shipped it (``shipped_at``). Both last days count (inclusive).

Nothing here queries the database beyond the order's supplier (callers select it with the
order); reasons are codes with parameters, rendered in the reader's language by ``text``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy as _

from otoorder.vocabulary import Side, VentType

from .choices import CostBearer, OrderType

FIT = "fit"
MATERIAL = "material"

#: The fields whose change in a remake voids the free remake, in the order they are named.
VOIDING_FIELDS = ("style", "material", "colour", "vent_type", "vent_diameter_mm")

FIELD_LABELS = {
    "style": _("Bauform"),
    "material": _("Material"),
    "colour": _("Farbe"),
    "vent_type": _("Zusatzbohrung"),
    "vent_diameter_mm": _("Bohrung Ø"),
}

#: Reason codes of a remake the lab may charge, with their sentence (placeholders: params).
REASON_TEXTS = {
    "window_closed": _("die kostenlose Nachfertigung war bis %(until)s möglich"),
    "fit_window_closed": _(
        "die kostenlose Nachfertigung wegen Passform war bis %(until)s möglich (Materialfehler: bis %(material_until)s)"
    ),
    "changed": _("%(side)s geändert: %(fields)s"),
    "other_ear": _("%(side)s gehörte nicht zur ursprünglichen Bestellung"),
}

SIDE_LABELS = {Side.RIGHT: _("rechtes Ohr"), Side.LEFT: _("linkes Ohr")}


@dataclass(frozen=True)
class Windows:
    """The free-remake windows of one delivered earmould (None: not delivered yet)."""

    delivered_on: date | None
    fit_until: date | None
    material_until: date | None

    def open(self, kind, today):
        until = self.fit_until if kind == FIT else self.material_until
        return until is not None and today <= until

    def as_dict(self):
        return {FIT: self.fit_until, MATERIAL: self.material_until}


@dataclass(frozen=True)
class Reason:
    """Why the lab may charge a remake: a code and its parameters (dates as ISO strings)."""

    code: str
    params: dict = field(default_factory=dict)

    @property
    def text(self):
        params = dict(self.params)
        for key in ("until", "material_until"):
            if key in params:
                params[key] = formats.date_format(date.fromisoformat(params[key]), "d.m.Y")
        if "side" in params:
            params["side"] = SIDE_LABELS.get(params["side"], params["side"])
        if "fields" in params:
            params["fields"] = ", ".join(str(FIELD_LABELS[name]) for name in params["fields"])
        return str(REASON_TEXTS[self.code]) % params


def _day(moment):
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
    return moment


def delivered_on(order):
    """The delivery day of ``order``: goods receipt, else the lab's shipping day, else None."""
    return _day(order.received_at) or _day(order.shipped_at)


def windows(order):
    """The free-remake windows of ``order`` (the same for each of its ears)."""
    delivered = delivered_on(order)
    if delivered is None:
        return Windows(None, None, None)
    supplier = order.supplier
    return Windows(
        delivered_on=delivered,
        fit_until=delivered + relativedelta(days=supplier.remake_fit_days),
        material_until=delivered + relativedelta(months=supplier.remake_material_months),
    )


def item_windows(item):
    """The free-remake windows of one earmould (an ``OrderItem`` with its order loaded)."""
    return windows(item.order)


def open_windows(item, today):
    """``{"fit": date|None, "material": date|None}``: the last days of the windows of one
    earmould that are still open on ``today`` (None: closed or not delivered)."""
    found = item_windows(item)
    return {kind: until if found.open(kind, today) else None for kind, until in found.as_dict().items()}


def _value(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _normalised(name, value):
    if value in (None, ""):
        return None
    if name == "colour":
        return " ".join(str(value).split()).casefold()
    if name == "vent_diameter_mm":
        try:
            return Decimal(str(value)).normalize()
        except InvalidOperation:
            return str(value)
    return str(value)


def voiding_changes(original_item, remake_item):
    """The fields among style, material, colour and vent (type and diameter) in which
    ``remake_item`` differs from ``original_item`` (objects or dicts of field values)."""
    changed = []
    for name in VOIDING_FIELDS:
        if name == "vent_diameter_mm" and all(
            (_value(item, "vent_type") or VentType.NONE) == VentType.NONE for item in (original_item, remake_item)
        ):
            continue  # no vent on either: a stray diameter changes nothing
        if _normalised(name, _value(original_item, name)) != _normalised(name, _value(remake_item, name)):
            changed.append(name)
    return changed


def window_reasons(order, today, category=None):
    """Why a remake of ``order`` on ``today`` is not free by its window: ``[]`` while the
    window of ``category`` (fit or material; None: a remake of unknown cause, judged by the
    fit window) is open or the order was not delivered yet."""
    found = windows(order)
    if found.delivered_on is None:
        return []
    if category == MATERIAL:
        if found.open(MATERIAL, today):
            return []
        return [Reason("window_closed", {"until": found.material_until.isoformat()})]
    if found.open(FIT, today):
        return []
    if category is None and found.open(MATERIAL, today):
        return [
            Reason(
                "fit_window_closed",
                {"until": found.fit_until.isoformat(), "material_until": found.material_until.isoformat()},
            )
        ]
    return [Reason("window_closed", {"until": found.fit_until.isoformat()})]


def charge_reasons(original, remake_items, today, category=None):
    """Why the lab may charge the remake of ``original`` with ``remake_items`` (dicts or
    objects with ``side``), right ear first: the window, then each ear's changes."""
    reasons = window_reasons(original, today, category)
    originals = {item.side: item for item in original.items.all()}
    ordered = sorted(remake_items, key=lambda item: 0 if _value(item, "side") == Side.RIGHT else 1)
    for item in ordered:
        side = _value(item, "side")
        before = originals.get(side)
        if before is None:
            reasons.append(Reason("other_ear", {"side": side}))
            continue
        changed = voiding_changes(before, item)
        if changed:
            reasons.append(Reason("changed", {"side": side, "fields": changed}))
    return reasons


def remake_reasons(order, today):
    """Why the lab may charge ``order`` when it is a remake of an earlier order (its
    ``original_order``), judged by its own ears; ``[]`` for any other order."""
    if order.original_order_id is None:
        return []
    return charge_reasons(order.original_order, list(order.items.all()), today)


def warning_text(reasons):
    """The form's warning: "Das Labor kann diese Nachfertigung berechnen: …"."""
    return gettext("Das Labor kann diese Nachfertigung berechnen: %(reasons)s.") % {
        "reasons": "; ".join(reason.text for reason in reasons)
    }


def reasons_key(reasons):
    """A stable text naming ``reasons``: the form sends back the key of the warning staff saw."""
    return "|".join(f"{r.code}:{','.join(f'{k}={v}' for k, v in sorted(r.params.items()))}" for r in reasons)


def warnings(reasons):
    """The reasons as the API returns them: ``[{"code", "detail"}]``, each detail a sentence."""
    return [{"code": reason.code, "detail": warning_text([reason])} for reason in reasons]


#: Cost bearers for whom the lab bills (anyone but the lab's own warranty).
CHARGED_BEARERS = (CostBearer.CHAIN, CostBearer.CUSTOMER)


def charged_by_lab(cost_bearer, amount):
    """The lab bills someone for the remake: a cost bearer other than the lab and an amount > 0."""
    return cost_bearer in CHARGED_BEARERS and amount is not None and amount > 0


def lab_charge_flagged(order):
    """A remake the lab charges although it was ordered inside the free-remake window of its
    original (judged on the day the remake was placed, by its reason's category): "Labor
    berechnet innerhalb der kostenlosen Nachfertigung". Needs ``original_order`` with its
    supplier; no query beyond that."""
    if order.original_order_id is None or order.order_type != OrderType.REMAKE:
        return False
    if not charged_by_lab(order.cost_bearer, order.cost_amount):
        return False
    placed = _day(order.created_at) or timezone.localdate()
    original = order.original_order
    return delivered_on(original) is not None and not window_reasons(original, placed, order.reason_category or None)
