"""Views of the REST API under /api/v1/.

Thin by design: every queryset is scoped by ``visible_to(user)`` (``branches.access``), every rule is a call
into the services (``place_order``, ``resolve_for``, ``Transaction.objects.start``, ...), and
their exceptions become JSON errors in ``exceptions.py``. Staff see only their branches' data:
another branch's customer, transaction or order answers 404, exactly like an unknown id.
"""

import logging

from django.db import transaction as db_transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from branches.models import Branch, InterfaceDefinition
from otoorder.backends import registry
from otoorder.orders import idempotency, lab_messages, queries, scorecard, services, warranty
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import EarmouldOrder, OrderEvent
from otoorder.transactions.models import Customer, Transaction, TransactionTemplate
from suppliers.models import Company, Supplier

from . import lifecycle as lifecycle_api
from . import schema
from . import serializers as s
from .permissions import CanAdminDefinition, ChainAdminCanWrite, IsAdministrator

logger = logging.getLogger(__name__)

ERROR = schema.ERROR
ORDER_REFUSED = inline_serializer(
    "OrderRefused",
    fields={
        "code": serializers.ChoiceField(choices=["no_company", "supplier_required", "idempotency_key_reused"]),
        "detail": serializers.CharField(),
        "candidates": s.SupplierCandidateSerializer(many=True, required=False),
        "order": serializers.UUIDField(required=False),
    },
)
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; 1 to %d visible ASCII characters, chosen by the client (e.g. a UUID) once per order. "
        "Sending the same key with the same body again answers the order the first request created "
        "(200 instead of 201) and creates no second one; the same key with another body answers 422 "
        "`idempotency_key_reused`. Keys belong to the user (and their API token) and the branch."
    )
    % idempotency.KEY_MAX,
)


def _idempotency_key(request):
    """The request's ``Idempotency-Key`` (None without one); 400 when it is empty, too long or
    not visible ASCII."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= idempotency.KEY_MAX or not all("!" <= char <= "~" for char in key):
        raise exceptions.ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    _("Der Idempotency-Key muss 1 bis %(max)d sichtbare ASCII-Zeichen lang sein (z. B. eine UUID).")
                    % {"max": idempotency.KEY_MAX}
                ]
            }
        )
    return key


class BranchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.BranchSerializer

    def get_queryset(self):
        return Branch.objects.visible_to(self.request.user).select_related("chain").order_by("chain__name", "name")


class BackendListView(APIView):
    """The ordering backends of the registry with their options schema (JSON Schema)."""

    @extend_schema(responses=s.BackendSerializer(many=True))
    def get(self, request):
        classes = [registry.get_backend_class(key) for key in registry.BACKENDS]
        return Response(s.BackendSerializer(classes, many=True).data)


class CompanyViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.CompanySerializer
    permission_classes = [ChainAdminCanWrite]
    queryset = Company.objects.filter(is_active=True)


@extend_schema_view(list=extend_schema(parameters=[s.SupplierFilterSerializer]))
class SupplierViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SupplierSerializer
    permission_classes = [ChainAdminCanWrite]

    def get_queryset(self):
        queryset = Supplier.objects.filter(is_active=True).select_related("company")
        if self.action == "list":
            filters = s.SupplierFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if "company" in filters.validated_data:
                queryset = queryset.filter(company_id=filters.validated_data["company"])
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="Beginn des Zeitraums (bestellt ab)"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Ende des Zeitraums (bestellt bis)"),
            OpenApiParameter(
                "branch", OpenApiTypes.UUID, description="Eine Filiale; ohne Angabe alle Filialen, die Sie sehen dürfen"
            ),
        ],
        responses={200: s.ScorecardSerializer, 400: ERROR},
        summary="Kennzahlen des Labors (Scorecard)",
    )
    @action(detail=True, methods=["get"])
    def scorecard(self, request, pk=None):
        supplier = self.get_object()
        query = s.ScorecardQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        date_from, date_to = query.validated_data["date_from"], query.validated_data["date_to"]
        [score] = scorecard.compute(date_from, date_to, query.branch_ids(), supplier_id=supplier.pk) or [
            scorecard.LabScore(supplier_id=str(supplier.pk), supplier=supplier.display_name)
        ]
        branch = query.validated_data.get("branch")
        return Response(
            s.ScorecardSerializer({**score.as_dict(), "date_from": date_from, "date_to": date_to, "branch": branch}).data
        )


@extend_schema_view(partial_update=extend_schema(summary="Schnittstellendefinition ändern"))
class InterfaceDefinitionViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Branch administration: chain admins see and write their chains' definitions; branch
    admins see the chain-wide ones and write only those restricted to their branch."""

    serializer_class = s.InterfaceDefinitionSerializer
    permission_classes = [IsAdministrator, CanAdminDefinition]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            InterfaceDefinition.objects.visible_to(self.request.user)
            .select_related("chain", "branch", "supplier")
            .prefetch_related("companies")
        )

    def perform_create(self, serializer):
        with db_transaction.atomic():
            serializer.save()
        logger.info("interface definition %s created by user %s", serializer.instance.pk, self.request.user.pk)

    def perform_update(self, serializer):
        with db_transaction.atomic():
            serializer.save()
        logger.info("interface definition %s changed by user %s", serializer.instance.pk, self.request.user.pk)


DUPLICATE_CUSTOMER = inline_serializer(
    "DuplicateCustomer",
    fields={
        "code": serializers.ChoiceField(choices=["duplicate_customer"]),
        "detail": serializers.CharField(),
        "duplicates": inline_serializer(
            "DuplicateCustomerEntry",
            fields={"id": serializers.UUIDField(), "customer_number": serializers.IntegerField(), "branch": serializers.UUIDField()},
            many=True,
        ),
        "other_branches": serializers.IntegerField(),
    },
)


@extend_schema_view(
    create=extend_schema(
        responses={
            201: s.CustomerSerializer,
            409: OpenApiResponse(
                DUPLICATE_CUSTOMER,
                description="`duplicate_customer`: the chain has a customer of the same name and birth date; "
                "send `confirm_duplicate: true` to create this one anyway.",
            ),
        }
    )
)
class CustomerViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.CustomerSerializer

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user)


class TransactionTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TransactionTemplateSerializer

    def get_queryset(self):
        return TransactionTemplate.objects.filter(is_active=True).prefetch_related("steps")


class TransactionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TransactionSerializer

    def get_queryset(self):
        return Transaction.objects.visible_to(self.request.user).prefetch_related("steps")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = Transaction.objects.start(
            customer=data["customer"], template=data["template"], user=self.request.user
        )

    @extend_schema(
        request=s.PreviewRequestSerializer,
        responses={200: s.PreviewSerializer, 400: ERROR, 404: ERROR},
        summary="Bestellservice: Vorschau der Auflösung (R1–R4)",
    )
    @action(detail=True, methods=["post"], url_path="order-service/preview")
    def preview(self, request, pk=None):
        transaction_obj = self.get_object()
        serializer = s.PreviewRequestSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        resolution = services.resolve_for(
            transaction_obj, serializer.validated_data["company"], serializer.validated_data["supplier"]
        )
        return Response(s.PreviewSerializer(resolution).data)


@extend_schema_view(
    list=extend_schema(parameters=[s.OrderFilterSerializer], responses=s.OrderListSerializer(many=True)),
    create=extend_schema(
        request=s.OrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.OrderCreatedSerializer,
            200: OpenApiResponse(
                s.OrderCreatedSerializer,
                description="The same `Idempotency-Key` and body again: the order created before.",
            ),
            400: ERROR,
            404: ERROR,
            422: ORDER_REFUSED,
        },
    ),
)
class OrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.OrderSerializer

    def get_queryset(self):
        queryset = queries.annotate_list(
            EarmouldOrder.objects.visible_to(self.request.user).select_related(
                "company", "supplier__company", "interface_definition"
            )
        )
        if self.action == "list":
            return self._filtered(queryset)
        return queryset.select_related("original_order__supplier").prefetch_related(
            "items",
            "attempts",
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
            Prefetch("follow_ups", queryset=EarmouldOrder.objects.order_by("created_at")),
        )

    def _filtered(self, queryset):
        filters = s.OrderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if "customer" in data:
            queryset = queryset.filter(customer_id=data["customer"])
        return queries.filter_orders(
            queryset,
            status=data.get("status", ""),
            overdue=data.get("overdue"),
            needs_attention=data.get("needs_attention"),
            supplier=data.get("supplier"),
            q=" ".join(data.get("q", "").split()),
        )

    def get_serializer_class(self):
        if self.action == "list":
            return s.OrderListSerializer
        if self.action == "create":
            return s.OrderCreateSerializer
        return s.OrderSerializer

    def create(self, request, *args, **kwargs):
        key = _idempotency_key(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        transaction_obj = data["transaction"]

        def place():
            return services.place_order(
                transaction_obj=transaction_obj,
                company=data["company"],
                supplier=data["supplier"],
                items=[dict(item) for item in data["items"]],
                user=request.user,
                step=transaction_obj.order_service_step,
                header=serializer.header,
            )

        if key is None:
            return Response(self._created(place()), status=status.HTTP_201_CREATED)
        try:
            order, created = idempotency.place_once(
                scope=f"api:{request.user.pk}",
                branch=transaction_obj.branch,
                key=key,
                digest=idempotency.body_hash(request.data),
                place=place,
            )
        except idempotency.KeyReused as exc:
            body = {
                "code": "idempotency_key_reused",
                "detail": _(
                    "Dieser Idempotency-Key wurde schon für eine andere Bestellung (%(number)s) mit anderen Angaben "
                    "verwendet: bitte für jede neue Bestellung einen neuen Schlüssel senden."
                )
                % {"number": exc.order.number},
                "order": str(exc.order.pk),
            }
            return Response(body, status=422)
        if not created:
            logger.info("order %s: repeated submission with the same idempotency key", order.pk)
        return Response(self._created(order), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _created(self, order):
        """The order with ``warnings``: a remake the lab may charge says why (window, changes)."""
        self.action = "retrieve"
        order = self.get_queryset().select_related("original_order__supplier").get(pk=order.pk)
        order.warnings = warranty.warnings(warranty.remake_reasons(order, timezone.localdate()))
        return s.OrderCreatedSerializer(order, context=self.get_serializer_context()).data

    def _detail(self, order):
        self.action = "retrieve"
        return s.OrderSerializer(self.get_queryset().get(pk=order.pk), context=self.get_serializer_context()).data

    @extend_schema(request=None, responses={200: s.OrderSerializer, 409: ERROR}, summary="Erneut senden")
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        order = services.resend(self.get_object(), user=request.user)
        return Response(self._detail(order))

    @extend_schema(
        request=s.ConfirmSerializer,
        responses={200: s.OrderSerializer, 400: ERROR, 409: ERROR},
        summary="Manuelle Bestellung bestätigen",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        order = self.get_object()
        serializer = s.ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.confirm_manual_order(
            order, user=request.user, lab_reference=serializer.validated_data.get("lab_reference", "")
        )
        return Response(self._detail(order))

    @extend_schema(
        request=s.CancelSerializer,
        responses={
            200: OpenApiResponse(s.OrderSerializer, description="Not yet at a lab: cancelled at once (`cancelled`)."),
            202: OpenApiResponse(
                s.OrderSerializer,
                description=(
                    "At a lab: the cancellation is requested (`cancel_requested`; the lab's answer follows) or, "
                    "where the interface cannot carry it, staff must report it (`cancel_to_report`). An order "
                    "being sent (`sending`) keeps its status: the cancellation follows when the send ends."
                ),
            ),
            409: OpenApiResponse(ERROR, description="`not_cancellable`: the order's status allows no cancellation."),
        },
        summary="Stornieren",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        serializer = s.CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.cancel(order, user=request.user, reason=serializer.validated_data.get("reason", ""))
        code = status.HTTP_200_OK if order.status == OrderStatus.CANCELLED else status.HTTP_202_ACCEPTED
        return Response(self._detail(order), status=code)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: s.OrderMessageSerializer(many=True)},
        summary="Nachrichten mit dem Labor (Rückfragen und Antworten)",
    )
    @extend_schema(
        methods=["POST"],
        request=s.OrderMessageCreateSerializer,
        responses={
            202: OpenApiResponse(
                s.OrderMessageSerializer,
                description="The answer is queued for the lab (interface or e-mail); `delivery` tells how far it got.",
            ),
            409: OpenApiResponse(
                ERROR, description="`no_question`: only an order on hold or with a question of the lab takes an answer."
            ),
        },
        summary="Antwort an das Labor",
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        """The thread of an order; POST answers the lab's question (``text``, at most 2000 characters).

        Reading the thread does not mark the lab's messages read; the order page does.
        """
        order = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(lab_messages.thread(order))
            return self.get_paginated_response(s.OrderMessageSerializer(page, many=True).data)
        serializer = s.OrderMessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = lab_messages.answer(order, user=request.user, text=serializer.validated_data["text"])
        message = lab_messages.thread(order).get(pk=message.pk)
        return Response(s.OrderMessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=lifecycle_api.ReceiveSerializer,
        responses={200: s.OrderSerializer, 400: ERROR, 409: ERROR},
        summary="Wareneingang (Seriennummer je Ohr oder ohne Seriennummer)",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        return Response(lifecycle_api.detail(self, lifecycle_api.receive(self, request)))

    @extend_schema(
        request=lifecycle_api.SerialSerializer,
        responses={200: s.OrderSerializer, 400: ERROR, 409: ERROR},
        summary="Seriennummer nach dem Wareneingang ergänzen oder korrigieren",
    )
    @action(detail=True, methods=["post"])
    def serial(self, request, pk=None):
        return Response(lifecycle_api.detail(self, lifecycle_api.correct_serial(self, request)))

    @extend_schema(
        request=lifecycle_api.FitSerializer,
        responses={200: s.OrderSerializer, 400: ERROR, 409: ERROR},
        summary="Anpassung (Datum, Gewährleistung)",
    )
    @action(detail=True, methods=["post"])
    def fit(self, request, pk=None):
        return Response(lifecycle_api.detail(self, lifecycle_api.fit(self, request)))

    @extend_schema(
        request=lifecycle_api.CloseSerializer,
        responses={200: s.OrderSerializer, 400: ERROR, 409: ERROR},
        summary="Abschließen (ohne Wareneingang mit Grund)",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return Response(lifecycle_api.detail(self, lifecycle_api.close(self, request)))

