"""Lab catalogues: what a supplier offers, under which code, and its limits between fields.

One place answers "does this lab make this?" for the order form, the API and the order
service: ``offered(supplier, on)`` (what to offer), ``catalogue_errors(supplier, item, on)``
(what to refuse, German messages per field) and ``lab_codes(supplier, item, on)`` (what the
backends send instead of our canonical values). A field without entries at a supplier is not
restricted; a value offered only from or until a date is offered only then.
"""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CatalogueEntry, CatalogueRule

#: The item fields a catalogue may restrict (canonical values of ``otoorder.orders.choices``).
CATALOGUE_FIELDS = (
    "product_family",
    "style",
    "material",
    "vent_type",
    "tube",
    "receiver_power",
    "surface_finish",
    "acoustic_modification",
    "canal_length",
    "protection_filter",
    "colour",
)


def _valid_on(on):
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def offered(supplier, on=None):
    """``{field: {value: entry}}`` of the entries valid on ``on``; absent field = unrestricted."""
    on = on or timezone.localdate()
    result = defaultdict(dict)
    for entry in CatalogueEntry.objects.filter(supplier=supplier).filter(_valid_on(on)):
        result[entry.field][entry.value] = entry
    return dict(result)


def rules(supplier, on=None):
    on = on or timezone.localdate()
    return list(CatalogueRule.objects.filter(supplier=supplier).filter(_valid_on(on)))


def catalogue_errors(supplier, item, on=None, *, catalogue=None, limits=None):
    """``{field: message}`` for what ``supplier`` does not offer in ``item`` (a dict)."""
    catalogue = offered(supplier, on) if catalogue is None else catalogue
    limits = rules(supplier, on) if limits is None else limits
    errors = {}
    for field, values in catalogue.items():
        value = item.get(field)
        if value not in (None, "") and str(value) not in values:
            errors[field] = _("%(supplier)s bietet „%(value)s“ nicht an. Möglich: %(values)s.") % {
                "supplier": supplier,
                "value": value,
                "values": ", ".join(sorted(values)),
            }
    try:
        diameter = Decimal(str(item.get("vent_diameter_mm"))) if item.get("vent_diameter_mm") not in (None, "") else None
    except InvalidOperation:
        diameter = None
    if diameter is not None and "vent_diameter_mm" not in errors:
        for rule in limits:
            applies = (not rule.style or rule.style == item.get("style")) and (
                not rule.material or rule.material == item.get("material")
            )
            if applies and diameter > rule.max_vent_mm:
                errors["vent_diameter_mm"] = _(
                    "%(supplier)s fertigt diese Bauform/dieses Material mit höchstens %(max)s mm Bohrung."
                ) % {"supplier": supplier, "max": str(rule.max_vent_mm).replace(".", ",")}
                break
    return errors


def lab_codes(supplier, item, on=None, *, catalogue=None):
    """``{field: code}`` for the item's values that the supplier's catalogue names."""
    catalogue = offered(supplier, on) if catalogue is None else catalogue
    codes = {}
    for field, values in catalogue.items():
        entry = values.get(str(item.get(field) or ""))
        if entry is not None:
            codes[field] = entry.code
    return codes
