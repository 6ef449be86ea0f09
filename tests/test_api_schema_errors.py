"""The OpenAPI schema declares the error answers each operation really gives, with the error body.

The fuzzing test (tests/integration/test_api_fuzz.py) finds an answer the schema does not
declare; these tests pin the rules of ``otoorder.api.schema`` and check a few of the declared
answers against the API itself.
"""

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

ERROR_REF = "#/components/schemas/Error"
METHODS = {"get", "post", "put", "patch", "delete"}
ANONYMOUS = {("post", "/api/v1/auth/token/"), ("post", "/api/v1/callbacks/{definition_id}/")}


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def body_ref(response):
    return response["content"]["application/json"]["schema"]["$ref"]


def test_every_client_error_has_a_body_in_the_error_format(schema):
    for method, path, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                # The error format, or one that adds the refusal's particulars (candidates, duplicates).
                allowed = {ERROR_REF, "#/components/schemas/OrderRefused", "#/components/schemas/DuplicateCustomer"}
                assert body_ref(response) in allowed, (method, path, code)


def test_authenticated_operations_declare_401_and_the_anonymous_ones_do_not(schema):
    for method, path, operation in operations(schema):
        assert ("401" in operation["responses"]) is ((method, path) not in ANONYMOUS), (method, path)


def test_every_operation_on_an_object_declares_404(schema):
    for method, path, operation in operations(schema):
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


def test_operations_that_read_a_body_declare_400_and_415(schema):
    for method, path, operation in operations(schema):
        if "requestBody" in operation:
            assert "400" in operation["responses"], (method, path)
            # The callback endpoint reads the raw bytes it verifies; no parser can refuse them.
            expected_415 = path != "/api/v1/callbacks/{definition_id}/"
            assert ("415" in operation["responses"]) is expected_415, (method, path)


def test_operations_without_body_or_query_do_not_declare_400(schema):
    responses = schema["paths"]["/api/v1/orders/{id}/"]["get"]["responses"]
    assert "400" not in responses
    assert "415" not in schema["paths"]["/api/v1/orders/{id}/resend/"]["post"]["responses"]


def test_403_where_a_role_or_csrf_can_refuse(schema):
    paths = schema["paths"]
    assert "403" in paths["/api/v1/interface-definitions/"]["get"]["responses"]  # administrators only
    assert "403" in paths["/api/v1/companies/"]["post"]["responses"]  # chain admins only
    assert "403" in paths["/api/v1/customers/"]["post"]["responses"]  # session without CSRF token
    assert "403" not in paths["/api/v1/customers/"]["get"]["responses"]


def test_a_body_that_names_the_requests_object_declares_404(schema):
    assert "404" in schema["paths"]["/api/v1/orders/"]["post"]["responses"]  # the transaction
    assert "404" in schema["paths"]["/api/v1/transactions/"]["post"]["responses"]  # the customer
    assert "404" in schema["paths"]["/api/v1/impressions/"]["post"]["responses"]  # the customer
    assert "404" not in schema["paths"]["/api/v1/customers/"]["post"]["responses"]


def test_a_declared_429_gets_retry_after_and_the_error_body():
    class Throttled(APIView):
        permission_classes = [AllowAny]

        @extend_schema(request=None, responses={200: None, 429: OpenApiResponse(description="`locked_out`")})
        def post(self, request):
            return Response(status=200)

    generator = SchemaGenerator(patterns=[path("throttled/", Throttled.as_view())])
    responses = generator.get_schema(request=None, public=True)["paths"]["/throttled/"]["post"]["responses"]
    assert body_ref(responses["429"]) == ERROR_REF
    assert responses["429"]["description"] == "`locked_out`"
    assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_impressions_declare_404_for_a_customer_of_another_branch(schema):
    for method in ("get", "post"):
        responses = schema["paths"]["/api/v1/impressions/"][method]["responses"]
        assert body_ref(responses["404"]) == ERROR_REF
        assert "customer" in responses["404"]["description"]


@pytest.mark.django_db
def test_declared_answers_are_the_real_ones(alice):
    client = APIClient()
    response = client.get("/api/v1/backends/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    client.force_authenticate(alice)
    response = client.post("/api/v1/customers/", "x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    response = client.get("/api/v1/interface-definitions/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
