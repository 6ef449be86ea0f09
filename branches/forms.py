"""Forms of branch administration (Filialverwaltung).

The interface definition form renders the backend's own options schema as ``opt_<name>``
fields and leaves every rule to ``branches.services.validate_definition``, so the browser
and the API refuse the same definitions with the same messages.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _, gettext_lazy

from otoorder.backends import registry
from otoorder.backends.exceptions import ConfigurationError
from suppliers.models import Company, Supplier

from .models import MAX_PARALLEL_SENDS, MAX_SENDS_PER_MINUTE, Branch, Chain, InterfaceDefinition, SupplierAccount
from .services import validate_definition

OPTION_PREFIX = "opt_"
SECRET_KEPT_HINT = gettext_lazy("gespeichert – leer lassen, um den Wert zu behalten")


def backend_class_or_none(key):
    try:
        return registry.get_backend_class(key)
    except ConfigurationError:
        return None


def option_formfields(backend_class, *, stored_options=None, stored_secrets=None):
    """``{opt_<name>: field}`` for a backend's options; secrets never carry their value."""
    if backend_class is None:
        return {}
    stored_options = stored_options or {}
    stored_secrets = stored_secrets or {}
    fields = {}
    for option in backend_class.options_schema():
        field = option.formfield()
        if option.secret:
            if stored_secrets.get(option.name) not in (None, ""):
                field.help_text = " ".join(str(part) for part in (field.help_text, SECRET_KEPT_HINT) if part)
        elif option.name in stored_options:
            value = stored_options[option.name]
            field.initial = "\n".join(value) if option.kind == "list" else value
        fields[f"{OPTION_PREFIX}{option.name}"] = field
    return fields


class InterfaceDefinitionForm(forms.ModelForm):
    """Create or edit a definition within the user's admin scope."""

    chain = forms.ModelChoiceField(
        label=gettext_lazy("Filialkette"),
        queryset=Chain.objects.none(),
        required=False,
        help_text=gettext_lazy("Nur nötig für Definitionen, die für alle Filialen gelten."),
    )
    backend = forms.ChoiceField(label=gettext_lazy("Schnittstelle"), choices=registry.choices)

    class Meta:
        model = InterfaceDefinition
        fields = [
            "name", "backend", "branch", "active_from", "companies", "supplier", "is_active",
            "max_parallel_sends", "sends_per_minute",
        ]  # fmt: skip
        widgets = {
            "active_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "companies": forms.SelectMultiple(attrs={"size": 6}),
            "max_parallel_sends": forms.NumberInput(attrs={"min": 1, "max": MAX_PARALLEL_SENDS}),
            "sends_per_minute": forms.NumberInput(attrs={"min": 1, "max": MAX_SENDS_PER_MINUTE}),
        }

    def __init__(self, *args, scope, backend_key=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["branch"].queryset = scope.branches().select_related("chain")
        self.fields["branch"].empty_label = _("alle Filialen")
        self.fields["companies"].queryset = Company.objects.filter(
            Q(is_active=True) | Q(pk__in=self._current_company_ids())
        )
        self.fields["supplier"].queryset = Supplier.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.supplier_id)
        ).select_related("company")
        self.fields["supplier"].empty_label = "—"
        admin_chains = Chain.objects.filter(pk__in=scope.chain_ids)
        if self.instance._state.adding and admin_chains.count() > 1:
            self.fields["chain"].queryset = admin_chains
        else:
            del self.fields["chain"]
        self.fields["max_parallel_sends"].required = False
        self.backend_key = self._pick_backend_key(backend_key)
        self.fields["backend"].initial = self.backend_key
        self.backend_class = backend_class_or_none(self.backend_key)
        self.fields.update(
            option_formfields(
                self.backend_class,
                stored_options=self.instance.options if self.instance.backend == self.backend_key else {},
                stored_secrets=self.instance.secrets if self.instance.backend == self.backend_key else {},
            )
        )

    def clean_max_parallel_sends(self):
        """Left empty (or not sent by an older page): the stored value, or the default."""
        value = self.cleaned_data.get("max_parallel_sends")
        return self.instance.max_parallel_sends if value is None else value

    def _current_company_ids(self):
        if self.instance._state.adding:
            return []
        return list(self.instance.companies.values_list("pk", flat=True))

    def _pick_backend_key(self, requested):
        if self.is_bound:
            return self.data.get(self.add_prefix("backend")) or registry.STANDARD
        return requested or self.instance.backend or registry.STANDARD

    @property
    def option_fields(self):
        return [self[name] for name in self.fields if name.startswith(OPTION_PREFIX)]

    @property
    def base_fields_bound(self):
        return [self[name] for name in self.fields if not name.startswith(OPTION_PREFIX)]

    @property
    def backend_description(self):
        return self.backend_class.description if self.backend_class else ""

    @property
    def backend_notice(self):
        return self.backend_class.notice if self.backend_class else ""

    def option_values(self):
        return {
            name[len(OPTION_PREFIX):]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(OPTION_PREFIX)
        }

    def _definition_chain(self):
        branch = self.cleaned_data.get("branch")
        if branch is not None:
            return branch.chain
        if not self.instance._state.adding:
            return self.instance.chain
        if "chain" in self.fields:
            return self.cleaned_data.get("chain")
        return Chain.objects.filter(pk__in=self.scope.chain_ids).first()

    def clean(self):
        cleaned = super().clean()
        if "branch" in self.errors:
            return cleaned
        chain = self._definition_chain()
        if cleaned.get("branch") is None:
            if chain is None and "chain" in self.fields:
                self.add_error("chain", _("Bitte die Filialkette wählen."))
            elif chain is None or not self.scope.is_chain_admin(chain.pk):
                self.add_error(
                    "branch",
                    _(
                        "Definitionen für alle Filialen kann nur ein Kettenadministrator anlegen "
                        "oder ändern. Bitte wählen Sie Ihre Filiale."
                    ),
                )
        self.definition_chain = chain
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        definition = self.instance
        definition.chain = self.definition_chain
        try:
            definition.options, definition.secrets = validate_definition(
                definition,
                company_ids=[company.pk for company in self.cleaned_data.get("companies") or []],
                option_values=self.option_values(),
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(self._field_for_error(key), messages)

    def _field_for_error(self, key):
        if key.startswith("options."):
            key = OPTION_PREFIX + key[len("options."):]
        return key if key in self.fields else None


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "is_active"]


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = [
            "company",
            "name",
            "order_method",
            "order_email",
            "fax_number",
            "phone_number",
            "delivery_days",
            "turnaround_days",
            "shipping_days",
            "carrier",
            "remake_fit_days",
            "remake_material_months",
            "remake_conditions",
            "customer_reference_mode",
            "is_active",
        ]


class BranchForm(forms.ModelForm):
    """A branch's own data: address (the labs ship to it), contact and Bundesland (its public
    holidays are no working days in the ETA)."""

    class Meta:
        model = Branch
        fields = ["name", "code", "street", "postal_code", "city", "phone", "email", "state"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Branch.objects.filter(chain_id=self.instance.chain_id, name=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("In dieser Filialkette gibt es bereits eine Filiale „%(name)s“.") % {"name": name})
        return name

    def validate_unique(self):
        # clean_name() already reports a duplicate in German; skip Django's generic message.
        pass


class SupplierAccountForm(forms.ModelForm):
    class Meta:
        model = SupplierAccount
        fields = ["branch", "supplier", "account_number"]

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = scope.branches().select_related("chain")
        self.fields["supplier"].queryset = Supplier.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.supplier_id)
        ).select_related("company")

    def clean(self):
        cleaned = super().clean()
        branch, supplier = cleaned.get("branch"), cleaned.get("supplier")
        if branch and supplier:
            taken = SupplierAccount.objects.filter(branch=branch, supplier=supplier).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("supplier", duplicate_account_message(branch, supplier))
        return cleaned

    def validate_unique(self):
        # clean() already reports a duplicate in German; skip Django's generic message.
        pass


def duplicate_account_message(branch, supplier):
    return _(
        "Für die Filiale „%(branch)s“ ist beim Lieferanten „%(supplier)s“ bereits eine "
        "Kundennummer hinterlegt. Bitte bearbeiten Sie diese."
    ) % {"branch": branch.name, "supplier": supplier.display_name}
