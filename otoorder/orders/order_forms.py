"""The order form of the Bestellservice step: the header and one form per ear.

The lab rules are not repeated here: each ear is checked with ``check_item`` (the one place
of those rules) and the order itself is validated again by ``place_order``.
"""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from otoorder import vocabulary
from branches.models import Branch
from suppliers.catalogue import offered
from suppliers.models import Company, Supplier

from . import choices
from .scans import impressions_by_side
from .services import clean_amount
from .validation import check_item, supplier_mismatch

BLANK = [("", "—")]


#: The kind of an impression as the ear's select names it (the ear is the card's).
IMPRESSION_KINDS = {vocabulary.ImpressionKind.PHYSICAL: _("Abdruck"), vocabulary.ImpressionKind.SCAN: _("Scan")}


def impression_choice(impression):
    """A short name for the select: kind, date and label (at most 40 characters of it)."""
    parts = [str(IMPRESSION_KINDS.get(impression.kind, impression.get_kind_display()))]
    if impression.created_at:
        parts.append(date_format(timezone.localtime(impression.created_at).date(), "SHORT_DATE_FORMAT"))
    label = impression.reference or impression.original_name
    return " · ".join(parts + ([Truncator(label).chars(40)] if label else []))


def mark_required(form):
    """``aria-required`` beside the ``required`` attribute Django sets, for every required field."""
    for field in form.fields.values():
        if field.required:
            field.widget.attrs["aria-required"] = "true"


class OrderHeaderForm(forms.Form):
    """Company, supplier and the order header of the Bestellservice step."""

    company = forms.ModelChoiceField(
        label=_("Firma (Otoplastik-Labor)"),
        queryset=Company.objects.filter(is_active=True),
        required=False,
        empty_label=_("– keine Firma –"),
    )
    # Rendered by the resolution preview, which offers the candidates in their order.
    supplier = forms.ModelChoiceField(
        label=_("Lieferant"),
        queryset=Supplier.objects.filter(is_active=True).select_related("company"),
        required=False,
    )
    # Rendered by the resolution preview when the supplier belongs to another company.
    confirm_supplier = forms.BooleanField(required=False)
    order_type = forms.ChoiceField(
        label=_("Bestellart"), choices=choices.OrderType.choices, initial=choices.OrderType.NEW
    )
    priority = forms.ChoiceField(
        label=_("Priorität"), choices=choices.Priority.choices, initial=choices.Priority.STANDARD
    )
    date_required = forms.DateField(
        label=_("benötigt bis"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    prescriber = forms.ModelChoiceField(
        label=_("verantwortlicher Akustiker"), queryset=get_user_model().objects.none(), required=False
    )
    original_order = forms.ChoiceField(
        label=_("ursprüngliche Bestellung"),
        required=False,
        help_text=_("Nur bei Reklamation/Nachfertigung oder Änderung."),
    )
    reason = forms.CharField(
        label=_("Grund der Reklamation/Änderung"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("z. B. drückt im Gehörgang")}),
    )
    cost_bearer = forms.ChoiceField(
        label=_("Kostenträger"),
        required=False,
        choices=[("", _("– noch offen –")), *choices.CostBearer.choices],
        help_text=_("Nur bei Nachfertigung: wer sie bezahlt."),
    )
    cost_amount = forms.CharField(
        label=_("Betrag (EUR)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": _("z. B. 45,00")}),
        error_messages={"max_length": _("Bitte den Betrag als Zahl angeben, z. B. 45,00.")},
    )
    notes = forms.CharField(
        label=_("Hinweise an das Labor"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    #: The form's one-time token: a second submission of the same form (browser back, a
    #: double click) shows the order of the first instead of placing another.
    submission_token = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("Das Formular ist beschädigt: bitte die Seite neu laden.")},
    )

    def __init__(self, *args, preview_url, previous_orders=(), default_date=None, branch=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        if branch is not None:
            # Staff of the branch and the chain's admins; empty = whoever places the order.
            self.fields["prescriber"].queryset = (
                Branch.objects.filter(pk=branch.pk).people().order_by("last_name", "first_name", "username")
            )
            self.fields["prescriber"].label_from_instance = lambda user: user.get_full_name() or user.username
            self.fields["prescriber"].empty_label = _("– ich selbst –")
        # The customer's earlier orders, for remakes and modifications (the service checks
        # that the chosen one belongs to the customer and reached the lab).
        self.fields["original_order"].choices = BLANK + [
            (str(order.pk), f"{order.number} · {order.created_at:%d.%m.%Y} · {order.supplier}") for order in previous_orders
        ]
        mark_required(self)
        self.show_default_date(default_date)
        # A new company resets the supplier: only the company is sent to the preview.
        self.fields["company"].widget.attrs.update(
            {
                "autofocus": True,
                "hx-get": preview_url,
                "hx-trigger": "change",
                "hx-target": "#resolution-area",
                "hx-include": "[name='company']",
                "data-testid": "company-select",
            }
        )

    def show_default_date(self, default_date):
        """The hint "leer = <date>" under "benötigt bis" (also after a refused submit)."""
        if default_date is not None:
            hint = _("leer = %(date)s (Lieferzeit des Labors)") % {"date": date_format(default_date, "SHORT_DATE_FORMAT")}
            self.fields["date_required"].help_text = hint
            # A bound field copies the help text when validation first creates it.
            self["date_required"].help_text = hint

    def clean(self):
        cleaned = super().clean()
        company, supplier = cleaned.get("company"), cleaned.get("supplier")
        if supplier_mismatch(company, supplier) and not cleaned.get("confirm_supplier"):
            #: Still the selection after the refusal (``add_error`` drops it from cleaned_data).
            self.unconfirmed_supplier = supplier
            self.add_error(
                "supplier",
                _(
                    "Der Lieferant „%(supplier)s“ gehört nicht zur Firma „%(company)s“. Bitte einen Lieferanten "
                    "dieser Firma wählen oder bestätigen, dass die Bestellung trotzdem an „%(supplier)s“ gehen soll."
                )
                % {"supplier": supplier, "company": company},
            )
        return cleaned

    def clean_cost_amount(self):
        try:
            return clean_amount(self.cleaned_data.get("cost_amount"), field="cost_amount")
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["cost_amount"]) from None

    def clean_date_required(self):
        date_required = self.cleaned_data.get("date_required")
        if date_required and date_required < timezone.localdate():
            raise forms.ValidationError(_("Das Datum liegt in der Vergangenheit."))
        return date_required

    def header(self):
        return {
            name: self.cleaned_data[name]
            for name in (
                "order_type", "priority", "date_required", "notes", "original_order", "reason", "prescriber",
                "cost_bearer", "cost_amount",
            )
        }


class EarForm(forms.Form):
    """One ear of the order; its prefix is the side (``right``/``left``)."""

    order = forms.BooleanField(required=False)
    # Required for an ordered ear (marked "*" from the start); ``clean`` drops the errors of
    # an ear that is not ordered.
    product_family = forms.ChoiceField(
        label=_("Produktart"),
        choices=BLANK + vocabulary.ProductFamily.choices,
        error_messages={"required": _("Bitte die Produktart angeben.")},
    )
    style = forms.ChoiceField(
        label=_("Bauform"),
        choices=BLANK + vocabulary.Style.choices,
        error_messages={"required": _("Bitte die Bauform angeben.")},
    )
    material = forms.ChoiceField(
        label=_("Material"),
        choices=BLANK + vocabulary.Material.choices,
        error_messages={"required": _("Bitte das Material angeben.")},
    )
    colour = forms.CharField(label=_("Farbe"), max_length=50, required=False)
    vent_type = forms.ChoiceField(
        label=_("Zusatzbohrung"), choices=vocabulary.VentType.choices, initial=vocabulary.VentType.NONE
    )
    vent_diameter_mm = forms.DecimalField(
        label=_("Bohrung Ø (mm)"),
        max_digits=3,
        decimal_places=1,
        required=False,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": _("z. B. 1,5")}),
    )
    tube = forms.ChoiceField(
        label=_("Schlauch"), choices=BLANK + vocabulary.Tube.choices, required=False
    )
    receiver_power = forms.ChoiceField(
        label=_("Hörerleistung"), choices=BLANK + vocabulary.ReceiverPower.choices, required=False
    )
    receiver_length = forms.TypedChoiceField(
        label=_("Hörerlänge"),
        choices=BLANK + vocabulary.RECEIVER_LENGTHS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    shore_hardness = forms.IntegerField(
        label=_("Shore-A-Härte"), required=False, widget=forms.NumberInput(attrs={"placeholder": _("z. B. 40")})
    )
    surface_finish = forms.ChoiceField(
        label=_("Oberfläche"), choices=BLANK + vocabulary.SurfaceFinish.choices, required=False
    )
    acoustic_modification = forms.ChoiceField(
        label=_("Akustische Modifikation"),
        choices=vocabulary.AcousticModification.choices,
        initial=vocabulary.AcousticModification.NONE,
        required=False,
    )
    canal_length = forms.ChoiceField(
        label=_("Gehörgangslänge"), choices=BLANK + vocabulary.CanalLength.choices, required=False
    )
    receiver_type = forms.CharField(label=_("Hörertyp"), max_length=100, required=False)
    protection_filter = forms.ChoiceField(
        label=_("Filter"), choices=BLANK + vocabulary.ProtectionFilter.choices, required=False
    )
    extraction_cord = forms.BooleanField(label=_("Rückholfaden"), required=False)
    engraving = forms.CharField(label=_("Gravur"), max_length=30, required=False)
    quantity = forms.IntegerField(label=_("Menge"), min_value=1, max_value=10, initial=1)
    impression = forms.ChoiceField(label=_("Abdruck/Scan"), required=False)
    notes = forms.CharField(label=_("Hinweis"), max_length=500, required=False)

    #: Fields shown only for some product families or materials (order-service.js hides the
    #: others; check_item enforces the same rules on the server).
    FAMILY_FIELDS = {
        "tube": "bte thin_tube",
        "receiver_type": "ric",
        "receiver_power": "ric",
        "receiver_length": "ric",
        "protection_filter": "hearing_protection",
    }
    MATERIAL_FIELDS = {"shore_hardness": "silicone thermotec"}

    SIDE_LABELS = {
        vocabulary.Side.RIGHT: _("rechts bestellen"),
        vocabulary.Side.LEFT: _("links bestellen"),
    }

    def __init__(self, *args, side, impressions=(), **kwargs):
        super().__init__(*args, prefix=side, **kwargs)
        self.side = side
        self.impressions = {str(impression.pk): impression for impression in impressions}
        self.fields["impression"].choices = BLANK + [(pk, impression_choice(i)) for pk, i in self.impressions.items()]
        for name, families in self.FAMILY_FIELDS.items():
            self.fields[name].widget.attrs["data-families"] = families
        for name, materials in self.MATERIAL_FIELDS.items():
            self.fields[name].widget.attrs["data-materials"] = materials
        mark_required(self)
        self.fields["order"].label = self.SIDE_LABELS[side]
        self.fields["order"].widget.attrs.update(
            {"class": "form-check-input ear-toggle", "role": "switch", "data-testid": f"order-{side}"}
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # The "order this ear" switch sits in the card header, outside this layout.
        # The two ears sit side by side from xl on, so the viewport's lg/xl breakpoints say
        # little about a card's width: columns are sized so that the longest choice of each
        # select (e.g. "Lübecker Grundform (Vollschale)") stays readable in a half-width card.
        half = "col-sm-6"
        third = "col-sm-4"
        self.helper.layout = Layout(
            Row(
                Column("product_family", css_class="col-sm-8"),
                Column("quantity", css_class=third),
            ),
            Row(
                Column("style", css_class="col-sm-8"),
                Column("surface_finish", css_class=third),
            ),
            Row(
                Column("material", css_class=half),
                Column("shore_hardness", css_class="col-sm-3"),
                Column("colour", css_class="col-sm-3"),
            ),
            Row(
                Column("vent_type", css_class=half),
                Column("vent_diameter_mm", css_class=half),
                Column("acoustic_modification", css_class=half),
                Column("canal_length", css_class=half),
            ),
            # Tube for behind-the-ear moulds, receiver for RIC, filter for protection:
            # check_item says which applies; the script shows only those.
            HTML(
                '<p class="small text-body-secondary mb-1 family-hint">%s</p>'
                % escape(_("Schlauch bei HdO- und Dünnschlauch-Otoplastiken, Hörer bei Ex-Hörer (RIC), Filter bei Gehörschutz:"))
            ),
            Row(
                Column("tube", css_class=half),
                Column("receiver_type", css_class=third),
                Column("receiver_power", css_class=third),
                Column("receiver_length", css_class=third),
                Column("protection_filter", css_class=half),
            ),
            # An impression's name (kind, ear, date, label) is long: a row of its own.
            Row(Column("impression", css_class="col-12")),
            Row(
                Column("engraving", css_class=half),
                Column("extraction_cord", css_class="col-sm-6 pt-sm-4"),
            ),
            "notes",
        )

    def limit_to(self, catalogue):
        """Offer only what the lab's catalogue (``{field: {value: entry}}``) lists; a field
        the catalogue does not name stays unrestricted. The initial value stays offered so
        that a prefilled re-order shows what was ordered (the server then names the problem).
        """
        for name, values in catalogue.items():
            field = self.fields.get(name)
            if not isinstance(field, forms.ChoiceField):
                continue
            keep = {str(value) for value in values} | {str(self.initial.get(name) or field.initial or "")}
            field.choices = [(value, label) for value, label in field.choices if value == "" or str(value) in keep]

    @property
    def is_ordered(self):
        return bool(self.is_bound and self.cleaned_data.get("order"))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("order"):
            # An ear that is not ordered cannot make the order invalid.
            for name in list(self._errors):
                del self._errors[name]
            return cleaned
        for field, message in check_item(self.item_from(cleaned)).items():
            if field not in self._errors:
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def item_from(self, cleaned):
        item = {name: cleaned.get(name) for name in self.fields if name != "order"}
        item["side"] = self.side
        # The impression as an object: check_item compares its side with this ear's.
        item["impression"] = self.impressions.get(cleaned.get("impression") or "")
        return item

    def item(self):
        return self.item_from(self.cleaned_data)


class OrderServiceForms:
    """The header form and one form per ear, validated and reported as one."""

    def __init__(self, data=None, *, preview_url, initial=None, ears=None, customer=None, default_date=None):
        """``ears`` maps a side to the initial values of that ear (a re-order or remake);
        ``customer`` offers their impressions per ear and their earlier orders."""
        ears = ears or {}
        previous = customer.orders.select_related("supplier").order_by("-created_at") if customer else ()
        self.header = OrderHeaderForm(
            data,
            preview_url=preview_url,
            initial=initial,
            previous_orders=previous,
            default_date=default_date,
            branch=customer.branch if customer else None,
        )
        by_side = _impressions_by_side(customer)
        self.ears = [
            EarForm(data, side=side, initial=ears.get(side), impressions=by_side.get(side, ()))
            for side in (vocabulary.Side.RIGHT, vocabulary.Side.LEFT)
        ]
        self.non_field_errors = []

    def is_valid(self):
        header_valid = self.header.is_valid()
        ears_valid = all([ear.is_valid() for ear in self.ears])
        if ears_valid and not self.items():
            self.non_field_errors.append(_("Bitte mindestens ein Ohr bestellen."))
            return False
        return header_valid and ears_valid

    def items(self):
        return [ear.item() for ear in self.ears if ear.is_ordered]

    def limit_to_catalogue(self, supplier):
        """The lab's offer on the ears' selects (only when the lab is known as the form opens)."""
        catalogue = offered(supplier)
        for ear in self.ears:
            ear.limit_to(catalogue)

    @property
    def has_errors(self):
        forms = [self.header, *self.ears]
        return bool(self.non_field_errors) or any(form.is_bound and form.errors for form in forms)

    def selection(self):
        """Company and supplier as selected, also when the forms are invalid."""
        cleaned = getattr(self.header, "cleaned_data", None)
        if cleaned is not None:
            return cleaned.get("company"), cleaned.get("supplier") or getattr(self.header, "unconfirmed_supplier", None)
        return self.header.initial.get("company"), self.header.initial.get("supplier")

    def add_service_errors(self, error):
        """Map the ``ValidationError`` of ``place_order`` onto the fields.

        The ears were checked with ``check_item`` already, so item errors left for the
        service are order-wide ones; they are shown above the form.
        """
        item_errors = getattr(error, "item_errors", None)
        if item_errors is not None:
            # ItemsInvalid (e.g. the lab's catalogue): one dict per ordered ear, in form order.
            for ear, errors in zip([ear for ear in self.ears if ear.is_ordered], item_errors):
                for field, message in errors.items():
                    ear.add_error(field if field in ear.fields else None, message)
            return
        if not hasattr(error, "error_dict"):
            self.non_field_errors.extend(error.messages)
            return
        for key, error_list in error.error_dict.items():
            if key in self.header.fields:
                self.header.add_error(key, error_list)
            else:
                self.non_field_errors.extend(message for err in error_list for message in err.messages)


def _impressions_by_side(customer):
    if customer is None:
        return {}
    return impressions_by_side(customer)
