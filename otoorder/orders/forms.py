"""Forms of the order pages."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Value
from django.utils.translation import gettext_lazy as _

from branches.models import Branch
from suppliers.models import Supplier

from .choices import OrderStatus, WorklistCount
from .queries import ALL_FILTER, DEFAULT_SORT, MAX_QUERY_LENGTH, OPEN_FILTER, SORTS


class OrderFilterForm(forms.Form):
    """The worklist's filters (``queries.filter_orders``, shared with the API), its sorting and,
    for people who see more than one branch, the branch ("alle Filialen" when empty).

    Every field is optional and bounded; an invalid field is left out (and explained), the
    valid ones still apply. No select acts on its own: the selects apply with the submit
    button, the checkboxes on change (an arrow key in a select never reloads the page)."""

    branch = forms.ModelChoiceField(
        label=_("Filiale"),
        required=False,
        queryset=Branch.objects.none(),
        empty_label=_("alle Filialen"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        label=_("Suche"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        help_text=_("Bestell-, Labor-, Sendungsnummer, Kundenname oder -nummer. Ein gescanntes Etikett öffnet die Bestellung."),
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "type": "search",
                "autocomplete": "off",
                "aria-describedby": "id_q_helptext",
            }
        ),
    )
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        choices=[(OPEN_FILTER, _("alle offenen")), (ALL_FILTER, _("alle, auch erledigte"))] + OrderStatus.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"data-autosubmit": True, "class": "form-check-input"}),
    )
    count = forms.ChoiceField(
        label=_("Bereich"),
        required=False,
        choices=[("", _("alle"))] + WorklistCount.choices,
        widget=forms.HiddenInput,
    )
    supplier = forms.ModelChoiceField(
        label=_("Labor"),
        required=False,
        queryset=Supplier.objects.none(),
        empty_label=_("alle Labore"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    prescriber = forms.ModelChoiceField(
        label=_("Verantwortlicher Akustiker"),
        required=False,
        queryset=get_user_model().objects.none(),
        empty_label=_("alle"),
        widget=forms.Select(attrs={"class": "form-select"}),
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
    sort = forms.ChoiceField(
        label=_("Sortierung"),
        required=False,
        choices=[(key, key) for name in SORTS for key in (name, f"-{name}")],
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, orders=None, branches=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The suppliers of the user's orders and the active ones: one query for the choices.
        # An inactive supplier is looked up in the orders (EXISTS, over the supplier index):
        # never a list of the suppliers of all the user's orders, 100,000 of a chain.
        used = Exists(orders.filter(supplier=OuterRef("pk")).order_by()) if orders is not None else Value(False)
        self.fields["supplier"].queryset = (
            Supplier.objects.filter(Q(is_active=True) | used).select_related("company").order_by("company__name", "name")
        )
        if branches is not None:
            self.fields["branch"].queryset = branches
        if people is not None:
            self.fields["prescriber"].queryset = people.order_by("last_name", "first_name", "username")
        self.fields["prescriber"].label_from_instance = lambda user: user.get_full_name() or user.username

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    def filters(self):
        """The valid filters as keyword arguments of ``queries.filter_orders``: an invalid
        field is left out, the others apply. No status chosen: the open ones."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "statuses": data.get("status") or [OPEN_FILTER],
            "count": data.get("count", ""),
            "supplier": data.get("supplier"),
            "prescriber": data.get("prescriber"),
            "branch": data.get("branch"),
            "q": data.get("q", ""),
            "overdue": True if data.get("overdue") else None,
            "needs_attention": True if data.get("needs_attention") else None,
        }

    def sort_key(self):
        """The valid sort key (``queries.SORTS``), else newest first."""
        self.is_valid()
        return self.cleaned_data.get("sort") or DEFAULT_SORT


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
        label=_("Ihre Antwort"),
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
    text = forms.CharField(
        label=_("Die Rückfrage des Labors"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )
