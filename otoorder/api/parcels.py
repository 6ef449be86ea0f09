"""/api/v1/parcels/: parcels of physical impressions to one lab (Sammelversand).

``POST`` takes ``supplier``, ``impressions`` (ids), ``carrier`` and ``tracking_number`` and
answers 201 with the parcel and its ``packing_list_url``. A refused impression answers 400 with
its own code and the German reason (``impression_not_found`` — unknown or of another branch —,
``impression_not_physical``, ``impression_in_parcel``, ``impression_received``,
``impression_without_order``, ``impression_other_lab``, ``impressions_mixed_branches``,
``too_many_impressions``, ``duplicate_impressions``, ``no_impressions``). ``GET`` lists the
parcels of the user's branches, newest first, paginated; ``POST …/{id}/close/`` closes one by
hand (409 ``parcel_closed`` when it is closed already).
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from otoorder import vocabulary
from otoorder.orders import labels, parcels
from otoorder.orders.models import Parcel, ParcelItem
from suppliers.models import Supplier

from .schema import ERROR
from .serializers.common import ScopedRelatedField, SupplierRefSerializer, active_suppliers, page_url

logger = logging.getLogger(__name__)

#: Codes of a refused impression (the body's ``code``; the field error under ``errors.impressions``).
IMPRESSION_CODES = (
    "impression_not_found",
    "impression_not_physical",
    "impression_in_parcel",
    "impression_received",
    "impression_without_order",
    "impression_other_lab",
    "impressions_mixed_branches",
    "too_many_impressions",
    "duplicate_impressions",
    "no_impressions",
)


class ParcelImpressionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="impression_id", read_only=True)
    side = serializers.ChoiceField(source="impression.side", choices=vocabulary.Side.choices, read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer_number = serializers.IntegerField(source="impression.customer.customer_number", read_only=True)
    label_number = serializers.SerializerMethodField(help_text=gettext_lazy("Nummer des Box-Etiketts"))
    received_at = serializers.DateTimeField(
        source="impression.lab_received_at", read_only=True, allow_null=True, help_text=gettext_lazy("beim Labor eingegangen")
    )

    class Meta:
        model = ParcelItem
        fields = ["id", "side", "order", "order_number", "customer_number", "label_number", "received_at"]
        read_only_fields = fields

    def get_label_number(self, item) -> str:
        return labels.label_number(item.order.number, item.impression.side)


class ParcelSerializer(serializers.ModelSerializer):
    supplier = SupplierRefSerializer(read_only=True)
    impressions = ParcelImpressionSerializer(source="items", many=True, read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    tracking_url = serializers.CharField(read_only=True, help_text=gettext_lazy("Sendungsverfolgung des Versanddienstleisters"))
    packing_list_url = serializers.SerializerMethodField(help_text=gettext_lazy("Packliste (PDF)"))

    class Meta:
        model = Parcel
        fields = [
            "id", "branch", "supplier", "carrier", "tracking_number", "tracking_url", "created_at", "closed_at",
            "is_open", "impressions", "packing_list_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_packing_list_url(self, parcel) -> str:
        return page_url(self, "orders:parcel_packing_list", parcel.pk)


class ParcelCreateSerializer(serializers.Serializer):
    supplier = ScopedRelatedField(scope=active_suppliers, queryset=Supplier.objects.all())
    impressions = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=True,
        help_text=gettext_lazy("IDs der Abdrücke per Post (höchstens %(max)d)") % {"max": parcels.MAX_IMPRESSIONS},
    )
    carrier = serializers.ChoiceField(choices=vocabulary.Carrier.choices)
    tracking_number = serializers.CharField(max_length=parcels.TRACKING_MAX)


@extend_schema_view(
    list=extend_schema(summary="Pakete an Labore (Sammelversand)"),
    retrieve=extend_schema(summary="Paket an ein Labor"),
    create=extend_schema(
        summary="Paket anlegen",
        request=ParcelCreateSerializer,
        responses={
            201: ParcelSerializer,
            400: OpenApiResponse(
                ERROR,
                description="`invalid` (field errors under `errors`) or a refused impression: "
                + ", ".join(f"`{code}`" for code in IMPRESSION_CODES)
                + " (the German reason in `detail`, every refusal under `errors.impressions`).",
            ),
        },
    ),
)
class ParcelViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ParcelSerializer

    def get_queryset(self):
        return (
            Parcel.objects.visible_to(self.request.user)
            .select_related("supplier__company")
            .prefetch_related("items__order", "items__impression__customer")
            .order_by("-created_at", "pk")
        )

    def get_serializer_class(self):
        return ParcelCreateSerializer if self.action == "create" else ParcelSerializer

    def create(self, request, *args, **kwargs):
        serializer = ParcelCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            parcel = parcels.create_parcel(
                user=request.user,
                supplier=data["supplier"],
                impressions=[str(pk) for pk in data["impressions"]],
                carrier=data["carrier"],
                tracking_number=data["tracking_number"],
            )
        except DjangoValidationError as exc:
            return self._refusal(exc)
        parcel = self.get_queryset().get(pk=parcel.pk)
        return Response(ParcelSerializer(parcel, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ParcelSerializer, 409: OpenApiResponse(ERROR, description="`parcel_closed`: the parcel is closed already.")},
        summary="Paket von Hand abschließen",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the parcel by hand (the lab's receipt closes it by itself where it reports one)."""
        parcel = self.get_object()
        try:
            parcels.close_parcel(parcel, user=request.user)
        except DjangoValidationError as exc:
            return Response({"code": exc.code, "detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        parcel = self.get_queryset().get(pk=parcel.pk)
        return Response(ParcelSerializer(parcel, context=self.get_serializer_context()).data)

    def _refusal(self, exc):
        """A refused impression answers with its own code; other field errors with ``invalid``."""
        refused = exc.error_dict.get("impressions", [])
        first = next((error for error in refused if error.code in IMPRESSION_CODES), None)
        if first is None:
            raise serializers.ValidationError(as_serializer_error(exc))
        logger.info("parcel refused (%s) for user %s", first.code, self.request.user.pk)
        body = {"code": first.code, "detail": first.messages[0], "errors": as_serializer_error(exc)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
