"""Branches, companies and suppliers (``Supplier.clean`` decides what a supplier needs).
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from branches.models import Branch
from suppliers.models import Company, OrderMethod, Supplier

from .common import ScopedRelatedField, active_companies, field_errors


class BranchSerializer(serializers.ModelSerializer):
    chain = serializers.UUIDField(source="chain_id", read_only=True)
    chain_name = serializers.CharField(source="chain.name", read_only=True)

    class Meta:
        model = Branch
        fields = ["id", "name", "code", "chain", "chain_name", "street", "postal_code", "city", "phone", "email", "state"]


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "is_active"]


class SupplierSerializer(serializers.ModelSerializer):
    company = ScopedRelatedField(scope=active_companies, queryset=Company.objects.all())
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
            "turnaround_days",
            "shipping_days",
            "carrier",
            "remake_fit_days",
            "remake_material_months",
            "remake_conditions",
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
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs


class SupplierFilterSerializer(serializers.Serializer):
    company = serializers.UUIDField(required=False)
