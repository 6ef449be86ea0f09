"""The preferences form: which kinds also come as the daily e-mail digest, and its language."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .choices import Kind
from .models import Preference


class PreferenceForm(forms.ModelForm):
    digest_kinds = forms.MultipleChoiceField(
        label=_("Diese Benachrichtigungen kommen zusätzlich einmal täglich als E-Mail"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    language = forms.ChoiceField(
        label=_("Sprache der E-Mails"),
        choices=settings.LANGUAGES,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Preference
        fields = ["digest_kinds", "language"]

    def clean_digest_kinds(self):
        chosen = set(self.cleaned_data["digest_kinds"])
        # Stored in the order of the kinds, so that the page shows them the same way.
        return [kind.value for kind in Kind if kind.value in chosen]
