"""One error format for the whole API: a stable ``code``, a German ``detail`` and, for
validation errors, the field errors under ``errors``.

    {"code": "invalid", "detail": "Die Eingaben sind unvollständig oder ungültig.",
     "errors": {"items": [{}, {"receiver_power": ["…"]}]}}

Views stay thin: they call the order services and let this handler translate the services'
exceptions (R1 → 422 ``no_company``, R4 → 422 ``supplier_required`` with the candidates, an
impossible status change → 409 ``invalid_status``) and Django's ``ValidationError``.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from otoorder.orders.lifecycle import InvalidTransition, OrderError
from otoorder.orders.services import SupplierRequired
from otoorder.orders.validation import ItemsInvalid

from .parsers import payload_too_large


class InvalidCredentials(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_credentials"

    def __init__(self):
        super().__init__(_("Benutzername oder Passwort ist falsch."), self.default_code)


class TooManyFields(exceptions.APIException):
    """More form fields or files than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``/``_FILES``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "too_many_fields"


class DuplicateCustomer(exceptions.APIException):
    """409 ``duplicate_customer``: the chain has a customer of the same name and birth date;
    the client sends ``confirm_duplicate: true`` to create the second one anyway. ``duplicates``
    lists those the user may see (id, number, branch); the others only by their count."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "duplicate_customer"

    def __init__(self, visible, hidden_count):
        super().__init__(
            _(
                "Einen Kunden mit diesem Namen und Geburtsdatum gibt es in der Kette schon. Ist es eine "
                "andere Person, bitte mit „confirm_duplicate“: true erneut senden."
            ),
            self.default_code,
        )
        self.extra = {
            "duplicates": [
                {"id": str(customer.pk), "customer_number": customer.customer_number, "branch": str(customer.branch_id)}
                for customer in visible
            ],
            "other_branches": hidden_count,
        }


ALWAYS_OURS = {"not_found", "parse_error"}


logger = logging.getLogger(__name__)


def _default_details():
    """German texts for DRF's generic errors (looked up per request: the language may vary)."""
    return {
        "not_found": _("Nicht gefunden."),
        "permission_denied": _("Sie haben keine Berechtigung für diese Aktion."),
        "not_authenticated": _("Bitte melden Sie sich an (Sitzung oder Token)."),
        "authentication_failed": _("Die Anmeldung ist fehlgeschlagen: Token oder Sitzung ungültig."),
        "method_not_allowed": _("Diese Methode ist hier nicht erlaubt."),
        "parse_error": _("Die Anfrage ist kein gültiges JSON."),
        "unsupported_media_type": _("Dieses Datenformat wird nicht unterstützt; bitte JSON senden."),
        "not_acceptable": _("Dieses Antwortformat wird nicht unterstützt."),
        "throttled": _("Zu viele Anfragen; bitte später erneut versuchen."),
        "too_many_fields": _("Die Anfrage enthält zu viele Felder oder Dateien."),
    }


def candidate_data(supplier):
    return {"id": str(supplier.pk), "name": supplier.display_name, "company": str(supplier.company_id)}


def _order_error_response(exc):
    body = {"code": exc.code, "detail": str(exc.message)}
    if isinstance(exc, SupplierRequired):
        body["candidates"] = [candidate_data(s) for s in exc.context.get("candidates", ())]
    code = status.HTTP_409_CONFLICT if isinstance(exc, InvalidTransition) else 422
    return Response(body, status=code)


def _validation_body(exc):
    errors = exc.detail
    if not isinstance(errors, dict):
        errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
    return {"code": "invalid", "detail": _("Die Eingaben sind unvollständig oder ungültig."), "errors": errors}


def exception_handler(exc, context):
    if isinstance(exc, OrderError):
        set_rollback()
        return _order_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = TooManyFields()
    elif isinstance(exc, ItemsInvalid):
        # One dict per ear, aligned with the items sent, like the serializer's own item errors.
        exc = exceptions.ValidationError(
            {"items": [{field: [message] for field, message in errors.items()} for errors in exc.item_errors]}
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = payload_too_large()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if not isinstance(exc, exceptions.APIException):
        # A bug must still answer in the API's format (and never show a traceback).
        logger.exception("unhandled error in API view %s", type(context.get("view")).__name__)
        set_rollback()
        return Response(
            {
                "code": "server_error",
                "detail": _("Interner Fehler. Bitte erneut versuchen; besteht der Fehler, bitte die IT informieren."),
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers = {}
    status_code = exc.status_code
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF answers 403 when the first authenticator is the session; a client without
        # credentials must learn that it should authenticate: 401 with the token scheme.
        status_code = status.HTTP_401_UNAUTHORIZED
        headers["WWW-Authenticate"] = getattr(exc, "auth_header", None) or "Token"
    if getattr(exc, "wait", None):
        headers["Retry-After"] = "%d" % exc.wait

    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc)
    else:
        code = exc.default_code
        detail = exc.detail
        # A parser's message is the JSON library's English text: ours replaces it.
        if code in ALWAYS_OURS or str(detail) == str(exc.default_detail) or isinstance(detail, (list, dict)):
            detail = _default_details().get(code, str(exc.default_detail))
        body = {"code": code, "detail": str(detail), **getattr(exc, "extra", {})}
    set_rollback()
    return Response(body, status=status_code, headers=headers)
