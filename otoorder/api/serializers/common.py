"""What the serializers of every resource share: the related field that looks an id up in a
queryset scoped to the requesting user, and the small references to companies, suppliers and
definitions.

Every related field takes a UUID and looks it up in ``<Model>.objects.visible_to(user)`` (the
rule of ``branches.access``), so that an id of another branch's customer is indistinguishable
from an unknown one.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.settings import api_settings

from otoorder.backends import registry
from suppliers.models import Company, Supplier


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


def active_companies(request):
    return Company.objects.filter(is_active=True)


def active_suppliers(request):
    return Supplier.objects.filter(is_active=True).select_related("company")


class BackendChoiceField(serializers.ChoiceField):
    """The registry's keys, read when the serializer is built (the registry may grow)."""

    def __init__(self, **kwargs):
        super().__init__(choices=registry.choices(), **kwargs)


def page_url(serializer, name, pk):
    """The absolute address of one of the staff pages (a download, a preview) for ``pk``."""
    url = reverse(name, args=[pk])
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request else url


def field_errors(exc):
    """Django ValidationError → DRF field errors (``__all__`` → ``non_field_errors``)."""
    errors = {}
    for key, messages in exc.message_dict.items():
        errors[api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key] = messages
    return errors


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
