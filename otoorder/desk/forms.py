"""Forms of the customer and transaction pages (the order form is ``orders.order_forms``)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otoorder.transactions.models import TICKABLE_STEPS, Customer


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Suche"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "placeholder": _("Name oder Kundennummer"),
                "type": "search",
                "autofocus": True,
            }
        ),
    )


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["branch", "first_name", "last_name", "birth_date"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
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
