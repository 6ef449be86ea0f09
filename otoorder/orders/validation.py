"""The rules labs punish when missing (DOMAIN.md §5), shared by the form, the API and the
order service: one place decides whether an order item is complete.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _, gettext_lazy

from otoorder.vocabulary import (
    AcousticModification,
    CanalLength,
    Material,
    ProductFamily,
    ProtectionFilter,
    ReceiverPower,
    Side,
    Style,
    SurfaceFinish,
    Tube,
    VentType,
)
from suppliers.catalogue import catalogue_errors, offered, rules

from .models import Impression

ITEM_FIELDS = (
    "side",
    "product_family",
    "style",
    "material",
    "shore_hardness",
    "colour",
    "surface_finish",
    "vent_type",
    "vent_diameter_mm",
    "tube",
    "acoustic_modification",
    "canal_length",
    "receiver_type",
    "receiver_power",
    "receiver_length",
    "protection_filter",
    "extraction_cord",
    "engraving",
    "quantity",
    "impression",
    "notes",
)
#: Largest vent (mm) each style can carry; the lab catalogues refine this per lab.
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
#: Largest vent (mm) a material allows whatever the style: soft walls collapse around a wide
#: bore, and titanium shells are milled so thin that a wide bore breaks through.
MAX_VENT_MM_BY_MATERIAL = {
    Material.SILICONE: Decimal("2.5"),
    Material.THERMOTEC: Decimal("2.5"),
    Material.TITANIUM: Decimal("1.5"),
}
TUBE_FAMILIES = {ProductFamily.BTE, ProductFamily.THIN_TUBE}
#: Materials soft enough for a Shore A hardness, and the range labs make.
SOFT_MATERIALS = {Material.SILICONE, Material.THERMOTEC}
SHORE_RANGE = (20, 90)
MAX_ENGRAVING = 30
MAX_QUANTITY = 10


def _decimal(value):
    if value in ("", None):
        return None
    return Decimal(str(value).replace(",", "."))


def _mm(value):
    return str(value).replace(".", ",")


def check_item(item):
    """Return ``{field: message}`` for one item given as a dict of canonical values.

    ``item["impression"]``, when it is an ``Impression`` (not only an id), is checked for its
    side too; whose customer it belongs to is checked by ``validate_items``.
    """
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

    side = choice("side", Side)
    family = choice("product_family", ProductFamily)
    style = choice("style", Style)
    material = choice("material", Material)
    vent_type = choice("vent_type", VentType, required=False) or VentType.NONE
    tube = choice("tube", Tube, required=False)
    power = choice("receiver_power", ReceiverPower, required=False)
    protection_filter = choice("protection_filter", ProtectionFilter, required=False)
    for name, choices_cls in (
        ("surface_finish", SurfaceFinish),
        ("acoustic_modification", AcousticModification),
        ("canal_length", CanalLength),
    ):
        choice(name, choices_cls, required=False)

    _check_vent(item, errors, vent_type, style, material)
    if family in TUBE_FAMILIES and not tube and "tube" not in errors:
        errors["tube"] = _("Eine HdO-Otoplastik braucht einen Schlauch: bitte den Schlauch wählen.")
    if family == ProductFamily.RIC:
        _check_receiver(item, errors, power)
    if protection_filter and protection_filter != ProtectionFilter.NONE and family != ProductFamily.HEARING_PROTECTION:
        errors.setdefault(
            "protection_filter", _("Ein Filter ist nur bei Gehörschutz möglich: bitte „ohne Filter“ wählen.")
        )
    _check_shore(item, errors, material)
    if len(item.get("engraving") or "") > MAX_ENGRAVING:
        errors["engraving"] = _("Die Gravur darf höchstens %(max)d Zeichen lang sein.") % {"max": MAX_ENGRAVING}
    quantity = item.get("quantity", 1)
    try:
        if int(quantity if quantity not in ("", None) else 1) not in range(1, MAX_QUANTITY + 1):
            raise ValueError
    except (TypeError, ValueError):
        errors["quantity"] = _("Die Menge muss zwischen 1 und %(max)d liegen.") % {"max": MAX_QUANTITY}
    impression = item.get("impression")
    impression_side = getattr(impression, "side", None)
    if impression_side and side and impression_side != side:
        errors["impression"] = _(
            "Der Abdruck/Scan ist vom %(theirs)s Ohr, bestellt wird %(ours)s: bitte einen Abdruck des "
            "%(ours_adjective)s Ohrs wählen."
        ) % {
            "theirs": _side_adjective(impression_side),
            "ours": Side(side).label if side in Side.values else side,
            "ours_adjective": _side_adjective(side),
        }
    elif impression is not None and hasattr(impression, "side") and not impression_side:
        errors["impression"] = _("Beim Abdruck/Scan fehlt die Seite: bitte einen Abdruck mit Seite wählen.")
    return errors


def _side_adjective(side):
    return _("linken") if side == Side.LEFT else _("rechten")


def _check_vent(item, errors, vent_type, style, material):
    try:
        diameter = _decimal(item.get("vent_diameter_mm"))
    except InvalidOperation:
        errors["vent_diameter_mm"] = _("Der Bohrungsdurchmesser muss eine Zahl in mm sein, z. B. 1,5.")
        return
    if vent_type != VentType.NONE and diameter is None:
        errors["vent_diameter_mm"] = _("Für eine Zusatzbohrung bitte den Durchmesser in mm angeben.")
        return
    if diameter is None:
        return
    if diameter <= 0:
        errors["vent_diameter_mm"] = _("Der Bohrungsdurchmesser muss größer als 0 mm sein.")
    elif style in MAX_VENT_MM and diameter > MAX_VENT_MM[style]:
        errors["vent_diameter_mm"] = _(
            "Die Bauform %(style)s erlaubt höchstens %(max)s mm Bohrung: bitte einen kleineren Durchmesser wählen."
        ) % {"style": Style(style).label, "max": _mm(MAX_VENT_MM[style])}
    elif material in MAX_VENT_MM_BY_MATERIAL and diameter > MAX_VENT_MM_BY_MATERIAL[material]:
        errors["vent_diameter_mm"] = _(
            "Das Material %(material)s erlaubt höchstens %(max)s mm Bohrung: bitte einen kleineren Durchmesser wählen."
        ) % {"material": Material(material).label, "max": _mm(MAX_VENT_MM_BY_MATERIAL[material])}


def _check_receiver(item, errors, power):
    if not power and "receiver_power" not in errors:
        errors["receiver_power"] = _("Eine Ex-Hörer-Otoplastik braucht die Hörerleistung (S, M, P oder UP).")
    length = item.get("receiver_length")
    if length in ("", None):
        errors["receiver_length"] = _("Eine Ex-Hörer-Otoplastik braucht die Hörerlänge (0 bis 3).")
        return
    try:
        if int(length) not in range(4):
            raise ValueError
    except (TypeError, ValueError):
        errors["receiver_length"] = _("Die Hörerlänge muss 0, 1, 2 oder 3 sein.")


def _check_shore(item, errors, material):
    hardness = item.get("shore_hardness")
    if hardness in ("", None):
        return
    if material not in SOFT_MATERIALS:
        errors["shore_hardness"] = _(
            "Eine Shore-A-Härte gibt es nur bei weichen Materialien (Silikon, Thermo-Tec): bitte das Feld leeren."
        )
        return
    try:
        if not SHORE_RANGE[0] <= int(hardness) <= SHORE_RANGE[1]:
            raise ValueError
    except (TypeError, ValueError):
        errors["shore_hardness"] = _("Die Shore-A-Härte muss zwischen %(low)d und %(high)d liegen.") % {
            "low": SHORE_RANGE[0],
            "high": SHORE_RANGE[1],
        }


def supplier_mismatch(company, supplier):
    """A supplier chosen for a company it does not belong to (allowed, after a confirmation:
    the order form's checkbox, the API's ``confirm_supplier``)."""
    return company is not None and supplier is not None and supplier.company_id != company.pk


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


def validate_items(items, supplier=None, on=None, *, customer=None):
    """Check all items of an order; return them cleaned or raise ValidationError.

    Besides ``check_item``: an impression given by id must exist and, with ``customer``,
    belong to that customer; with ``supplier``, the lab's catalogue valid on ``on`` (default
    today) must offer every value. Raises ``ItemsInvalid`` (``message_dict["items"]``: one
    ``{field: message}`` per item), or a plain ValidationError on ``items`` when there is none.
    """
    items = [dict(item) for item in items or []]
    if not items:
        raise ValidationError({"items": _("Bitte mindestens ein Ohr bestellen.")})
    impression_errors = _resolve_impressions(items, customer)
    per_item = [check_item(item) for item in items]
    for errors, duplicate, impression_error in zip(per_item, duplicate_sides(items), impression_errors):
        errors.update(duplicate)
        errors.update(impression_error)
    if supplier is not None:
        catalogue, limits = offered(supplier, on), rules(supplier, on)
        for errors, item in zip(per_item, items):
            for field, message in catalogue_errors(supplier, item, on, catalogue=catalogue, limits=limits).items():
                errors.setdefault(field, message)
    if any(per_item):
        raise ItemsInvalid(per_item)
    return [_clean(item) for item in items]


def _resolve_impressions(items, customer):
    """Replace impression ids by the impressions (one query); ``{field: message}`` per item."""
    ids = {
        item["impression"]
        for item in items
        if item.get("impression") not in ("", None) and not hasattr(item["impression"], "pk")
    }
    found = {str(impression.pk): impression for impression in Impression.objects.filter(pk__in=ids)} if ids else {}
    errors = []
    for item in items:
        impression = item.get("impression")
        if impression in ("", None):
            item["impression"] = None
            errors.append({})
            continue
        if not hasattr(impression, "pk"):
            impression = item["impression"] = found.get(str(impression))
        if impression is None:
            errors.append({"impression": _("Dieser Abdruck/Scan wurde nicht gefunden: bitte neu wählen.")})
        elif customer is not None and impression.customer_id != customer.pk:
            errors.append(
                {"impression": _("Der Abdruck/Scan gehört zu einem anderen Kunden: bitte einen Abdruck dieses Kunden wählen.")}
            )
        else:
            errors.append({})
    return errors


def _clean(item):
    row = {name: item.get(name) for name in ITEM_FIELDS if name in item}
    row["vent_type"] = row.get("vent_type") or VentType.NONE
    row["acoustic_modification"] = row.get("acoustic_modification") or AcousticModification.NONE
    for optional in (
        "colour", "tube", "receiver_power", "notes", "surface_finish", "canal_length",
        "receiver_type", "protection_filter", "engraving",
    ):
        row[optional] = row.get(optional) or ""
    for nullable in ("vent_diameter_mm", "receiver_length", "impression", "shore_hardness"):
        if row.get(nullable) in ("", None):
            row[nullable] = None
    for integer in ("receiver_length", "shore_hardness"):
        if row[integer] is not None:
            row[integer] = int(row[integer])
    if row["vent_diameter_mm"] is not None:
        row["vent_diameter_mm"] = _decimal(row["vent_diameter_mm"])
    row["extraction_cord"] = bool(row.get("extraction_cord"))
    row["quantity"] = int(row.get("quantity") or 1)
    return row


FIELD_LABELS = {
    "side": gettext_lazy("die Seite"),
    "product_family": gettext_lazy("die Produktart"),
    "style": gettext_lazy("die Bauform"),
    "material": gettext_lazy("das Material"),
    "vent_type": gettext_lazy("die Zusatzbohrung"),
    "tube": gettext_lazy("den Schlauch"),
    "receiver_power": gettext_lazy("die Hörerleistung"),
    "surface_finish": gettext_lazy("die Oberfläche"),
    "acoustic_modification": gettext_lazy("die akustische Modifikation"),
    "canal_length": gettext_lazy("die Gehörgangslänge"),
    "protection_filter": gettext_lazy("den Filter"),
}
