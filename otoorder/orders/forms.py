"""Forms of the order pages."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from suppliers.models import Supplier

from .choices import OrderStatus
from .queries import MAX_QUERY_LENGTH, OPEN_FILTER


class OrderFilterForm(forms.Form):
    """The staff order list's filters (the same as the API's, ``queries.filter_orders``)."""

    q = forms.CharField(
        label=_("Suche"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "type": "search",
                "placeholder": _("Bestell-, Labor-, Sendungsnummer, Kunde"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("alle Status")), (OPEN_FILTER, _("alle offenen"))] + OrderStatus.choices,
        widget=forms.Select(attrs={"data-autosubmit": True, "class": "form-select"}),
    )
    supplier = forms.ModelChoiceField(
        label=_("Lieferant"),
        required=False,
        queryset=Supplier.objects.none(),
        empty_label=_("alle Lieferanten"),
        widget=forms.Select(attrs={"data-autosubmit": True, "class": "form-select"}),
    )
    overdue = forms.BooleanField(
        label=_("nur überfällige"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-autosubmit": True, "class": "form-check-input"}),
    )
    needs_attention = forms.BooleanField(
        label=_("nur mit Handlungsbedarf"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-autosubmit": True, "class": "form-check-input"}),
    )

    def __init__(self, *args, orders=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The suppliers of the user's orders and the active ones: one query for the choices.
        used = orders.values("supplier") if orders is not None else []
        self.fields["supplier"].queryset = (
            Supplier.objects.filter(Q(is_active=True) | Q(pk__in=used)).select_related("company").order_by("company__name", "name")
        )

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    def filters(self):
        """The valid filters as keyword arguments of ``queries.filter_orders`` (none when invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "supplier": data["supplier"],
            "q": data["q"],
            "overdue": True if data["overdue"] else None,
            "needs_attention": True if data["needs_attention"] else None,
        }


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


class ConfirmManualForm(forms.Form):
    """Staff sent the order by print, fax or phone: optionally with the lab's order number."""

    lab_reference = forms.CharField(
        label=_("Auftragsnummer des Labors"),
        required=False,
        max_length=100,
        help_text=_("Falls das Labor eine genannt hat (am Telefon, auf der Faxantwort)."),
    )


class CancelReportForm(forms.Form):
    """Staff reported a cancellation to the lab by phone, fax, e-mail or portal."""

    reported_to = forms.CharField(
        label=_("gemeldet an"),
        max_length=200,
        help_text=_("Wem beim Labor, auf welchem Weg (z. B. „Frau Berg, Telefon“)."),
        widget=forms.TextInput(attrs={"id": "id_reported_to"}),
    )
    reported_at = forms.DateTimeField(
        label=_("gemeldet am"),
        required=False,
        help_text=_("Leer: jetzt."),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "id": "id_reported_at"}, format="%Y-%m-%dT%H:%M"),
    )
    outcome = forms.ChoiceField(
        label=_("Antwort des Labors"),
        choices=[
            ("pending", _("noch keine Antwort")),
            ("accepted", _("Stornierung angenommen")),
            ("refused", _("Stornierung abgelehnt")),
        ],
        initial="pending",
        widget=forms.Select(attrs={"id": "id_cancel_outcome"}),
    )
    lab_answer = forms.CharField(
        label=_("Worte des Labors"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "id": "id_lab_answer"}),
    )


class MessageForm(forms.Form):
    """Staff's answer to the lab's question, or a question the lab asked by phone."""

    text = forms.CharField(
        label=_("Text"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )

    def __init__(self, *args, field_id="id_message_text", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs["id"] = field_id


class QuestionForm(MessageForm):
    """A question of the lab that came by phone or e-mail: the answer goes back the same way."""

    channel = forms.ChoiceField(
        label=_("Die Rückfrage kam"),
        choices=[("manual", _("per Telefon")), ("email", _("per E-Mail"))],
        initial="manual",
        widget=forms.Select(attrs={"id": "id_question_channel"}),
    )
