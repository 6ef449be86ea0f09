"""``POST /api/v1/callbacks/<interface definition id>/``: labs and portals report back.

No session, no token, no CSRF: the signature is the authentication. The request is checked in
this order, and every refusal changes nothing:

1. the definition exists, is active and its backend accepts callbacks (else 404 ``not_found``);
2. the body is at most ``MAX_BODY_BYTES`` (else 413 ``payload_too_large``);
3. ``X-Otoorder-Signature`` is valid for the raw body under the definition's
   ``shared_secret`` and at most 5 minutes old (else 400 ``invalid_signature``);
4. the signature was not accepted before for this definition (else 400 ``replayed``);
5. the backend's ``parse_callback(body)`` reads it (a ``ValueError`` → 400 ``invalid_payload``);
6. every order it names belongs to this definition (else 404 ``unknown_order``).

Then each report goes through ``apply_status_update`` (the one place that applies lab
reports), all in one database transaction together with the ``CallbackReceipt`` that makes
the signature single-use. A report applied before (the same body signed anew, because the
lab retried) is recognised by its key and counted as unchanged.

Scheme and payloads: ``docs/interfaces/callbacks.md``. Logs carry the definition id and
order ids only, never the body. Every refusal is counted per backend and code
(``CallbackRefusal``, read by ``/metrics``); accepted callbacks are their receipts.
"""

import hashlib
import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from branches.models import InterfaceDefinition
from otoorder.backends import signing
from otoorder.backends.exceptions import ConfigurationError
from otoorder.orders.choices import EventSource
from otoorder.orders.lab_updates import apply_status_update, update_key
from otoorder.orders.models import CallbackReceipt, CallbackRefusal, EarmouldOrder

from .views import ERROR

logger = logging.getLogger(__name__)

#: Lab documents are small (an openTRANS notice is a few kB); anything bigger is refused unread.
MAX_BODY_BYTES = 1024 * 1024


class CallbackError(exceptions.APIException):
    """A refused callback: ``code`` and a German ``detail`` in the API's error format."""

    def __init__(self, detail):
        super().__init__(detail, self.default_code)


class InvalidSignature(CallbackError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_signature"


class Replayed(CallbackError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "replayed"


class InvalidPayload(CallbackError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_payload"


class UnknownOrder(CallbackError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "unknown_order"


class PayloadTooLarge(CallbackError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def record_refusal(backend, code):
    """Count one refused callback (one UPDATE; the first of its kind inserts the row)."""
    now = timezone.now()
    counted = {"count": F("count") + 1, "last_at": now}
    if CallbackRefusal.objects.filter(backend=backend, code=code).update(**counted):
        return
    try:
        with transaction.atomic():
            CallbackRefusal.objects.create(backend=backend, code=code, count=1, last_at=now)
    except IntegrityError:  # a concurrent refusal inserted it first
        CallbackRefusal.objects.filter(backend=backend, code=code).update(**counted)


def callback_definition(definition_id):
    """The active definition whose backend accepts callbacks, or ``NotFound``."""
    try:
        pk = uuid.UUID(str(definition_id))
    except ValueError:
        raise exceptions.NotFound() from None
    definition = InterfaceDefinition.objects.filter(pk=pk, is_active=True).first()
    if definition is None:
        raise exceptions.NotFound()
    try:
        backend_class = definition.backend_class
    except ConfigurationError:
        raise exceptions.NotFound() from None
    if not backend_class.supports_callback:
        raise exceptions.NotFound()
    return definition


def read_body(request):
    """The raw body, refused unread when its declared or actual size exceeds the limit."""
    too_large = PayloadTooLarge(
        _("Die Rückmeldung ist zu groß (höchstens %(size)d MB).") % {"size": MAX_BODY_BYTES // (1024 * 1024)}
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise too_large
    stream = request.stream  # DRF: None for an empty body; nothing has parsed it yet.
    body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    return body


def verified_digest(definition, body, header):
    """The ``v1`` digest of a valid signature (the replay key), or ``InvalidSignature``."""
    secret = (definition.secrets or {}).get("shared_secret")
    try:
        signing.verify(secret, body, header)
    except signing.SignatureError as exc:
        raise InvalidSignature(str(exc)) from None
    return signing.parse(header)[1]


def parse_reports(definition, body):
    """The backend's reading of the body: ``[{"order_id" | "order_number", "update"}]``."""
    try:
        reports = definition.backend_class.parse_callback(body)
    except ValueError as exc:
        raise InvalidPayload(
            _("Die Rückmeldung kann nicht gelesen werden: %(error)s") % {"error": exc}
        ) from None
    if not reports:
        raise InvalidPayload(_("Die Rückmeldung nennt keine Bestellung."))
    for report in reports:
        if not (report.get("order_id") or report.get("order_number")):
            raise InvalidPayload(_("Eine Meldung der Rückmeldung nennt keine Bestellung."))
        if report.get("order_id"):
            try:
                uuid.UUID(str(report["order_id"]))
            except ValueError:
                raise InvalidPayload(
                    _("„%(value)s“ ist keine gültige Bestell-ID.") % {"value": report["order_id"]}
                ) from None
    return reports


def orders_for(definition, reports):
    """Each report's order, looked up among this definition's orders only."""
    ids = {uuid.UUID(str(r["order_id"])) for r in reports if r.get("order_id")}
    numbers = {str(r["order_number"]) for r in reports if not r.get("order_id")}
    found = EarmouldOrder.objects.filter(interface_definition=definition).filter(
        Q(pk__in=ids) | Q(number__in=numbers)
    )
    by_id = {order.pk: order for order in found}
    by_number = {order.number: order for order in found}
    orders, unknown = [], []
    for report in reports:
        if report.get("order_id"):
            name, order = str(report["order_id"]), by_id.get(uuid.UUID(str(report["order_id"])))
        else:
            name, order = str(report["order_number"]), by_number.get(str(report["order_number"]))
        if order is None:
            unknown.append(name)
        orders.append(order)
    if unknown:
        # Logged as a count: the identifiers are the sender's text.
        logger.warning("callback for definition %s names %d unknown order(s)", definition.pk, len(unknown))
        raise UnknownOrder(
            _("Unbekannte Bestellung für diese Schnittstelle: %(orders)s. Es wurde nichts übernommen.")
            % {"orders": ", ".join(unknown)}
        )
    return orders


def receive(definition, body, header):
    """Verify, parse and apply one callback; returns ``(applied, unchanged)``."""
    signature = verified_digest(definition, body, header)
    if CallbackReceipt.objects.filter(interface_definition=definition, signature=signature).exists():
        raise Replayed(_("Diese Rückmeldung wurde bereits angenommen (gleiche Signatur)."))
    reports = parse_reports(definition, body)
    body_sha256 = hashlib.sha256(body).hexdigest()
    applied = unchanged = 0
    with transaction.atomic():
        try:
            # First, so that a concurrent request with the same signature waits here and is
            # refused; rolled back with everything else when an order is unknown.
            with transaction.atomic():
                CallbackReceipt.objects.create(
                    interface_definition=definition, signature=signature, body_sha256=body_sha256
                )
        except IntegrityError:
            raise Replayed(_("Diese Rückmeldung wurde bereits angenommen (gleiche Signatur).")) from None
        for report, order in zip(reports, orders_for(definition, reports), strict=True):
            update = report["update"]
            key = update_key(update, body_sha256, order.pk)
            if apply_status_update(order, update, source=EventSource.LAB, key=key):
                applied += 1
                logger.info("callback for definition %s applied to order %s", definition.pk, order.pk)
            else:
                unchanged += 1
                logger.info("callback for definition %s already applied to order %s", definition.pk, order.pk)
    return applied, unchanged


CALLBACK_RESULT = inline_serializer(
    "CallbackResult",
    fields={
        "applied": serializers.IntegerField(help_text="Meldungen, die die Bestellung geändert haben."),
        "unchanged": serializers.IntegerField(help_text="Meldungen, die schon übernommen waren."),
    },
)


class CallbackView(APIView):
    """A lab's or portal's signed status report for orders of one interface definition."""

    authentication_classes = []
    permission_classes = [AllowAny]
    #: The signature covers the raw bytes: no parser reads the body (no 415).
    raw_body = True

    @extend_schema(
        summary="Rückmeldung eines Labors (signiert)",
        description=(
            "Raw body in the backend's format (egger ERP: openTRANS ORDERRESPONSE or "
            "DISPATCHNOTIFICATION; portals: JSON), signed with HMAC-SHA256 of `<timestamp>.<body>` "
            "under the definition's shared secret. See docs/interfaces/callbacks.md."
        ),
        request={
            "application/xml": OpenApiTypes.BINARY,
            "application/json": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        parameters=[
            OpenApiParameter(
                "X-Otoorder-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="`t=<unix timestamp>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>`",
            ),
            OpenApiParameter(
                "definition_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The interface definition the lab reports for.",
            ),
        ],
        responses={
            200: OpenApiResponse(CALLBACK_RESULT, description="Accepted; `unchanged` counts reports applied before."),
            400: OpenApiResponse(ERROR, description="`invalid_signature`, `replayed` or `invalid_payload`."),
            404: OpenApiResponse(ERROR, description="`not_found` (definition) or `unknown_order`."),
            413: OpenApiResponse(ERROR, description="`payload_too_large` (more than 1 MB)."),
        },
        auth=[],
    )
    def post(self, request, definition_id):
        try:
            definition = callback_definition(definition_id)
        except exceptions.NotFound:
            record_refusal("", "not_found")
            raise
        try:
            body = read_body(request)
            applied, unchanged = receive(definition, body, request.headers.get(signing.HEADER))
        except (InvalidSignature, Replayed, InvalidPayload) as exc:
            logger.warning("callback for definition %s refused: %s", definition.pk, exc.default_code)
            record_refusal(definition.backend, exc.default_code)
            raise
        except CallbackError as exc:
            record_refusal(definition.backend, exc.default_code)
            raise
        return Response({"applied": applied, "unchanged": unchanged})
