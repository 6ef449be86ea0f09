"""The OpenAPI schema declares the error answers the API really gives, in its error format.

``ErrorResponsesSchema`` (``DEFAULT_SCHEMA_CLASS``) adds to every operation the error codes
that follow from how the view is built, with the body of ``otoorder.api.exceptions``
(``{"code", "detail", "errors"?}``):

- **400** when the operation reads a request body or query parameters (``invalid`` with the
  field errors, ``parse_error``, an invalid filter or page bound);
- **401** when the view authenticates this method (no or an invalid token or session);
- **403** when the view authenticates and the method writes (a session request without CSRF
  token; permissions that refuse writing) or a permission refuses reading (``IsAdministrator``);
- **404** when the path names an object (unknown, or another branch's), or the request body
  names the object the request is about (``ScopedRelatedField(missing_is_404=True)``);
- **413** and **415** when the view parses a request body (``payload_too_large`` above
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``; a content type none of its parsers reads);
- **429** gets its ``Retry-After`` header wherever a view declares it (the login lock-out).

Codes that follow from the rules of one endpoint (409 ``invalid_status``, 413
``payload_too_large`` of the callbacks' raw body, 422 ``no_company``/``supplier_required``, 429 ``locked_out``) are
declared on the view with ``extend_schema``; a declared code keeps its own body and
description, and a declared code without a body gets the error body.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .permissions import IsAdministrator

ERROR = inline_serializer(
    "Error",
    fields={
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(required=False),
    },
)

#: Permission classes that refuse safe methods to a signed-in user (the others gate writing).
READ_GATES = (IsAdministrator,)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    "400": "`invalid` (field errors under `errors`), `parse_error`, `too_many_fields` or an invalid query parameter.",
    "401": "`not_authenticated` or `authentication_failed`: no or an invalid token or session.",
    "403": "`permission_denied`: the role may not do this, or a session request without CSRF token.",
    "404": "`not_found`: unknown, or not visible to the user (another branch's data).",
    "413": "`payload_too_large`: the request body is larger than the server reads.",
    "415": "`unsupported_media_type`: a content type this operation does not read.",
}

RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a new try is accepted."}
}


class ErrorResponsesSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self.error_codes(operation):
            if code not in responses:
                responses[code] = self._error_response(code, DESCRIPTIONS[code])
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = self._error_response(code, "")["content"]
        if "429" in responses:
            responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
        return operation

    def _error_response(self, code, description):
        return self._get_response_for_code(OpenApiResponse(ERROR, description=description), code)

    def error_codes(self, operation):
        parameters = operation.get("parameters", [])
        in_path = any(p["in"] == "path" for p in parameters)
        in_query = any(p["in"] == "query" for p in parameters)
        has_body = "requestBody" in operation
        # The view's request is a mock of this operation's method: views may choose per method.
        authenticates = bool(self.view.get_authenticators())
        codes = []
        if has_body or in_query:
            codes.append("400")
        if authenticates:
            codes.append("401")
            gates_reading = any(isinstance(p, READ_GATES) for p in self.view.get_permissions())
            if self.method in UNSAFE_METHODS or gates_reading:
                codes.append("403")
        if in_path or (has_body and self._body_names_its_object()):
            codes.append("404")
        if has_body and not getattr(self.view, "raw_body", False):
            codes += ["413", "415"]
        return codes

    def _body_names_its_object(self):
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict) or serializer is None:
            return False
        if isinstance(serializer, type):
            serializer = serializer()
        if not isinstance(serializer, serializers.Serializer):
            return False
        return any(getattr(field, "missing_is_404", False) for field in serializer.fields.values())
