"""Forms of the order pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import OrderStatus


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("alle Status"))] + OrderStatus.choices,
        widget=forms.Select(attrs={"data-autosubmit": True, "class": "form-select"}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Grund der Stornierung"),
        max_length=500,
        required=False,
        # The status panel refreshes while the order is in flight; keep what was typed. Own id:
        # the closing form of the lifecycle panel on the same page has a "reason" field too.
        widget=forms.TextInput(
            attrs={
                "id": "id_cancel_reason",
                "class": "form-control",
                "placeholder": _("Grund (optional)"),
                "hx-preserve": "true",
            }
        ),
    )
