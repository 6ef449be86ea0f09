"""Forms of the parcel pages: choose the lab, then tick its open impressions and enter the
carrier and tracking number once (the rules are in ``parcels``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from otoorder.vocabulary import Carrier
from suppliers.models import Supplier

from .parcels import MAX_IMPRESSIONS, TRACKING_MAX


class LabChoiceForm(forms.Form):
    """Step one (GET): which lab the parcel goes to. Applied by its button, never by an arrow key."""

    labor = forms.ModelChoiceField(
        label=_("Labor"),
        queryset=Supplier.objects.none(),
        empty_label=_("– Labor wählen –"),
        widget=forms.Select(attrs={"class": "form-select", "aria-required": "true"}),
        error_messages={"invalid_choice": _("Bitte ein Labor aus der Liste wählen.")},
    )

    def __init__(self, *args, suppliers, counts, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["labor"]
        field.queryset = suppliers
        field.label_from_instance = lambda supplier: _("%(lab)s (%(count)s offene Abdrücke)") % {
            "lab": supplier.display_name,
            "count": counts.get(supplier.pk, 0),
        }


class ParcelForm(forms.Form):
    """Step two (POST): the ticked impressions, the carrier and the tracking number."""

    impressions = forms.MultipleChoiceField(
        label=_("Abdrücke"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Bitte mindestens einen Abdruck auswählen."),
            "invalid_choice": _(
                "Ein gewählter Abdruck ist nicht mehr offen (schon in einem Paket oder beim Labor). Bitte neu auswählen."
            ),
        },
    )
    carrier = forms.ChoiceField(
        label=_("Versanddienstleister"),
        choices=[("", _("– bitte wählen –"))] + Carrier.choices,
        widget=forms.Select(attrs={"class": "form-select", "aria-required": "true"}),
        error_messages={"required": _("Bitte den Versanddienstleister wählen.")},
    )
    tracking_number = forms.CharField(
        label=_("Sendungsnummer"),
        max_length=TRACKING_MAX,
        widget=forms.TextInput(attrs={"class": "form-control", "aria-required": "true", "autocomplete": "off"}),
        error_messages={"required": _("Bitte die Sendungsnummer des Pakets angeben.")},
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {str(item.impression_id): item for item in items}
        self.fields["impressions"].choices = [(pk, pk) for pk in self.items]

    def clean_impressions(self):
        chosen = self.cleaned_data["impressions"]
        if len(chosen) > MAX_IMPRESSIONS:
            raise forms.ValidationError(
                _("Höchstens %(max)d Abdrücke passen in ein Paket; bitte auf mehrere Pakete verteilen."),
                params={"max": MAX_IMPRESSIONS},
            )
        return chosen
