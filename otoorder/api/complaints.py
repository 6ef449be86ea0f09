"""Complaints (Reklamationen) in the API.

- ``GET /api/v1/complaint-reasons/``: the active reasons of the user's chains (``code``,
  ``label``, ``category``).
- ``POST /api/v1/orders/{id}/complaints/``: raise a complaint (``sides``, ``reason`` code,
  ``description``, ``return_old_mould``, optional ``create_remake``; as multipart/form-data also
  up to 5 ``photos``, JPEG or PNG by content) → 201 with the case, its
  ``free_remake`` proposal (``{"free": bool, "until": date, "code", "why"}``) and the remake
  order when asked for. An order not delivered answers 409 ``invalid_status``.
- ``GET /api/v1/complaints/?status=&supplier=&flagged=``: the complaints of the user's
  branches, newest first, paginated; ``flagged=1``: only those the lab charges although the
  free remake was proposed (``lab_charge_flagged``).
- ``GET /api/v1/complaints/{id}/photos/{photo_id}/``: a photo (the case lists them with
  ``name``, ``size``, ``content_type`` and this ``download_url``).
- ``POST /api/v1/complaints/{id}/decision/``: the lab's decision (``outcome``,
  ``cost_bearer``, ``amount``); 409 ``invalid_status`` once the complaint is done.
"""

import logging

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from branches.models import Branch
from otoorder import vocabulary
from otoorder.complaints import photos, services, window
from otoorder.complaints.choices import ComplaintStatus, CostBearer, Outcome
from otoorder.complaints.models import DESCRIPTION_MAX, Complaint, ComplaintPhoto, ComplaintReason
from otoorder.orders.models import EarmouldOrder

from .schema import ERROR
from .serializers.common import SupplierRefSerializer
from .serializers.orders import FollowUpSerializer

logger = logging.getLogger(__name__)


class StorageUnavailable(APIException):
    status_code = 503
    default_code = "storage_unavailable"
    default_detail = gettext_lazy(
        "Der Dateispeicher antwortet gerade nicht. Bitte versuchen Sie es in einigen Minuten noch einmal."
    )

INVALID_STATUS = OpenApiResponse(ERROR, description="`invalid_status`: not possible in the current status (German reason in `detail`).")


class ComplaintReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintReason
        fields = ["code", "label", "category"]
        read_only_fields = fields


class FreeRemakeSerializer(serializers.Serializer):
    free = serializers.BooleanField(help_text=gettext_lazy("innerhalb des Fensters für die kostenlose Nachfertigung"))
    until = serializers.DateField(allow_null=True, help_text=gettext_lazy("letzter Tag des Fensters"))
    code = serializers.ChoiceField(choices=["inside_window", "outside_window", "not_received"])
    why = serializers.CharField()


class ComplaintPhotoSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    size = serializers.IntegerField(source="file_size", read_only=True, help_text=gettext_lazy("Größe in Byte"))
    download_url = serializers.SerializerMethodField(
        help_text=gettext_lazy("Download des Fotos (nur für die Filiale der Bestellung)")
    )

    class Meta:
        model = ComplaintPhoto
        fields = ["id", "name", "size", "content_type", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, photo) -> str:
        url = reverse("api:complaint-photo", kwargs={"pk": photo.complaint_id, "photo_id": photo.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ComplaintSerializer(serializers.ModelSerializer):
    reason = ComplaintReasonSerializer(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    supplier = SupplierRefSerializer(source="order.supplier", read_only=True)
    sides = serializers.ListField(child=serializers.ChoiceField(choices=vocabulary.Side.choices), read_only=True)
    free_remake = serializers.SerializerMethodField()
    remake_order = FollowUpSerializer(read_only=True, allow_null=True)
    photos = ComplaintPhotoSerializer(many=True, read_only=True)
    photo_count = serializers.SerializerMethodField()
    # Empty until the lab decided (read-only model fields lose allow_blank, so the schema would
    # not admit "").
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    cost_bearer = serializers.ChoiceField(choices=CostBearer.choices, allow_blank=True, read_only=True)
    lab_charge_flagged = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "Labor berechnet innerhalb der kostenlosen Nachfertigung: kostenlos vorgeschlagen, aber als kostenpflichtige "
        "Nachfertigung entschieden oder mit einem Kostenträger außer dem Labor und einem Betrag über 0."
    ))

    class Meta:
        model = Complaint
        fields = [
            "id", "order", "order_number", "supplier", "sides", "reason", "description", "return_old_mould", "status",
            "free_remake", "outcome", "cost_bearer", "amount", "lab_charge_flagged", "remake_order", "photos", "photo_count",
            "created_at",
            "decided_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_photo_count(self, complaint) -> int:
        return len(complaint.photos.all())

    @extend_schema_field(FreeRemakeSerializer)
    def get_free_remake(self, complaint) -> dict:
        if complaint.free_remake_until is None:
            offer = window.Proposal(False, None, "not_received")
        else:
            offer = window.Proposal(
                complaint.free_remake, complaint.free_remake_until, "inside_window" if complaint.free_remake else "outside_window"
            )
        return {"free": offer.free, "until": offer.until, "code": offer.code, "why": offer.why}


class ComplaintCreateSerializer(serializers.Serializer):
    sides = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.Side.choices), min_length=1, max_length=2,
        help_text=gettext_lazy("„right“ und/oder „left“"),
    )
    reason = serializers.CharField(max_length=40, help_text=gettext_lazy("Kürzel aus /api/v1/complaint-reasons/"))
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")
    return_old_mould = serializers.BooleanField(required=False, default=False)
    create_remake = serializers.BooleanField(required=False, default=False)
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, max_length=255),
        required=False,
        default=list,
        max_length=photos.MAX_PHOTOS,
        help_text=gettext_lazy("Bis zu 5 Fotos (JPEG oder PNG), nur als multipart/form-data"),
        error_messages={"max_length": gettext_lazy("Höchstens {max_length} Fotos je Reklamation.")},
    )


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    cost_bearer = serializers.ChoiceField(choices=CostBearer.choices)
    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True, default=None,
        help_text=gettext_lazy("Betrag in EUR, soweit bekannt"),
    )


class ComplaintFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComplaintStatus.choices, required=False)
    supplier = serializers.UUIDField(required=False)
    flagged = serializers.BooleanField(
        required=False, default=None, allow_null=True,
        help_text=gettext_lazy("1: nur Reklamationen, bei denen das Labor innerhalb der kostenlosen Nachfertigung berechnet"),
    )


class ComplaintReasonListView(generics.ListAPIView):
    serializer_class = ComplaintReasonSerializer
    pagination_class = None

    @extend_schema(summary="Reklamationsgründe der Kette")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        chains = Branch.objects.visible_to(self.request.user).values("chain")
        return ComplaintReason.objects.filter(chain_id__in=chains, active=True).order_by("chain", "position", "label")


def _complaint_response(view, complaint, code=status.HTTP_200_OK):
    complaint = view.get_queryset().get(pk=complaint.pk)
    return Response(ComplaintSerializer(complaint, context=view.get_serializer_context()).data, status=code)


class OrderComplaintCreateView(generics.GenericAPIView):
    serializer_class = ComplaintCreateSerializer

    def get_queryset(self):
        return _complaints(self.request.user)

    @extend_schema(
        summary="Reklamation erfassen",
        request={"application/json": ComplaintCreateSerializer, "multipart/form-data": ComplaintCreateSerializer},
        responses={201: ComplaintSerializer, 409: INVALID_STATUS},
    )
    def post(self, request, pk):
        order = get_object_or_404(EarmouldOrder.objects.visible_to(request.user).select_related("branch"), pk=pk)
        photos.check_request_size(request)
        serializer = ComplaintCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.raise_complaint(
            order, user=request.user, sides=data["sides"], reason=data["reason"], description=data["description"],
            return_old_mould=data["return_old_mould"], create_remake=data["create_remake"], uploads=data["photos"],
        )
        return _complaint_response(self, complaint, status.HTTP_201_CREATED)


def _complaints(user):
    return (
        Complaint.objects.visible_to(user)
        .select_related("order__supplier__company", "reason", "remake_order")
        .prefetch_related("photos")
        .order_by("-created_at", "pk")
    )


@extend_schema_view(
    list=extend_schema(summary="Reklamationen", parameters=[ComplaintFilterSerializer]),
    retrieve=extend_schema(summary="Reklamation"),
)
class ComplaintViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComplaintSerializer

    def get_queryset(self):
        complaints = _complaints(self.request.user)
        if self.action == "list":
            filters = ComplaintFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if "status" in filters.validated_data:
                complaints = complaints.filter(status=filters.validated_data["status"])
            if "supplier" in filters.validated_data:
                complaints = complaints.filter(order__supplier_id=filters.validated_data["supplier"])
            if filters.validated_data.get("flagged"):
                complaints = complaints.lab_charge_flagged()
            elif filters.validated_data.get("flagged") is False:
                complaints = complaints.exclude(pk__in=Complaint.objects.lab_charge_flagged().values("pk"))
        return complaints

    @extend_schema(
        summary="Foto der Reklamation", responses={(200, "image/*"): OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("photo_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9a-fA-F-]{36})", url_name="photo")
    def photo(self, request, pk=None, photo_id=None):
        """A photo of the complaint, for the order's branch only (404 otherwise)."""
        complaint = self.get_object()
        photo = get_object_or_404(ComplaintPhoto.objects.visible_to(request.user), pk=photo_id, complaint=complaint)
        try:
            handle = photo.file.open("rb")
        except FileNotFoundError:
            logger.error("complaint photo %s is missing from storage", photo.pk)
            raise Http404 from None
        except Exception as exc:  # noqa: BLE001 - the object store's client raises its own error classes
            logger.error("storage unreadable for complaint photo %s: %s", photo.pk, type(exc).__name__)
            raise StorageUnavailable from None
        response = FileResponse(handle, as_attachment=True, filename=photo.original_name, content_type=photo.content_type)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(summary="Entscheidung des Labors", request=DecisionSerializer, responses={200: ComplaintSerializer, 409: INVALID_STATUS})
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        complaint = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.decide(
            complaint, user=request.user, outcome=data["outcome"], cost_bearer=data["cost_bearer"], amount=data["amount"]
        )
        return _complaint_response(self, complaint)
