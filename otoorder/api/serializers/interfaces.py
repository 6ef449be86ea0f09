"""The backends of the registry and the interface definitions (``validate_definition`` decides).
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from branches.models import Branch, Chain, InterfaceDefinition
from branches.services import validate_definition
from suppliers.models import Company, Supplier

from ..permissions import request_admin_scope
from .common import (
    BackendChoiceField,
    ScopedRelatedField,
    active_companies,
    active_suppliers,
    field_errors,
)


class BackendSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    notice = serializers.CharField()
    legacy = serializers.BooleanField()
    available = serializers.BooleanField()
    capabilities = serializers.DictField(child=serializers.BooleanField())
    options_schema = serializers.DictField()

    def to_representation(self, backend_class):
        return {
            "key": backend_class.key,
            "label": str(backend_class.label),
            "description": str(backend_class.description or ""),
            "notice": str(backend_class.notice or ""),
            "legacy": bool(backend_class.legacy),
            "available": bool(backend_class.available),
            "capabilities": backend_class.capabilities(),
            "options_schema": backend_class.options_schema().json_schema(),
        }


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
    companies = ScopedRelatedField(scope=active_companies, queryset=Company.objects.all(), many=True, required=False)
    supplier = ScopedRelatedField(
        scope=active_suppliers, queryset=Supplier.objects.all(), required=False, allow_null=True
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
            "max_parallel_sends",
            "sends_per_minute",
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
        for key, messages in field_errors(exc).items():
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
