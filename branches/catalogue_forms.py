"""Forms of the lab catalogue in branch administration.

Every rule comes from ``suppliers.catalogue`` (``entry_errors``, ``rule_errors``), the same
functions the CSV import uses, so a value is refused with the same German message both ways.
"""

from django import forms
from django.utils.translation import gettext_lazy

from otoorder import vocabulary
from suppliers import catalogue
from suppliers.models import CatalogueEntry, CatalogueRule
from suppliers.resources import ENTRIES, RULES

MAX_CSV_BYTES = 2 * 1024 * 1024

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _SupplierFormMixin:
    """The supplier comes from the URL, never from the posted data."""

    def __init__(self, *args, supplier, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier = supplier
        self.instance.supplier = supplier

    def add_errors(self, errors):
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)


class CatalogueEntryForm(_SupplierFormMixin, forms.ModelForm):
    field = forms.ChoiceField(label=gettext_lazy("Feld"))

    class Meta:
        model = CatalogueEntry
        fields = ["field", "value", "code", "label", "valid_from", "valid_until"]
        widgets = {
            "value": forms.TextInput(attrs={"list": "catalogue-values", "autocomplete": "off"}),
            "valid_from": DATE_WIDGET,
            "valid_until": DATE_WIDGET,
        }
        help_texts = {
            "value": gettext_lazy("Unser Wert (z. B. „shell“ für Schale); bei Farbe freier Text."),
            "code": gettext_lazy("Der Code, unter dem das Labor diesen Wert führt; er wird bei der Bestellung gesendet."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = catalogue.field_labels()
        self.fields["field"].choices = [(name, labels[name]) for name in catalogue.CATALOGUE_FIELDS]

    def clean(self):
        data = super().clean()
        field, value = data.get("field"), (data.get("value") or "").strip()
        data["value"] = value
        if field and value:
            self.add_errors(
                {k: v for k, v in catalogue.entry_errors(field, value, data.get("valid_from"), data.get("valid_until")).items()
                 if k not in self.errors}
            )
            duplicate = CatalogueEntry.objects.filter(supplier=self.supplier, field=field, value=value)
            if self.instance.pk:
                duplicate = duplicate.exclude(pk=self.instance.pk)
            if "value" not in self.errors and duplicate.exists():
                self.add_error("value", catalogue.duplicate_entry_message(field, value))
        return data

    def validate_unique(self):
        # clean() names duplicates in German; the constraint still guards concurrent saves.
        pass


def value_suggestions():
    """(value, "label – field") for the datalist of the value input."""
    labels = catalogue.field_labels()
    return [
        (value, f"{label} – {labels[field]}")
        for field, enum in catalogue.FIELD_CHOICES.items()
        if enum is not None
        for value, label in enum.choices
    ]


class MillimetreField(forms.DecimalField):
    """Accepts "1,5" and "1.5" alike (German keyboards; Django's localisation would read
    "1.5" as a thousands separator)."""

    def to_python(self, value):
        return super().to_python(value.replace(",", ".") if isinstance(value, str) else value)


class CatalogueRuleForm(_SupplierFormMixin, forms.ModelForm):
    max_vent_mm = MillimetreField(
        label=gettext_lazy("größte Bohrung (mm)"), max_digits=3, decimal_places=1, min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    style = forms.ChoiceField(
        label=gettext_lazy("Bauform"), required=False,
        choices=[("", gettext_lazy("jede Bauform"))] + list(vocabulary.Style.choices),
    )
    material = forms.ChoiceField(
        label=gettext_lazy("Material"), required=False,
        choices=[("", gettext_lazy("jedes Material"))] + list(vocabulary.Material.choices),
    )

    class Meta:
        model = CatalogueRule
        fields = ["style", "material", "max_vent_mm", "note", "valid_from", "valid_until"]
        widgets = {"valid_from": DATE_WIDGET, "valid_until": DATE_WIDGET}

    def clean(self):
        data = super().clean()
        self.add_errors(
            {k: v for k, v in catalogue.rule_errors(
                data.get("style"), data.get("material"), data.get("valid_from"), data.get("valid_until")
            ).items() if k not in self.errors}
        )
        return data


class CatalogueImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Inhalt der Datei"),
        choices=[(ENTRIES, gettext_lazy("Katalogeinträge")), (RULES, gettext_lazy("Regeln (größte Bohrung)"))],
    )
    file = forms.FileField(label=gettext_lazy("CSV-Datei"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Nur prüfen, nichts ändern"), required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(gettext_lazy("Die Datei ist größer als 2 MB; ein Katalog ist viel kleiner."))
        return upload
