"""Forms of the order page for goods receipt, serial corrections, fitting, closing and the
remake (rules in ``lifecycle``).

One form per action, each with its own fields; ``auto_id`` gives every form its own id prefix,
so the page never has two inputs with one id (the field names stay what the views read).
"""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otoorder.vocabulary import Side

#: Where a remake's reason waits between the order page and the order form (not in the URL:
#: the reason may describe the customer's ear, and URLs end up in logs).
REMAKE_REASON_KEY = "remake_reason:%s"

SERIAL_LABELS = {Side.RIGHT: _("Seriennummer rechts"), Side.LEFT: _("Seriennummer links")}
WITHOUT_SERIAL_LABELS = {Side.RIGHT: _("rechts ohne Seriennummer"), Side.LEFT: _("links ohne Seriennummer")}


class ActionForm(forms.Form):
    """The form of one action on the order page: its ids start with ``id_prefix``."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def _sides_right_first(sides):
    return sorted(dict.fromkeys(sides), key=lambda side: side != Side.RIGHT)


class ReceiveForm(ActionForm):
    """Per ear of the order: its serial number, or the explicit "ohne Seriennummer"."""

    id_prefix = "receive"

    def __init__(self, *args, sides=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sides = _sides_right_first(sides)
        for side in self.sides:
            self.fields[f"serial_{side}"] = forms.CharField(label=SERIAL_LABELS[side], max_length=50, required=False)
            self.fields[f"no_serial_{side}"] = forms.BooleanField(label=WITHOUT_SERIAL_LABELS[side], required=False)

    def serials(self):
        return {side: self.cleaned_data.get(f"serial_{side}", "") for side in self.sides}

    def without_serial(self):
        return [side for side in self.sides if self.cleaned_data.get(f"no_serial_{side}")]

    def pairs(self):
        """``[(serial field, checkbox)]`` per ear, right first (the template's rows)."""
        return [(self[f"serial_{side}"], self[f"no_serial_{side}"]) for side in self.sides]


class SerialCorrectionForm(ActionForm):
    """A serial number added or corrected after the goods receipt (one ear at a time)."""

    id_prefix = "serial_fix"
    side = forms.ChoiceField(label=_("Ohr"), choices=())
    serial = forms.CharField(
        label=_("Seriennummer"),
        max_length=50,
        required=False,
        help_text=_("leer = ohne Seriennummer"),
    )

    def __init__(self, *args, sides=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["side"].choices = [(side, Side(side).label) for side in _sides_right_first(sides)]


class FitForm(ActionForm):
    id_prefix = "fit"

    fitted_on = forms.DateField(
        label=_("angepasst am"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    warranty_months = forms.IntegerField(label=_("Gewährleistung (Monate)"), min_value=0, max_value=120)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "initial", {"fitted_on": timezone.localdate(), "warranty_months": settings.OTOORDER_WARRANTY_MONTHS}
        )
        super().__init__(*args, **kwargs)


class CloseForm(ActionForm):
    id_prefix = "close"

    reason = forms.CharField(
        label=_("Grund des Abschlusses (ohne Wareneingang erforderlich)"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("z. B. Kunde verzichtet")}),
    )


class RemakeForm(ActionForm):
    """„Reklamation“: the reason goes to the remake's order form (where it is required)."""

    id_prefix = "remake"

    reason = forms.CharField(
        label=_("Grund der Reklamation"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("z. B. drückt im Gehörgang")}),
    )
