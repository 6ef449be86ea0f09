"""The rules labs punish when missing (DOMAIN.md §5), shared by the form, the API and the
order service: one place decides whether an order item is complete.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _, gettext_lazy

from .choices import Material, ProductFamily, ReceiverPower, Side, Style, Tube, VentType

ITEM_FIELDS = (
    "side",
    "product_family",
    "style",
    "material",
    "colour",
    "vent_type",
    "vent_diameter_mm",
    "tube",
    "receiver_power",
    "receiver_length",
    "quantity",
    "impression",
    "notes",
)
#: Largest vent (mm) each style can carry; the lab catalogues refine this per lab later.
MAX_VENT_MM = {
    Style.FULL_SHELL: Decimal("3.0"),
    Style.SHELL: Decimal("3.0"),
    Style.HALF_SHELL: Decimal("2.5"),
    Style.SKELETON: Decimal("2.5"),
    Style.RING: Decimal("2.0"),
    Style.CLAW: Decimal("2.0"),
    Style.CANAL_LOCK: Decimal("2.0"),
    Style.CANAL: Decimal("1.5"),
    Style.CIC: Decimal("1.0"),
}
TUBE_FAMILIES = {ProductFamily.BTE, ProductFamily.THIN_TUBE}


def check_item(item):
    """Return ``{field: message}`` for one item given as a dict of canonical values."""
    errors = {}

    def choice(name, choices_cls, required=True):
        value = item.get(name) or ""
        if not value:
            if required:
                errors[name] = _("Bitte %(field)s angeben.") % {"field": FIELD_LABELS[name]}
            return value
        if value not in choices_cls.values:
            errors[name] = _("„%(value)s“ ist keine gültige Auswahl für %(field)s.") % {
                "value": value,
                "field": FIELD_LABELS[name],
            }
        return value

    choice("side", Side)
    family = choice("product_family", ProductFamily)
    style = choice("style", Style)
    choice("material", Material)
    vent_type = choice("vent_type", VentType, required=False) or VentType.NONE
    tube = choice("tube", Tube, required=False)
    power = choice("receiver_power", ReceiverPower, required=False)

    diameter = item.get("vent_diameter_mm")
    if diameter in ("", None):
        diameter = None
    else:
        try:
            diameter = Decimal(str(diameter))
        except InvalidOperation:
            errors["vent_diameter_mm"] = _("Der Bohrungsdurchmesser muss eine Zahl in mm sein, z. B. 1,5.")
            diameter = None
    if vent_type != VentType.NONE and diameter is None and "vent_diameter_mm" not in errors:
        errors["vent_diameter_mm"] = _("Für eine Zusatzbohrung bitte den Durchmesser in mm angeben.")
    if diameter is not None:
        if diameter <= 0:
            errors["vent_diameter_mm"] = _("Der Bohrungsdurchmesser muss größer als 0 mm sein.")
        elif style in MAX_VENT_MM and diameter > MAX_VENT_MM[style]:
            errors["vent_diameter_mm"] = _(
                "Die Bauform %(style)s erlaubt höchstens %(max)s mm Bohrung."
            ) % {"style": Style(style).label, "max": str(MAX_VENT_MM[style]).replace(".", ",")}

    if family in TUBE_FAMILIES and not tube and "tube" not in errors:
        errors["tube"] = _("Eine HdO-Otoplastik braucht einen Schlauch: bitte den Schlauch wählen.")
    if family == ProductFamily.RIC:
        if not power and "receiver_power" not in errors:
            errors["receiver_power"] = _("Eine Ex-Hörer-Otoplastik braucht die Hörerleistung (S, M, P oder UP).")
        length = item.get("receiver_length")
        if length in ("", None):
            errors["receiver_length"] = _("Eine Ex-Hörer-Otoplastik braucht die Hörerlänge (0 bis 3).")
        else:
            try:
                if int(length) not in range(4):
                    raise ValueError
            except (TypeError, ValueError):
                errors["receiver_length"] = _("Die Hörerlänge muss 0, 1, 2 oder 3 sein.")
    quantity = item.get("quantity", 1)
    try:
        if int(quantity) < 1 or int(quantity) > 10:
            raise ValueError
    except (TypeError, ValueError):
        errors["quantity"] = _("Die Menge muss zwischen 1 und 10 liegen.")
    return errors


def duplicate_sides(items):
    """One ``{field: message}`` per item: each ear may be ordered only once per order."""
    sides = [item.get("side") for item in items]
    return [
        {"side": _("Jedes Ohr darf nur einmal bestellt werden.")} if side and sides.index(side) != index else {}
        for index, side in enumerate(sides)
    ]


class ItemsInvalid(ValidationError):
    """A ValidationError that keeps one ``{field: message}`` dict per item.

    ``message_dict["items"]`` is that list, aligned with the items as given, so that forms
    and the API can put each message on the right ear and field.
    """

    def __init__(self, item_errors):
        self.item_errors = [dict(errors) for errors in item_errors]
        flat = [
            f"{index + 1}: {message}" for index, errors in enumerate(self.item_errors) for message in errors.values()
        ]
        super().__init__({"items": flat})

    @property
    def message_dict(self):
        return {"items": self.item_errors}


def validate_items(items):
    """Check all items of an order; return them cleaned or raise ValidationError.

    Raises ``ItemsInvalid`` (``message_dict["items"]``: one ``{field: message}`` per item),
    or a plain ValidationError on ``items`` when there is none.
    """
    items = [dict(item) for item in items or []]
    if not items:
        raise ValidationError({"items": _("Bitte mindestens ein Ohr bestellen.")})
    per_item = [check_item(item) for item in items]
    for errors, duplicate in zip(per_item, duplicate_sides(items)):
        errors.update(duplicate)
    if any(per_item):
        raise ItemsInvalid(per_item)
    cleaned = []
    for item in items:
        row = {name: item.get(name) for name in ITEM_FIELDS if name in item}
        row.setdefault("vent_type", VentType.NONE)
        for optional in ("colour", "tube", "receiver_power", "notes"):
            row[optional] = row.get(optional) or ""
        for nullable in ("vent_diameter_mm", "receiver_length", "impression"):
            if row.get(nullable) in ("", None):
                row[nullable] = None
        if row["receiver_length"] is not None:
            row["receiver_length"] = int(row["receiver_length"])
        if row["vent_diameter_mm"] is not None:
            row["vent_diameter_mm"] = Decimal(str(row["vent_diameter_mm"]))
        row["quantity"] = int(row.get("quantity") or 1)
        cleaned.append(row)
    return cleaned


FIELD_LABELS = {
    "side": gettext_lazy("die Seite"),
    "product_family": gettext_lazy("die Produktart"),
    "style": gettext_lazy("die Bauform"),
    "material": gettext_lazy("das Material"),
    "vent_type": gettext_lazy("die Zusatzbohrung"),
    "tube": gettext_lazy("den Schlauch"),
    "receiver_power": gettext_lazy("die Hörerleistung"),
}
