"""Orders: the order to place (``check_item`` for each ear, ``clean_header`` for the header), the
order as the API returns it, its filter and its cancellation.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from branches.models import Branch
from branches.resolver import READY
from otoorder import vocabulary
from otoorder.orders import cancellation, choices, lab_messages, queries, schedule, warranty
from otoorder.orders.models import Attempt, EarmouldOrder, Impression, OrderEvent, OrderItem, OrderMessage
from otoorder.orders.services import clean_header, resolve_for
from otoorder.orders.validation import (
    ITEM_FIELDS,
    ItemsInvalid,
    check_item,
    duplicate_sides,
    supplier_mismatch,
    validate_items,
)
from otoorder.transactions.models import Transaction
from suppliers.models import Company, Supplier

from .common import (
    BackendChoiceField,
    CompanyRefSerializer,
    DefinitionRefSerializer,
    ScopedRelatedField,
    SupplierRefSerializer,
    active_companies,
    active_suppliers,
    field_errors,
)


def _visible_transactions(request):
    return Transaction.objects.visible_to(request.user).select_related("branch").prefetch_related("steps")


def _visible_impressions(request):
    return Impression.objects.visible_to(request.user)


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
    return EarmouldOrder.objects.visible_to(request.user)


def _visible_staff(request):
    """Users who may be named as prescriber: the people of the branches one sees."""
    return Branch.objects.visible_to(request.user).people()


class OrderCreateSerializer(serializers.Serializer):
    transaction = ScopedRelatedField(
        scope=_visible_transactions, missing_is_404=True, queryset=Transaction.objects.all()
    )
    company = ScopedRelatedField(
        scope=active_companies, required=False, allow_null=True, default=None, queryset=Company.objects.all()
    )
    supplier = ScopedRelatedField(
        scope=active_suppliers, required=False, allow_null=True, default=None, queryset=Supplier.objects.all()
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
    cost_bearer = serializers.ChoiceField(
        choices=choices.CostBearer.choices,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("Kostenträger einer Nachfertigung: lab, chain oder customer."),
        error_messages={"invalid_choice": gettext_lazy("Bitte wählen, wer die Kosten trägt (Labor, Kette oder Kunde).")},
    )
    cost_amount = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Betrag in EUR, soweit bekannt."),
        error_messages={
            "invalid": gettext_lazy("Bitte den Betrag als Zahl angeben, z. B. 45.00."),
            "min_value": gettext_lazy("Der Betrag muss zwischen 0 und 999.999,99 EUR liegen."),
            "max_digits": gettext_lazy("Der Betrag muss zwischen 0 und 999.999,99 EUR liegen."),
            "max_whole_digits": gettext_lazy("Der Betrag muss zwischen 0 und 999.999,99 EUR liegen."),
            "max_decimal_places": gettext_lazy("Der Betrag hat höchstens zwei Nachkommastellen."),
        },
    )
    prescriber = ScopedRelatedField(
        scope=_visible_staff,
        queryset=get_user_model().objects.all(),
        pk_field=serializers.IntegerField(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Verantwortlicher Akustiker (Benutzer-ID); ohne Angabe der anfragende Benutzer."),
    )

    confirm_supplier = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy(
            "Bestätigt einen Lieferanten, der nicht zur angegebenen Firma gehört (ohne Bestätigung: 400 mit "
            "der Rückfrage am Feld supplier)."
        ),
    )

    HEADER_FIELDS = (
        "notes", "priority", "date_required", "order_type", "original_order", "reason", "prescriber", "cost_bearer",
        "cost_amount",
    )

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
        company, chosen = attrs["company"], attrs["supplier"]
        if supplier_mismatch(company, chosen) and not attrs.get("confirm_supplier"):
            raise serializers.ValidationError(
                {
                    "supplier": [
                        serializers.ErrorDetail(
                            _(
                                "Der Lieferant „%(supplier)s“ gehört nicht zur Firma „%(company)s“. Bitte einen "
                                "Lieferanten dieser Firma wählen oder mit confirm_supplier bestätigen, dass die "
                                "Bestellung trotzdem an „%(supplier)s“ gehen soll."
                            )
                            % {"supplier": chosen, "company": company},
                            code="supplier_mismatch",
                        )
                    ]
                }
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
            errors.update(field_errors(exc))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @property
    def header(self):
        return {name: self.validated_data[name] for name in self.HEADER_FIELDS if name in self.validated_data}


def _is_member(user, branch):
    return Branch.objects.filter(pk=branch.pk).people().filter(pk=user.pk).exists()


class FreeRemakeUntilSerializer(serializers.Serializer):
    fit = serializers.DateField(allow_null=True, help_text=gettext_lazy(
        "Letzter Tag der kostenlosen Nachfertigung wegen Passform, Rückkopplung oder Halt; leer ohne Lieferung."
    ))
    material = serializers.DateField(allow_null=True, help_text=gettext_lazy(
        "Letzter Tag der kostenlosen Nachfertigung wegen Materialfehlern; leer ohne Lieferung."
    ))


class OrderItemSerializer(serializers.ModelSerializer):
    impression = serializers.UUIDField(source="impression_id", read_only=True, allow_null=True)
    free_remake_until = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Die Zeitfenster der kostenlosen Nachfertigung ab Lieferung (Wareneingang, sonst Versand durch das Labor)."
    ))

    class Meta:
        model = OrderItem
        fields = [*ITEM_FIELDS, "serial_number", "free_remake_until"]

    @extend_schema_field(FreeRemakeUntilSerializer)
    def get_free_remake_until(self, item):
        # ``order.items.all()`` hands each item its order: no query per item.
        return FreeRemakeUntilSerializer(warranty.item_windows(item).as_dict()).data


class OrderEventSerializer(serializers.ModelSerializer):
    time = serializers.DateTimeField(source="created_at", read_only=True)
    code = serializers.SerializerMethodField(help_text=gettext_lazy("Code des Ereignisses (leer bei alten Ereignissen)."))
    message = serializers.CharField(
        source="text", read_only=True, help_text=gettext_lazy("Das Ereignis in der Sprache von Accept-Language.")
    )

    class Meta:
        model = OrderEvent
        fields = ["time", "from_status", "to_status", "source", "code", "message"]

    def get_code(self, event) -> str:
        data = event.data if isinstance(event.data, dict) else {}
        return str(data.get("code") or "")


class AttemptSerializer(serializers.ModelSerializer):
    error = serializers.CharField(
        source="error_text", read_only=True, help_text=gettext_lazy("Der Fehler in der Sprache von Accept-Language.")
    )

    class Meta:
        model = Attempt
        fields = ["purpose", "number", "started_at", "duration_ms", "outcome", "error", "error_code", "permanent"]


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
    #: Empty when nobody named the carrier (the schema says so: blank is one of its values).
    carrier = serializers.ChoiceField(choices=vocabulary.Carrier.choices, allow_blank=True, read_only=True)
    overdue = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Offen, noch nicht versandt, und der voraussichtliche Liefertermin oder „benötigt bis“ ist vorbei."
    ))
    at_risk = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Der voraussichtliche Liefertermin liegt nach „benötigt bis“."
    ))
    needs_attention = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Fehlgeschlagen, abgelehnt, Rückfrage des Labors, Stornierung zu melden oder überfällig."
    ))
    messages_unread = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Nachrichten des Labors, die in der Filiale noch niemand gelesen hat."
    ))
    tracking_url = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "Sendungsverfolgung beim Versanddienstleister; leer ohne Sendungsnummer oder Versanddienstleister."
    ))
    failure_reason = serializers.CharField(source="failure_text", read_only=True, help_text=gettext_lazy(
        "Warum der Versand fehlschlug, in der Sprache von Accept-Language."
    ))

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
            "eta",
            "overdue",
            "at_risk",
            "needs_attention",
            "shipped_at",
            "tracking_number",
            "carrier",
            "tracking_url",
            "messages_unread",
        ]
        read_only_fields = fields

    # The list's queryset carries these as annotations (``queries.annotate_list``: no query per
    # row); an order from elsewhere is computed the same way.
    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, order):
        return bool(getattr(order, "is_overdue", None) if hasattr(order, "is_overdue") else schedule.is_overdue(order))

    @extend_schema_field(serializers.BooleanField())
    def get_at_risk(self, order):
        return bool(getattr(order, "is_at_risk", None) if hasattr(order, "is_at_risk") else schedule.is_at_risk(order))

    @extend_schema_field(serializers.BooleanField())
    def get_needs_attention(self, order):
        if hasattr(order, "needs_attention"):
            return bool(order.needs_attention)
        return order.status in choices.NEEDS_ATTENTION or schedule.is_overdue(order)

    @extend_schema_field(serializers.IntegerField(min_value=0))
    def get_messages_unread(self, order):
        if hasattr(order, "messages_unread"):
            return order.messages_unread
        return order.messages.filter(direction=choices.MessageDirection.FROM_LAB, read_at__isnull=True).count()


class FollowUpSerializer(serializers.ModelSerializer):
    """An order placed as a remake (Nachfertigung) or modification of this one."""

    class Meta:
        model = EarmouldOrder
        fields = ["id", "number", "order_type", "status"]
        read_only_fields = fields


class OrderSerializer(OrderListSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    original_order = serializers.UUIDField(source="original_order_id", read_only=True, allow_null=True)
    original_order_number = serializers.SerializerMethodField()
    follow_ups = FollowUpSerializer(
        many=True,
        read_only=True,
        help_text="Remakes (Nachfertigungen) and modifications placed for this order, oldest first; "
        "each names this order as its `original_order`.",
    )
    prescriber = serializers.IntegerField(source="prescriber_id", read_only=True, allow_null=True)
    #: Empty when nobody recorded who pays (read-only model fields lose allow_blank in the schema).
    cost_bearer = serializers.ChoiceField(choices=choices.CostBearer.choices, allow_blank=True, read_only=True)
    lab_charge_flagged = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Labor berechnet innerhalb der kostenlosen Nachfertigung: eine Nachfertigung, die im Fenster bestellt "
        "wurde, mit einem Kostenträger außer dem Labor und einem Betrag über 0."
    ))
    events = OrderEventSerializer(many=True, read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(OrderListSerializer.Meta):
        fields = [
            *OrderListSerializer.Meta.fields,
            "lab_properties",
            "notes",
            "original_order",
            "original_order_number",
            "follow_ups",
            "reason",
            "cost_bearer",
            "cost_amount",
            "lab_charge_flagged",
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

    def get_lab_charge_flagged(self, order) -> bool:
        return warranty.lab_charge_flagged(order)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=gettext_lazy(
        "window_closed, fit_window_closed (Zeitfenster abgelaufen), changed (Bauform, Material, Farbe oder "
        "Zusatzbohrung geändert) oder other_ear (Ohr nicht in der ursprünglichen Bestellung)."
    ))
    detail = serializers.CharField(help_text=gettext_lazy("Der Hinweis in der Sprache von Accept-Language."))


class OrderCreatedSerializer(OrderSerializer):
    """The order as created, with the warnings of a remake the lab may charge."""

    warnings = WarningSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "Bei einer Nachfertigung (original_order): warum das Labor sie berechnen kann; sonst leer."
    ))

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class OrderFilterSerializer(serializers.Serializer):
    """The list's filters, all combinable (``queries.filter_orders``, as the staff order list)."""

    status = serializers.ChoiceField(
        choices=[(queries.OPEN_FILTER, gettext_lazy("alle offenen")), *choices.OrderStatus.choices],
        required=False,
        help_text=gettext_lazy("Ein Status, oder „open“: alle offenen (von „queued“ bis „shipped“, "
                               "dazu fehlgeschlagen, abgelehnt, Rückfrage und Stornierungen in Arbeit)."),
    )
    customer = serializers.UUIDField(required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    needs_attention = serializers.BooleanField(required=False, allow_null=True, default=None)
    supplier = serializers.UUIDField(required=False)
    q = serializers.CharField(
        required=False,
        max_length=queries.MAX_QUERY_LENGTH,
        help_text=gettext_lazy("Bestellnummer, Labornummer, Sendungsnummer, Kundenname oder Kundennummer "
                               "(Groß-/Kleinschreibung egal; mehrere Wörter: alle müssen passen)."),
    )


class ConfirmSerializer(serializers.Serializer):
    lab_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="The lab's order number, when the lab gave one (phone, fax answer).",
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=cancellation.REASON_MAX)


class OrderMessageSerializer(serializers.ModelSerializer):
    """One message of the thread between branch and lab (a lab's question or staff's answer)."""

    author = serializers.SerializerMethodField()
    in_reply_to = serializers.UUIDField(source="in_reply_to_id", read_only=True, allow_null=True)
    delivery = serializers.ChoiceField(
        source="state",
        choices=choices.DispatchState.choices,
        read_only=True,
        help_text="Answers to the lab: queued, sending, done (delivered) or failed; the lab's questions: done.",
    )

    class Meta:
        model = OrderMessage
        fields = ["id", "direction", "channel", "text", "author", "created_at", "read_at", "in_reply_to", "delivery"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_author(self, message):
        if message.author is None:
            return ""
        return message.author.get_full_name() or message.author.get_username()


class OrderMessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=lab_messages.TEXT_MAX, trim_whitespace=True)
