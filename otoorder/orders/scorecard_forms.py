"""The scorecard page's query: a period and, optionally, one of the user's branches."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import scorecard

DATE_ERRORS = {
    "invalid": _("Bitte ein gültiges Datum angeben."),
    "required": _("Bitte den Zeitraum angeben (von und bis)."),
}


class ScorecardForm(forms.Form):
    date_from = forms.DateField(
        label=_("Bestellt von"),
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date", "aria-required": "true"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("bis"),
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date", "aria-required": "true"}, format="%Y-%m-%d"),
    )
    branch = forms.ModelChoiceField(
        label=_("Filiale"),
        queryset=None,
        required=False,
        empty_label=_("Alle meine Filialen"),
        error_messages={"invalid_choice": _("Diese Filiale gibt es nicht.")},
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to"):
            error = scorecard.period_error(cleaned["date_from"], cleaned["date_to"])
            if error:
                self.add_error("date_to", error)
        return cleaned

    def branch_ids(self):
        branch = self.cleaned_data.get("branch")
        if branch is not None:
            return [branch.pk]
        return list(self.fields["branch"].queryset.values_list("pk", flat=True))
