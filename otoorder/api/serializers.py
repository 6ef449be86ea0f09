"""Serializers of the REST API. Field names are a contract (issue #2); rules are not made
here but called: ``check_item`` for order items, ``validate_definition`` for interface
definitions, ``Supplier.clean`` for suppliers.

Every related field takes a UUID and looks it up in a queryset scoped to the requesting user,
so that an id of another branch's customer is indistinguishable from an unknown one.
"""

import copy

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.settings import api_settings

from branches.access import visible_branches
from branches.models import Branch, Chain, InterfaceDefinition, Membership
from branches.resolver import NO_ORDER, READY, SUPPLIER_REQUIRED
from branches.services import validate_definition
from otoorder.backends import registry
from otoorder import vocabulary
from otoorder.orders import choices
from otoorder.orders.models import Attempt, EarmouldOrder, Impression, OrderEvent, OrderItem
from otoorder.orders.services import clean_header, resolve_for
from otoorder.orders.validation import ITEM_FIELDS, ItemsInvalid, check_item, duplicate_sides, validate_items
from otoorder.transactions.models import Customer, Step, StepType, TemplateStep, Transaction, TransactionTemplate
from suppliers.models import Company, OrderMethod, Supplier

from .permissions import request_admin_scope

# --- scoped querysets (what a user may reference) ---------------------------------------------


def visible_customers(user):
    return Customer.objects.filter(branch__in=visible_branches(user))


def visible_transactions(user):
    return Transaction.objects.filter(branch__in=visible_branches(user))


def visible_orders(user):
    return EarmouldOrder.objects.filter(branch__in=visible_branches(user))


# --- fields -------------------------------------------------------------------------------------


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by UUID, looked up in ``scope(request)``.

    With ``missing_is_404`` an unknown or invisible object answers 404 (the object the request
    is about, e.g. the transaction of an order) instead of a field error.
    """

    default_error_messages = {
        "does_not_exist": gettext_lazy("„{pk_value}“ wurde nicht gefunden."),
        "incorrect_type": gettext_lazy("Ungültige ID: eine UUID wird erwartet."),
    }

    def __init__(self, scope=None, missing_is_404=False, **kwargs):
        self.scope = scope
        self.missing_is_404 = missing_is_404
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if self.scope is None or request is None:
            return self.queryset
        return self.scope(request)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if self.missing_is_404 and exc.get_codes() == ["does_not_exist"]:
                raise NotFound() from None
            raise


def _active_companies(request):
    return Company.objects.filter(is_active=True)


def _active_suppliers(request):
    return Supplier.objects.filter(is_active=True).select_related("company")


class BackendChoiceField(serializers.ChoiceField):
    """The registry's keys, read when the serializer is built (the registry may grow)."""

    def __init__(self, **kwargs):
        super().__init__(choices=registry.choices(), **kwargs)


@extend_schema_field({"type": "string", "enum": [NO_ORDER, SUPPLIER_REQUIRED, READY]})
class OutcomeField(serializers.CharField):
    """Outcome of the resolver; an inline enum so it cannot clash with attempt outcomes."""


def _field_errors(exc):
    """Django ValidationError → DRF field errors (``__all__`` → ``non_field_errors``)."""
    errors = {}
    for key, messages in exc.message_dict.items():
        errors[api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key] = messages
    return errors


# --- small references -------------------------------------------------------------------------


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class SupplierRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class SupplierCandidateSerializer(SupplierRefSerializer):
    company = serializers.UUIDField(source="company_id", read_only=True)


class DefinitionRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    backend = BackendChoiceField(read_only=True)


# --- auth ---------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, write_only=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


# --- branches, companies, suppliers, backends ---------------------------------------------------


class BranchSerializer(serializers.ModelSerializer):
    chain = serializers.UUIDField(source="chain_id", read_only=True)
    chain_name = serializers.CharField(source="chain.name", read_only=True)

    class Meta:
        model = Branch
        fields = ["id", "name", "code", "chain", "chain_name", "street", "postal_code", "city", "phone", "email"]


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "is_active"]


class SupplierSerializer(serializers.ModelSerializer):
    company = ScopedRelatedField(scope=_active_companies, queryset=Company.objects.all())
    order_method = serializers.ChoiceField(choices=OrderMethod.choices, default=OrderMethod.EMAIL)
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Supplier
        fields = [
            "id",
            "company",
            "name",
            "display_name",
            "order_method",
            "order_email",
            "fax_number",
            "phone_number",
            "delivery_days",
            "customer_reference_mode",
            "is_active",
        ]

    def validate(self, attrs):
        candidate = copy.copy(self.instance) if self.instance else Supplier()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_field_errors(exc)) from None
        return attrs


class BackendSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    notice = serializers.CharField()
    legacy = serializers.BooleanField()
    available = serializers.BooleanField()
    capabilities = serializers.DictField(child=serializers.BooleanField())
    options_schema = serializers.DictField()

    CAPABILITIES = ("supports_status_poll", "supports_callback", "needs_browser_handoff", "accepts_scans")

    def to_representation(self, backend_class):
        return {
            "key": backend_class.key,
            "label": str(backend_class.label),
            "description": str(backend_class.description or ""),
            "notice": str(backend_class.notice or ""),
            "legacy": bool(backend_class.legacy),
            "available": bool(getattr(backend_class, "available", True)),
            "capabilities": {name: bool(getattr(backend_class, name, False)) for name in self.CAPABILITIES},
            "options_schema": backend_class.options_schema().json_schema(),
        }


# --- interface definitions ------------------------------------------------------------------------


def _admin_chains(request):
    return request_admin_scope(request).chains()


def _admin_chain_branches(request):
    return Branch.objects.filter(chain__in=request_admin_scope(request).chains()).select_related("chain")


class InterfaceDefinitionSerializer(serializers.ModelSerializer):
    """Secrets are accepted inside ``options`` (the backend's schema says which) and never
    returned: ``secrets_set`` names the secrets that are stored."""

    backend = BackendChoiceField()
    backend_label = serializers.CharField(read_only=True)
    chain = ScopedRelatedField(scope=_admin_chains, queryset=Chain.objects.all(), required=False)
    branch = ScopedRelatedField(
        scope=_admin_chain_branches, queryset=Branch.objects.all(), required=False, allow_null=True
    )
    companies = ScopedRelatedField(scope=_active_companies, queryset=Company.objects.all(), many=True, required=False)
    supplier = ScopedRelatedField(
        scope=_active_suppliers, queryset=Supplier.objects.all(), required=False, allow_null=True
    )
    options = serializers.DictField(required=False)
    secrets_set = serializers.ListField(
        child=serializers.CharField(), source="secret_names_set", read_only=True
    )

    class Meta:
        model = InterfaceDefinition
        fields = [
            "id",
            "name",
            "backend",
            "backend_label",
            "chain",
            "branch",
            "active_from",
            "companies",
            "supplier",
            "options",
            "secrets_set",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def _current(self, attrs, name, default=None):
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name) if self.instance is not None else default

    def _derive_chain(self, attrs, branch, scope):
        chain = attrs.get("chain")
        if branch is not None:
            if chain is not None and chain.pk != branch.chain_id:
                raise serializers.ValidationError({"chain": _("Die Filiale gehört nicht zu dieser Filialkette.")})
            return branch.chain
        if chain is not None:
            return chain
        if self.instance is not None:
            return self.instance.chain
        chains = list(scope.chains())
        if len(chains) != 1:
            raise serializers.ValidationError(
                {"chain": _("Sie verwalten mehrere Filialketten: bitte die Filialkette angeben.")}
            )
        return chains[0]

    def _check_scope(self, branch, chain, scope):
        if branch is None and not scope.is_chain_admin(chain.pk):
            raise serializers.ValidationError(
                {
                    "branch": _(
                        "Als Filialadministrator legen Sie Definitionen nur für Ihre Filiale an: "
                        "bitte die Filiale angeben."
                    )
                }
            )
        if branch is not None and not scope.can_admin_branch(branch):
            raise serializers.ValidationError({"branch": _("Diese Filiale verwalten Sie nicht.")})

    def validate(self, attrs):
        scope = request_admin_scope(self.context["request"])
        branch = self._current(attrs, "branch")
        chain = self._derive_chain(attrs, branch, scope)
        self._check_scope(branch, chain, scope)

        # Validate a copy so that a refused change leaves the stored definition untouched.
        candidate = copy.copy(self.instance) if self.instance is not None else InterfaceDefinition()
        for name in ("name", "backend", "active_from", "supplier", "is_active"):
            if name in attrs:
                setattr(candidate, name, attrs[name])
        candidate.chain, candidate.branch = chain, branch
        if "companies" in attrs:
            company_ids = [c.pk for c in attrs["companies"]]
        elif self.instance is not None:
            company_ids = list(self.instance.companies.values_list("pk", flat=True))
        else:
            company_ids = []
        option_values = attrs.get("options", self.instance.options if self.instance is not None else {})
        try:
            options, secrets = validate_definition(candidate, company_ids=company_ids, option_values=option_values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(self._definition_errors(exc)) from None
        attrs.update(chain=chain, options=options, secrets=secrets)
        return attrs

    @staticmethod
    def _definition_errors(exc):
        """``options.<name>`` keys become a nested ``options`` error dict."""
        errors = {}
        for key, messages in _field_errors(exc).items():
            if key.startswith("options."):
                errors.setdefault("options", {})[key.split(".", 1)[1]] = messages
            else:
                errors[key] = messages
        return errors

    def create(self, validated_data):
        companies = validated_data.pop("companies", [])
        definition = InterfaceDefinition.objects.create(**validated_data)
        definition.companies.set(companies)
        return definition

    def update(self, instance, validated_data):
        companies = validated_data.pop("companies", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if companies is not None:
            instance.companies.set(companies)
        return instance


# --- customers, templates, transactions ---------------------------------------------------------


def _visible_branches(request):
    return visible_branches(request.user)


class CustomerSerializer(serializers.ModelSerializer):
    branch = ScopedRelatedField(scope=_visible_branches, queryset=Branch.objects.all())

    class Meta:
        model = Customer
        fields = ["id", "customer_number", "branch", "first_name", "last_name", "birth_date", "created_at"]
        read_only_fields = ["customer_number", "created_at"]
        extra_kwargs = {"birth_date": {"required": False, "allow_null": True}}


class StepSerializer(serializers.ModelSerializer):
    step_type = serializers.ChoiceField(choices=StepType.choices, read_only=True)
    predefined_company = serializers.UUIDField(source="predefined_company_id", read_only=True, allow_null=True)
    predefined_supplier = serializers.UUIDField(source="predefined_supplier_id", read_only=True, allow_null=True)

    class Meta:
        model = TemplateStep
        fields = ["position", "step_type", "title", "predefined_company", "predefined_supplier"]


class TransactionStepSerializer(StepSerializer):
    class Meta(StepSerializer.Meta):
        model = Step
        fields = [*StepSerializer.Meta.fields, "done_at"]


class TransactionTemplateSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = TransactionTemplate
        fields = ["id", "name", "steps"]


def _active_templates(request):
    return TransactionTemplate.objects.filter(is_active=True).prefetch_related("steps")


def _visible_customers(request):
    return visible_customers(request.user).select_related("branch")


class TransactionSerializer(serializers.ModelSerializer):
    customer = ScopedRelatedField(scope=_visible_customers, missing_is_404=True, queryset=Customer.objects.all())
    template = ScopedRelatedField(scope=_active_templates, queryset=TransactionTemplate.objects.all())
    branch = serializers.UUIDField(source="branch_id", read_only=True)
    steps = TransactionStepSerializer(many=True, read_only=True)

    class Meta:
        model = Transaction
        fields = ["id", "name", "customer", "branch", "template", "created_at", "steps"]
        read_only_fields = ["name", "created_at"]


class PreviewRequestSerializer(serializers.Serializer):
    company = ScopedRelatedField(scope=_active_companies, allow_null=True, queryset=Company.objects.all())
    supplier = ScopedRelatedField(
        scope=_active_suppliers, required=False, allow_null=True, default=None, queryset=Supplier.objects.all()
    )


class PreviewSerializer(serializers.Serializer):
    outcome = OutcomeField()
    interface_definition = DefinitionRefSerializer(source="definition", allow_null=True)
    backend = BackendChoiceField(source="backend_key", allow_null=True)
    supplier = SupplierRefSerializer(allow_null=True)
    candidates = SupplierCandidateSerializer(many=True)

    def to_representation(self, resolution):
        data = super().to_representation(resolution)
        data["backend"] = None if resolution.outcome == NO_ORDER else resolution.backend_key
        return data


# --- orders -----------------------------------------------------------------------------------------


def _visible_transactions(request):
    return visible_transactions(request.user).select_related("branch").prefetch_related("steps")


def _visible_impressions(request):
    return Impression.objects.filter(customer__branch__in=visible_branches(request.user))


ITEM_NULLABLE = {"allow_null": True, "required": False}
ITEM_BLANK = {"allow_blank": True, "required": False}


class AlignedListSerializer(serializers.ListSerializer):
    """Errors of a list as a list aligned with the input (``{}`` for a valid entry), the
    format clients rely on, whatever DRF's ``LIST_SERIALIZER_ERRORS_AS_DICT`` says."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict) and exc.detail and all(isinstance(k, int) for k in exc.detail):
                raise serializers.ValidationError([exc.detail.get(i, {}) for i in range(len(data))]) from None
            raise


class OrderItemInputSerializer(serializers.Serializer):
    """One ear. Types and choices here; the lab rules in ``check_item`` (the one place)."""

    side = serializers.ChoiceField(choices=vocabulary.Side.choices)
    product_family = serializers.ChoiceField(choices=vocabulary.ProductFamily.choices)
    style = serializers.ChoiceField(choices=vocabulary.Style.choices)
    material = serializers.ChoiceField(choices=vocabulary.Material.choices)
    shore_hardness = serializers.IntegerField(
        **ITEM_NULLABLE, help_text=gettext_lazy("Shore-A-Härte (20–90), nur bei Silikon und Thermo-Tec.")
    )
    colour = serializers.CharField(max_length=50, **ITEM_BLANK)
    surface_finish = serializers.ChoiceField(choices=vocabulary.SurfaceFinish.choices, **ITEM_BLANK)
    vent_type = serializers.ChoiceField(choices=vocabulary.VentType.choices, required=False)
    vent_diameter_mm = serializers.DecimalField(max_digits=3, decimal_places=1, **ITEM_NULLABLE)
    tube = serializers.ChoiceField(
        choices=vocabulary.Tube.choices, **ITEM_BLANK, help_text=gettext_lazy("Pflicht bei HdO und Dünnschlauch.")
    )
    acoustic_modification = serializers.ChoiceField(choices=vocabulary.AcousticModification.choices, required=False)
    canal_length = serializers.ChoiceField(choices=vocabulary.CanalLength.choices, **ITEM_BLANK)
    receiver_type = serializers.CharField(max_length=100, **ITEM_BLANK)
    receiver_power = serializers.ChoiceField(
        choices=vocabulary.ReceiverPower.choices, **ITEM_BLANK, help_text=gettext_lazy("Pflicht bei Ex-Hörer (RIC).")
    )
    receiver_length = serializers.ChoiceField(
        choices=vocabulary.RECEIVER_LENGTHS, **ITEM_NULLABLE, help_text=gettext_lazy("Pflicht bei Ex-Hörer (RIC).")
    )
    protection_filter = serializers.ChoiceField(
        choices=vocabulary.ProtectionFilter.choices, **ITEM_BLANK, help_text=gettext_lazy("Nur bei Gehörschutz.")
    )
    extraction_cord = serializers.BooleanField(required=False, default=False)
    # No max_length here: check_item says how long an engraving may be, in the staff's words.
    engraving = serializers.CharField(**ITEM_BLANK, help_text=gettext_lazy("höchstens 30 Zeichen"))
    quantity = serializers.IntegerField(required=False, default=1)
    impression = ScopedRelatedField(scope=_visible_impressions, queryset=Impression.objects.all(), **ITEM_NULLABLE)
    notes = serializers.CharField(max_length=500, **ITEM_BLANK)

    class Meta:
        list_serializer_class = AlignedListSerializer

    def validate(self, attrs):
        errors = check_item(attrs)
        if errors:
            raise serializers.ValidationError({name: [message] for name, message in errors.items()})
        return attrs


def _visible_orders(request):
    return visible_orders(request.user)


def _visible_staff(request):
    """Users who may be named as prescriber: members of the branches (and chains) one sees."""
    branches = visible_branches(request.user)
    members = Membership.objects.filter(branch__in=branches) | Membership.objects.filter(
        branch__isnull=True, chain__in=branches.values("chain")
    )
    return get_user_model().objects.filter(pk__in=members.values("user")).distinct()


class OrderCreateSerializer(serializers.Serializer):
    transaction = ScopedRelatedField(
        scope=_visible_transactions, missing_is_404=True, queryset=Transaction.objects.all()
    )
    company = ScopedRelatedField(
        scope=_active_companies, required=False, allow_null=True, default=None, queryset=Company.objects.all()
    )
    supplier = ScopedRelatedField(
        scope=_active_suppliers, required=False, allow_null=True, default=None, queryset=Supplier.objects.all()
    )
    items = OrderItemInputSerializer(
        many=True, allow_empty=False, max_length=2,
        error_messages={"empty": gettext_lazy("Bitte mindestens ein Ohr bestellen.")},
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=choices.Priority.choices, required=False)
    date_required = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Ohne Angabe: heute plus die Lieferzeit des Lieferanten in Werktagen."),
    )
    order_type = serializers.ChoiceField(choices=choices.OrderType.choices, required=False)
    original_order = ScopedRelatedField(
        scope=_visible_orders,
        queryset=EarmouldOrder.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Pflicht bei Reklamation/Nachfertigung und Änderung: die ursprüngliche Bestellung."),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=gettext_lazy("Pflicht bei Reklamation/Nachfertigung und Änderung."),
    )
    prescriber = ScopedRelatedField(
        scope=_visible_staff,
        queryset=get_user_model().objects.all(),
        pk_field=serializers.IntegerField(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Verantwortlicher Akustiker (Benutzer-ID); ohne Angabe der anfragende Benutzer."),
    )

    HEADER_FIELDS = ("notes", "priority", "date_required", "order_type", "original_order", "reason", "prescriber")

    def validate_items(self, items):
        per_item = [{field: [message] for field, message in errors.items()} for errors in duplicate_sides(items)]
        if any(per_item):
            raise serializers.ValidationError(per_item)
        return items

    def validate(self, attrs):
        transaction_obj = attrs["transaction"]
        prescriber = attrs.get("prescriber")
        if prescriber is not None and not _is_member(prescriber, transaction_obj.branch):
            raise serializers.ValidationError(
                {"prescriber": [_("Der verantwortliche Akustiker gehört nicht zu dieser Filiale.")]}
            )
        # The lab's catalogue and the impressions' customer: checked here too, so that each
        # message lands on its ear and field (place_order checks the same again).
        resolution = resolve_for(transaction_obj, attrs["company"], attrs["supplier"])
        supplier = resolution.supplier if resolution.outcome == READY else None
        errors = {}
        try:
            validate_items([dict(item) for item in attrs["items"]], supplier, customer=transaction_obj.customer)
        except ItemsInvalid as exc:
            errors["items"] = [{field: [message] for field, message in item.items()} for item in exc.item_errors]
        # The header's rules too, so that one answer names every mistake.
        header = {name: attrs[name] for name in self.HEADER_FIELDS if name in attrs}
        try:
            clean_header(header, customer_id=transaction_obj.customer_id, supplier=supplier)
        except DjangoValidationError as exc:
            errors.update(_field_errors(exc))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @property
    def header(self):
        return {name: self.validated_data[name] for name in self.HEADER_FIELDS if name in self.validated_data}


def _is_member(user, branch):
    return Membership.objects.filter(user=user).filter(
        Q(branch=branch) | Q(branch__isnull=True, chain_id=branch.chain_id)
    ).exists()


class OrderItemSerializer(serializers.ModelSerializer):
    impression = serializers.UUIDField(source="impression_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderItem
        fields = [*ITEM_FIELDS, "serial_number"]


class OrderEventSerializer(serializers.ModelSerializer):
    time = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["time", "from_status", "to_status", "source", "message"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["number", "started_at", "duration_ms", "outcome", "error", "permanent"]


class OrderListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    backend = BackendChoiceField(read_only=True)
    backend_label = serializers.CharField(read_only=True)
    company = CompanyRefSerializer(read_only=True)
    supplier = SupplierRefSerializer(read_only=True)
    interface_definition = DefinitionRefSerializer(read_only=True, allow_null=True)
    transaction = serializers.UUIDField(source="transaction_id", read_only=True)
    customer = serializers.UUIDField(source="customer_id", read_only=True)
    branch = serializers.UUIDField(source="branch_id", read_only=True)

    class Meta:
        model = EarmouldOrder
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "backend",
            "backend_label",
            "company",
            "supplier",
            "interface_definition",
            "transaction",
            "customer",
            "branch",
            "order_type",
            "priority",
            "date_required",
            "external_reference",
            "external_status",
            "failure_reason",
            "created_at",
            "ordered_at",
        ]
        read_only_fields = fields


class OrderSerializer(OrderListSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    original_order = serializers.UUIDField(source="original_order_id", read_only=True, allow_null=True)
    original_order_number = serializers.SerializerMethodField()
    prescriber = serializers.IntegerField(source="prescriber_id", read_only=True, allow_null=True)
    events = OrderEventSerializer(many=True, read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(OrderListSerializer.Meta):
        fields = [
            *OrderListSerializer.Meta.fields,
            "tracking_number",
            "lab_properties",
            "notes",
            "original_order",
            "original_order_number",
            "reason",
            "prescriber",
            "received_at",
            "fitted_on",
            "warranty_until",
            "closed_at",
            "close_reason",
            "items",
            "events",
            "attempts",
        ]
        read_only_fields = fields


    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_original_order_number(self, order):
        return order.original_order.number if order.original_order_id else None


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=choices.OrderStatus.choices, required=False)
    customer = serializers.UUIDField(required=False)


class SupplierFilterSerializer(serializers.Serializer):
    company = serializers.UUIDField(required=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)

