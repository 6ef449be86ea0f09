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

from otoorder import vocabulary

from .models import CatalogueEntry, CatalogueRule

#: The item fields a catalogue may restrict (canonical values of ``otoorder.vocabulary``).
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

#: The canonical values of each restrictable field; ``None``: free text (colour).
FIELD_CHOICES = {
    "product_family": vocabulary.ProductFamily,
    "style": vocabulary.Style,
    "material": vocabulary.Material,
    "vent_type": vocabulary.VentType,
    "tube": vocabulary.Tube,
    "receiver_power": vocabulary.ReceiverPower,
    "surface_finish": vocabulary.SurfaceFinish,
    "acoustic_modification": vocabulary.AcousticModification,
    "canal_length": vocabulary.CanalLength,
    "protection_filter": vocabulary.ProtectionFilter,
    "colour": None,
}


def field_labels():
    """German names of the catalogue fields (for forms, lists and messages)."""
    return {
        "product_family": _("Produktart"),
        "style": _("Bauform"),
        "material": _("Material"),
        "vent_type": _("Zusatzbohrung"),
        "tube": _("Schlauch"),
        "receiver_power": _("Hörerleistung"),
        "surface_finish": _("Oberfläche"),
        "acoustic_modification": _("Akustische Modifikation"),
        "canal_length": _("Gehörgangslänge"),
        "protection_filter": _("Filter"),
        "colour": _("Farbe"),
    }


def value_label(field, value):
    """Our German label of a canonical value; free-text values label themselves."""
    enum = FIELD_CHOICES.get(field)
    if enum is None:
        return value
    return dict(enum.choices).get(value, value)


def _validity_errors(valid_from, valid_until):
    if valid_from and valid_until and valid_until < valid_from:
        return {"valid_until": _("„gültig bis“ darf nicht vor „gültig ab“ liegen.")}
    return {}


def entry_errors(field, value, valid_from=None, valid_until=None):
    """``{attribute: German message}`` for a catalogue entry that cannot exist (form and CSV)."""
    if field not in FIELD_CHOICES:
        return {"field": _("Unbekanntes Feld „%(field)s“. Möglich: %(fields)s.") % {
            "field": field, "fields": ", ".join(CATALOGUE_FIELDS)}}
    errors = _validity_errors(valid_from, valid_until)
    enum = FIELD_CHOICES[field]
    if not value:
        errors["value"] = _("Bitte einen Wert angeben.")
    elif enum is not None and value not in enum.values:
        errors["value"] = _("„%(value)s“ ist kein Wert des Felds %(field)s. Möglich: %(values)s.") % {
            "value": value, "field": field_labels()[field], "values": ", ".join(enum.values)}
    return errors


def rule_errors(style, material, valid_from=None, valid_until=None):
    """``{attribute: German message}`` for a rule naming an unknown style or material."""
    errors = _validity_errors(valid_from, valid_until)
    if style and style not in vocabulary.Style.values:
        errors["style"] = _("Unbekannte Bauform „%(value)s“. Möglich: %(values)s.") % {
            "value": style, "values": ", ".join(vocabulary.Style.values)}
    if material and material not in vocabulary.Material.values:
        errors["material"] = _("Unbekanntes Material „%(value)s“. Möglich: %(values)s.") % {
            "value": material, "values": ", ".join(vocabulary.Material.values)}
    return errors


def duplicate_entry_message(field, value):
    return _("Für %(field)s ist „%(value)s“ bei diesem Lieferanten schon eingetragen; bitte den "
             "vorhandenen Eintrag bearbeiten.") % {"field": field_labels().get(field, field), "value": value}


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


def overview(supplier, on=None):
    """Per field what ``supplier`` offers on ``on`` (value, label, code) and its rules.

    A field without entries is unrestricted: every canonical value is offered under our own
    label and without a lab code (colour, free text, then offers no list at all).
    """
    on = on or timezone.localdate()
    catalogue = offered(supplier, on)
    fields = {}
    for field in CATALOGUE_FIELDS:
        entries = catalogue.get(field)
        if entries:
            values = [
                {"value": e.value, "label": value_label(field, e.value), "code": e.code, "lab_label": e.label}
                for e in sorted(entries.values(), key=lambda e: e.value)
            ]
        elif FIELD_CHOICES[field] is not None:
            values = [{"value": v, "label": str(label), "code": "", "lab_label": ""}
                      for v, label in FIELD_CHOICES[field].choices]
        else:
            values = []
        fields[field] = {"label": field_labels()[field], "restricted": bool(entries), "values": values}
    return {"on": on, "fields": fields, "rules": rules(supplier, on)}
