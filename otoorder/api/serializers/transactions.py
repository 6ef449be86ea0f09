"""Transaction templates, transactions and the preview of the Bestellservice step.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from branches.resolver import NO_ORDER, READY, SUPPLIER_REQUIRED
from otoorder.transactions.models import Customer, Step, StepType, TemplateStep, Transaction, TransactionTemplate
from suppliers.models import Company, Supplier

from .common import (
    BackendChoiceField,
    DefinitionRefSerializer,
    ScopedRelatedField,
    SupplierCandidateSerializer,
    SupplierRefSerializer,
    active_companies,
    active_suppliers,
)


@extend_schema_field({"type": "string", "enum": [NO_ORDER, SUPPLIER_REQUIRED, READY]})
class OutcomeField(serializers.CharField):
    """Outcome of the resolver; an inline enum so it cannot clash with attempt outcomes."""


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
    return Customer.objects.visible_to(request.user).select_related("branch")


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
    company = ScopedRelatedField(scope=active_companies, allow_null=True, queryset=Company.objects.all())
    supplier = ScopedRelatedField(
        scope=active_suppliers, required=False, allow_null=True, default=None, queryset=Supplier.objects.all()
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
