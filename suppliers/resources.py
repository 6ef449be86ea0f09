"""CSV export and import of a supplier's lab catalogue (django-import-export).

Two files per supplier (format in ``docs/catalogues.md``):

- entries: ``field,value,code,label,valid_from,valid_until``
- rules:   ``style,material,max_vent_mm,note,valid_from,valid_until``

An import is all or nothing: every row is checked with the same rules as the form
(``suppliers.catalogue.entry_errors``/``rule_errors``); one invalid row reports its line
number (the header is line 1) and the reason in German, and nothing changes. A valid file
REPLACES that part of the supplier's catalogue: entries are upserted by field+value and
entries missing from the file are removed; rules are replaced as a whole.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from . import catalogue
from .models import CatalogueEntry, CatalogueRule

ENTRIES = "entries"
RULES = "rules"
ENTRY_COLUMNS = ("field", "value", "code", "label", "valid_from", "valid_until")
RULE_COLUMNS = ("style", "material", "max_vent_mm", "note", "valid_from", "valid_until")
REQUIRED_COLUMNS = {ENTRIES: ("field", "value", "code"), RULES: ("max_vent_mm",)}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


class DateWidget(widgets.Widget):
    """ISO dates (as exported) or German ``TT.MM.JJJJ`` (as a spreadsheet may save them)."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        for fmt in DATE_FORMATS:
            try:
                return datetime.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(_("„%(value)s“ ist kein Datum; bitte JJJJ-MM-TT angeben, z. B. 2026-01-31.") % {"value": text})

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class VentWidget(widgets.Widget):
    """Millimetres with a decimal point or comma."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip().replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("„%(value)s“ ist keine Zahl in mm, z. B. 1.5.") % {"value": text}) from None
        if not number.is_finite() or number < 0 or number >= 100:
            raise ValueError(_("Die größte Bohrung muss zwischen 0 und 99,9 mm liegen."))
        return number

    def render(self, value, obj=None, **kwargs):
        return str(value) if value is not None else ""


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return str(value or "").strip()

    def render(self, value, obj=None, **kwargs):
        return value or ""


def _text(name):
    return fields.Field(attribute=name, column_name=name, widget=TextWidget())


def _date(name):
    return fields.Field(attribute=name, column_name=name, widget=DateWidget())


class _SupplierResource(resources.ModelResource):
    """Rows of one supplier; the supplier never comes from the file."""

    valid_from = _date("valid_from")
    valid_until = _date("valid_until")

    def __init__(self, supplier):
        super().__init__()
        self.supplier = supplier

    def get_queryset(self):
        return self._meta.model.objects.filter(supplier=self.supplier)

    def after_init_instance(self, instance, new, row, **kwargs):
        instance.supplier = self.supplier

    def own_errors(self, instance):
        """Our own checks of a row, ``{column: German message}``; each resource adds its rules."""
        return {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Our rules first (German, per column); Django's model checks for the rest.
        errors = dict(import_validation_errors or {})
        for name, message in self.own_errors(instance).items():
            errors.setdefault(name, [message])
        super().validate_instance(instance, errors, validate_unique)


class EntryResource(_SupplierResource):
    field = _text("field")
    value = _text("value")
    code = _text("code")
    label = _text("label")

    class Meta:
        model = CatalogueEntry
        fields = ENTRY_COLUMNS
        export_order = ENTRY_COLUMNS
        import_id_fields = ("field", "value")
        clean_model_instances = True
        skip_diff = True

    def __init__(self, supplier):
        super().__init__(supplier)
        self.seen = {}

    def own_errors(self, instance):
        errors = catalogue.entry_errors(instance.field, instance.value, instance.valid_from, instance.valid_until)
        key = (instance.field, instance.value)
        if key in self.seen and not errors:
            errors[NON_FIELD_ERRORS] = _("Feld und Wert stehen schon in Zeile %(line)d.") % {"line": self.seen[key]}
        return errors

    def after_import_row(self, row, row_result, **kwargs):
        key = (row.get("field"), row.get("value"))
        self.seen.setdefault(key, kwargs["row_number"] + 1)

    def before_import_row(self, row, **kwargs):
        for name in ("field", "value"):
            row[name] = str(row.get(name) or "").strip()

    def remove_missing(self):
        keep = set(self.seen)
        stale = [e.pk for e in self.get_queryset() if (e.field, e.value) not in keep]
        return CatalogueEntry.objects.filter(pk__in=stale).delete()[0]


class RuleResource(_SupplierResource):
    style = _text("style")
    material = _text("material")
    max_vent_mm = fields.Field(attribute="max_vent_mm", column_name="max_vent_mm", widget=VentWidget())
    note = _text("note")

    class Meta:
        model = CatalogueRule
        fields = RULE_COLUMNS
        export_order = RULE_COLUMNS
        force_init_instance = True  # rules have no natural key: the file replaces them all
        clean_model_instances = True
        skip_diff = True

    def own_errors(self, instance):
        return catalogue.rule_errors(instance.style, instance.material, instance.valid_from, instance.valid_until)

    def before_import(self, dataset, **kwargs):
        self.deleted = self.get_queryset().delete()[0]

    def remove_missing(self):
        return self.deleted


RESOURCES = {ENTRIES: EntryResource, RULES: RuleResource}
COLUMNS = {ENTRIES: ENTRY_COLUMNS, RULES: RULE_COLUMNS}


def export_csv(supplier, kind):
    """The supplier's entries or rules as CSV text (UTF-8, comma, header row)."""
    resource = RESOURCES[kind](supplier)
    return resource.export(resource.get_queryset()).csv


@dataclass
class ImportOutcome:
    errors: list = field(default_factory=list)  # (line number or None, German message)
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def ok(self):
        return not self.errors


class _Rollback(Exception):
    pass


def _read_dataset(data):
    """``tablib.Dataset`` from uploaded bytes (UTF-8 with or without BOM, or Windows-1252)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    if not rows or not any(cell.strip() for cell in rows[0]):
        return None
    headers = [cell.strip().lower() for cell in rows[0]]
    dataset = tablib.Dataset(headers=headers)
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # empty lines (a trailing newline from a spreadsheet) carry nothing
        dataset.append((row + [""] * len(headers))[: len(headers)])
    return dataset


def _header_errors(kind, dataset):
    if dataset is None:
        return [(1, _("Die Datei ist leer; erwartet wird eine Kopfzeile: %(columns)s.") % {"columns": ",".join(COLUMNS[kind])})]
    errors = []
    unknown = [h for h in dataset.headers if h not in COLUMNS[kind]]
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in dataset.headers]
    if unknown:
        errors.append((1, _("Unbekannte Spalte(n): %(columns)s. Erlaubt: %(allowed)s.") % {
            "columns": ", ".join(unknown), "allowed": ",".join(COLUMNS[kind])}))
    if missing:
        errors.append((1, _("Es fehlen die Spalten: %(columns)s.") % {"columns": ", ".join(missing)}))
    return errors


def _row_messages(result):
    """(line, message) per invalid row; line = data row number + 1 for the header."""
    messages = [(None, str(error.error)) for error in result.base_errors]
    for number, errors in result.row_errors():
        messages += [(number + 1, str(error.error)) for error in errors]
    for row in result.invalid_rows:
        for column, texts in row.error_dict.items():
            for text in texts:
                if column == NON_FIELD_ERRORS:
                    messages.append((row.number + 1, str(text)))
                else:
                    messages.append((row.number + 1, _("Spalte „%(column)s“: %(message)s") % {"column": column, "message": text}))
    return sorted(messages, key=lambda m: (m[0] or 0))


def import_csv(supplier, kind, data, *, dry_run=False):
    """Check and (unless ``dry_run``) apply a CSV file; nothing changes when a row is invalid."""
    dataset = _read_dataset(data)
    outcome = ImportOutcome(errors=_header_errors(kind, dataset))
    if outcome.errors:
        return outcome
    resource = RESOURCES[kind](supplier)
    try:
        with transaction.atomic():
            result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
            outcome.errors = _row_messages(result)
            outcome.created = result.totals.get("new", 0)
            outcome.updated = result.totals.get("update", 0)
            if outcome.ok:
                outcome.deleted = resource.remove_missing()
            if dry_run or not outcome.ok:
                raise _Rollback
    except _Rollback:
        pass
    return outcome
