"""Forms of the customer and transaction pages (the order form is ``orders.order_forms``)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otoorder.transactions.models import TICKABLE_STEPS, Customer


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Kunde suchen"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "placeholder": _("Name oder Kundennummer"),
                "type": "search",
                "autofocus": True,
                "autocomplete": "off",
                # Search as you type; without JavaScript the form's button searches.
                "hx-get": reverse_lazy("transactions:customer_list"),
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#customer-results",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
                "aria-controls": "customer-results",
            }
        ),
    )


class CustomerForm(forms.ModelForm):
    #: Shown once the chain has a customer of the same name and birth date.
    confirm_duplicate = forms.BooleanField(
        label=_("Es ist eine andere Person: trotzdem anlegen"), required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Customer
        fields = ["branch", "first_name", "last_name", "birth_date"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, branches, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        #: ``[(customer, visible)]``: the chain's customers this one may duplicate.
        self.duplicates = []
        self.fields["branch"].queryset = branches
        self.fields["branch"].empty_label = None if branches.count() == 1 else "—"
        if branches.count() == 1:
            self.fields["branch"].initial = branches.get().pk
        self.fields["first_name"].widget.attrs["autofocus"] = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "branch",
            Row(Column("first_name", css_class="col-md-6"), Column("last_name", css_class="col-md-6")),
            Row(Column("birth_date", css_class="col-md-4")),
        )

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if birth_date and birth_date > timezone.localdate():
            raise forms.ValidationError(_("Das Geburtsdatum liegt in der Zukunft."))
        return birth_date

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("confirm_duplicate"):
            return cleaned
        self.duplicates = Customer.objects.duplicates_for(self.user, cleaned)
        if self.duplicates:
            # The only error: the question below the fields says it, not a red error box.
            self.helper.form_show_errors = False
            raise forms.ValidationError(
                _("Einen Kunden mit diesem Namen und Geburtsdatum gibt es in der Kette schon. Bitte prüfen, ob es dieselbe Person ist."),
                code="duplicate_customer",
            )
        return cleaned


class StartTransactionForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Vorlage"), queryset=None, empty_label=None)

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class StepDoneForm(forms.Form):
    """Tick off (``done`` = 1) or reopen (``done`` = 0) one step of a Vorgang by hand."""

    step = forms.ModelChoiceField(queryset=None, error_messages={"invalid_choice": _("Diesen Schritt gibt es in diesem Vorgang nicht.")})
    done = forms.TypedChoiceField(choices=[("1", _("erledigt")), ("0", _("offen"))], coerce=lambda value: value == "1")

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = steps.filter(step_type__in=TICKABLE_STEPS)
