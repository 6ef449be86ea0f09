"""/api/v1/impressions/: record a physical impression or upload a scan (multipart), and list them.

A scan is checked by content (``otoorder.orders.scans``); a file that is not a readable STL or
PLY answers 400 with code ``invalid_scan`` (``scan_too_large`` above the operator's limit) and
the German reason. Customers of other branches answer 404, as if they did not exist.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from otoorder import vocabulary
from otoorder.orders import scans
from otoorder.orders.models import Impression
from otoorder.transactions.models import Customer

from .serializers.common import page_url

logger = logging.getLogger(__name__)

FILE_ERROR_CODES = (scans.INVALID, scans.TOO_LARGE)


class ImpressionSerializer(serializers.ModelSerializer):
    # A physical impression has no file: its format is null, a value the schema allows (the
    # model stores an empty string, which is not one of the enum's values).
    file_format = serializers.ChoiceField(choices=vocabulary.ScanFormat.choices, allow_null=True, read_only=True)
    preview_url = serializers.SerializerMethodField(help_text=gettext_lazy("Seite mit der 3D-Ansicht"))
    file_url = serializers.SerializerMethodField(help_text=gettext_lazy("Download der Scan-Datei (nur Scans)"))

    class Meta:
        model = Impression
        fields = [
            "id", "customer", "side", "kind", "reference", "tracking_number", "original_name",
            "file_format", "file_size", "sha256", "triangle_count", "scanner", "created_at",
            "preview_url", "file_url",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, impression):
        data = super().to_representation(impression)
        data["file_format"] = data["file_format"] or None
        return data

    def get_preview_url(self, impression) -> str:
        return page_url(self, "orders:impression_detail", impression.pk)

    def get_file_url(self, impression) -> str | None:
        return page_url(self, "orders:impression_file", impression.pk) if impression.file else None


class ImpressionUploadSerializer(serializers.Serializer):
    """The request fields (for validation of their shape and for the schema)."""

    customer = serializers.UUIDField()
    side = serializers.ChoiceField(choices=vocabulary.Side.choices)
    kind = serializers.ChoiceField(choices=vocabulary.ImpressionKind.choices)
    file = serializers.FileField(required=False, help_text=gettext_lazy("STL (binär/ASCII) oder PLY; nur bei kind=scan"))
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    scanner = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


#: A customer id that is unknown or of another branch (the error body: ``otoorder.api.schema``).
CUSTOMER_NOT_FOUND = OpenApiResponse(description="`not_found`: the customer is unknown or of another branch.")


@extend_schema_view(get=extend_schema(responses={200: ImpressionSerializer, 404: CUSTOMER_NOT_FOUND}))
@extend_schema(
    parameters=[
        OpenApiParameter("customer", str, description="Kunden-ID"),
        OpenApiParameter("side", str, enum=vocabulary.Side.values),
    ]
)
class ImpressionListView(generics.ListCreateAPIView):
    serializer_class = ImpressionSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        impressions = Impression.objects.visible_to(self.request.user).select_related("customer").order_by("-created_at")
        params = self.request.query_params
        if params.get("customer"):
            customer = self._customer(params["customer"])
            impressions = impressions.filter(customer=customer)
        if params.get("side"):
            impressions = impressions.filter(side=params["side"])
        return impressions

    def _customer(self, value):
        try:
            pk = serializers.UUIDField().to_internal_value(value)
        except serializers.ValidationError:
            raise serializers.ValidationError({"customer": [_("Bitte eine gültige Kunden-ID angeben.")]}) from None
        return get_object_or_404(Customer.objects.visible_to(self.request.user), pk=pk)

    @extend_schema(
        request={"multipart/form-data": ImpressionUploadSerializer},
        responses={201: ImpressionSerializer, 404: CUSTOMER_NOT_FOUND},
    )
    def post(self, request, *args, **kwargs):
        try:
            scans.check_request_size(request)
        except DjangoValidationError as exc:
            body = {"code": exc.code, "detail": exc.messages[0], "errors": {"file": exc.messages}}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        upload = ImpressionUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        customer = self._customer(str(data["customer"]))
        try:
            impression = scans.create_impression(
                customer=customer,
                side=data["side"],
                kind=data["kind"],
                user=request.user,
                upload=data.get("file"),
                reference=data["reference"],
                tracking_number=data["tracking_number"],
                scanner=data["scanner"],
            )
        except DjangoValidationError as exc:
            return self._refusal(exc)
        serializer = self.get_serializer(impression)
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    def _refusal(self, exc):
        """A refused scan gets its own code and reason; other field errors the API's ``invalid``."""
        errors = as_serializer_error(exc)
        file_errors = exc.error_dict.get("file", [])
        scan_error = next((e for e in file_errors if e.code in FILE_ERROR_CODES), None)
        if scan_error is None:
            raise serializers.ValidationError(errors)
        logger.info("scan upload refused (%s) for user %s", scan_error.code, self.request.user.pk)
        body = {"code": scan_error.code, "detail": scan_error.messages[0], "errors": errors}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
