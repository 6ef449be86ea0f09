"""Forms of the order page for goods receipt, fitting and closing (rules in ``lifecycle``)."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otoorder.vocabulary import Side


class ReceiveForm(forms.Form):
    """One serial number field per ear of the order."""

    def __init__(self, *args, sides=(), **kwargs):
        super().__init__(*args, **kwargs)
        for side in sides:
            self.fields[f"serial_{side}"] = forms.CharField(
                label=_("Seriennummer rechts") if side == Side.RIGHT else _("Seriennummer links"),
                max_length=50,
                required=False,
            )

    def serials(self):
        return {name.removeprefix("serial_"): value for name, value in self.cleaned_data.items()}


class FitForm(forms.Form):
    fitted_on = forms.DateField(
        label=_("angepasst am"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    warranty_months = forms.IntegerField(label=_("Gewährleistung (Monate)"), min_value=0, max_value=120)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "initial", {"fitted_on": timezone.localdate(), "warranty_months": settings.OTOORDER_WARRANTY_MONTHS}
        )
        super().__init__(*args, **kwargs)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Grund (ohne Wareneingang erforderlich)"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("z. B. Kunde verzichtet")}),
    )
