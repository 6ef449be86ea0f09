from django import forms
from django.utils.translation import gettext_lazy as _

from otoorder.vocabulary import Side

from .choices import ComplaintStatus, CostBearer, Outcome
from .models import DESCRIPTION_MAX, ComplaintReason


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); a list, empty when none."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ComplaintForm(forms.Form):
    sides = forms.MultipleChoiceField(
        label=_("Ohr"), choices=Side.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Bitte mindestens ein Ohr (rechts oder links) wählen.")},
    )
    reason = forms.ChoiceField(
        label=_("Grund"), error_messages={"required": _("Bitte einen Reklamationsgrund aus der Liste wählen.")}
    )
    description = forms.CharField(
        label=_("Beschreibung"), required=False, max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Die Beschreibung darf höchstens %(limit_value)d Zeichen lang sein.")},
    )
    photos = MultipleFileField(
        label=_("Fotos (JPEG oder PNG)"), required=False, widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png"})
    )
    return_old_mould = forms.BooleanField(label=_("Alte Otoplastik geht an das Labor zurück"), required=False)
    create_remake = forms.BooleanField(label=_("Nachfertigung gleich bestellen"), required=False)

    def __init__(self, *args, order, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        ordered = set(order.items.values_list("side", flat=True))
        self.fields["sides"].choices = [(v, label) for v, label in Side.choices[::-1] if v in ordered]
        self.fields["reason"].choices = [("", _("– bitte wählen –"))] + [(r.code, r.label) for r in reasons]
        for name in ("reason", "description"):
            self.fields[name].widget.attrs["class"] = "form-select" if name == "reason" else "form-control"
        self.fields["reason"].widget.attrs["aria-required"] = "true"
        self.fields["photos"].widget.attrs["class"] = "form-control"
        for name in ("sides", "return_old_mould", "create_remake"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Ergebnis"), choices=[("", _("– bitte wählen –")), *Outcome.choices])
    cost_bearer = forms.ChoiceField(label=_("Kostenträger"), choices=[("", _("– bitte wählen –")), *CostBearer.choices])
    amount = forms.CharField(label=_("Betrag (EUR)"), required=False, max_length=12)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control" if name == "amount" else "form-select"
            if field.required:
                field.widget.attrs["aria-required"] = "true"
                field.error_messages["required"] = _("Bitte ausfüllen.")


class ReasonForm(forms.ModelForm):
    """A complaint reason of the chain (chain admins maintain the list)."""

    class Meta:
        model = ComplaintReason
        fields = ["code", "label", "category", "position", "active"]
        error_messages = {
            "code": {"invalid": _("Das Kürzel darf nur Buchstaben, Ziffern, Binde- und Unterstriche enthalten.")},
        }

    def __init__(self, *args, chain, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain = chain
        for name, field in self.fields.items():
            field.widget.attrs["class"] = {"category": "form-select", "active": "form-check-input"}.get(name, "form-control")
            if field.required:
                field.widget.attrs["aria-required"] = "true"
                field.error_messages["required"] = _("Bitte ausfüllen.")

    def clean_code(self):
        code = self.cleaned_data["code"]
        taken = ComplaintReason.objects.filter(chain=self.chain, code=code).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Dieses Kürzel gibt es in der Kette schon: bitte ein anderes wählen."))
        return code


class ComplaintFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("alle")), *ComplaintStatus.choices])
    flagged = forms.BooleanField(label=_("nur: Labor berechnet innerhalb der kostenlosen Nachfertigung"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.attrs["class"] = "form-select"
        self.fields["flagged"].widget.attrs["class"] = "form-check-input"
