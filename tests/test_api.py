"""The REST API under /api/v1/: auth, every endpoint's happy path, scoping, rules R1–R4
through the API, field errors that create nothing, the error format and the schema."""

import uuid
from datetime import date

import pytest
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from branches.models import InterfaceDefinition, Role
from otoorder.backends import registry
from otoorder.backends.base import CAPABILITIES, BaseBackend
from otoorder.backends.options import Option
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import AttemptOutcome, EventSource, OrderStatus
from otoorder.orders.models import Attempt, Dispatch, EarmouldOrder, OrderEvent, OrderItem
from otoorder.transactions.models import Customer, Transaction
from suppliers.models import Company, OrderMethod, Supplier
from tests import factories as f
from tests.unavailable_backend import unavailable_backend  # noqa: F401 - fixture
from tests.factories import PASSWORD, bte_item, ric_item

pytestmark = pytest.mark.django_db

INVALID = "Die Eingaben sind unvollständig oder ungültig."


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def order_counts():
    return (
        EarmouldOrder.objects.count(),
        OrderItem.objects.count(),
        Dispatch.objects.count(),
        OrderEvent.objects.count(),
    )


def place(transaction_obj, company, supplier, user, items=None):
    return services.place_order(
        transaction_obj=transaction_obj,
        company=company,
        supplier=supplier,
        items=items or [bte_item("right")],
        user=user,
    )


class SecretBackend(BaseBackend):
    """A backend with a secret option, registered only while a test runs."""

    key = "test_secret"
    label = "Testschnittstelle"
    options = (
        Option("url", "Adresse", kind="url"),
        Option("api_key", "API-Schlüssel", secret=True),
    )


@pytest.fixture
def secret_backend(monkeypatch):
    monkeypatch.setitem(
        registry.BACKENDS, SecretBackend.key, (f"{__name__}.SecretBackend", SecretBackend.label)
    )
    registry.get_backend_class.cache_clear()
    yield SecretBackend
    monkeypatch.undo()
    registry.get_backend_class.cache_clear()


# --- auth and error format ------------------------------------------------------------------------


class TestAuth:
    def test_token_for_good_credentials_authenticates_requests(self, alice):
        response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        assert response.status_code == 200
        token = response.json()["token"]
        assert token == Token.objects.get(user=alice).key

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/v1/branches/").status_code == 200

    def test_bad_credentials_are_refused_in_german(self, alice):
        response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "falsch"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "code": "invalid_credentials",
            "detail": "Benutzername oder Passwort ist falsch.",
        }
        assert not Token.objects.exists()

    def test_missing_fields_are_field_errors(self, db):
        response = APIClient().post("/api/v1/auth/token/", {}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and body["detail"] == INVALID
        assert set(body["errors"]) == {"username", "password"}

    def test_session_login_works(self, alice):
        client = APIClient()
        assert client.login(request=HttpRequest(), username="alice", password=PASSWORD)  # axes needs a request
        assert client.get("/api/v1/customers/").status_code == 200

    def test_anonymous_gets_401(self, db):
        response = APIClient().get("/api/v1/orders/")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"

    def test_bad_token_gets_401(self, db):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token nicht-gueltig")
        response = client.get("/api/v1/orders/")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"

    def test_not_found_format(self, alice):
        response = client_for(alice).get(f"/api/v1/orders/{uuid.uuid4()}/")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "detail": "Nicht gefunden."}

    def test_method_not_allowed_and_malformed_json(self, dave, chain):
        client = client_for(dave)
        response = client.put("/api/v1/interface-definitions/", {}, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed" and "PUT" in response.json()["detail"]
        response = client.post("/api/v1/companies/", "{kein json", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"code": "parse_error", "detail": "Die Anfrage ist kein gültiges JSON."}
        assert not Company.objects.exists()

    def test_english_on_request(self, db):
        response = APIClient().get("/api/v1/orders/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


# --- branches, backends, companies, suppliers ---------------------------------------------------------


class TestReferenceData:
    def test_branches_are_the_visible_ones(self, alice, dave, mitte, nord):
        names = [b["name"] for b in client_for(alice).get("/api/v1/branches/").json()["results"]]
        assert names == ["Filiale Mitte"]
        names = [b["name"] for b in client_for(dave).get("/api/v1/branches/").json()["results"]]
        assert names == ["Filiale Mitte", "Filiale Nord"]
        branch = client_for(alice).get("/api/v1/branches/").json()["results"][0]
        assert branch["id"] == str(mitte.pk) and branch["chain"] == str(mitte.chain_id)

    def test_backends_list_keys_labels_and_options_schema(self, alice, unavailable_backend):
        response = client_for(alice).get("/api/v1/backends/")
        assert response.status_code == 200
        backends = {b["key"]: b for b in response.json()}
        assert set(backends) == set(registry.BACKENDS)
        standard = backends["standard"]
        assert standard["label"] == "Standard Bestellprozess"
        assert standard["available"] is True
        assert standard["options_schema"]["type"] == "object"
        assert "from_email" in standard["options_schema"]["properties"]
        # Every capability the protocol declares, as the backend declares it.
        assert set(standard["capabilities"]) == {*CAPABILITIES, "accepts_attachments"}
        assert standard["capabilities"]["accepts_attachments"] is True
        assert standard["capabilities"]["supports_cancellation"] is True
        assert backends["otofaktur_otoport"]["capabilities"]["supports_inbox"] is True
        assert backends[unavailable_backend]["available"] is False
        portal = backends["audia_easy_order_portal"]
        assert portal["available"] is True and portal["capabilities"]["needs_browser_handoff"] is True
        assert portal["capabilities"]["supports_cancellation"] is False
        assert set(portal["options_schema"]["properties"]) == {"portal_url", "shared_secret"}

    def test_companies_list_and_chain_admin_creates(self, alice, dave, dreve):
        assert [c["name"] for c in client_for(alice).get("/api/v1/companies/").json()["results"]] == ["Dreve"]
        response = client_for(dave).post("/api/v1/companies/", {"name": "Egger"}, format="json")
        assert response.status_code == 201
        assert Company.objects.get(pk=response.json()["id"]).name == "Egger"

    def test_staff_and_branch_admin_cannot_create_companies(self, alice, carol):
        for user in (alice, carol):
            response = client_for(user).post("/api/v1/companies/", {"name": "Egger"}, format="json")
            assert response.status_code == 403
            assert response.json()["code"] == "permission_denied"
        assert not Company.objects.filter(name="Egger").exists()

    def test_company_bad_input(self, dave, dreve):
        for payload, field in (({}, "name"), ({"name": "Dreve"}, "name"), ({"name": ""}, "name")):
            response = client_for(dave).post("/api/v1/companies/", payload, format="json")
            assert response.status_code == 400
            assert field in response.json()["errors"]
        assert Company.objects.count() == 1

    def test_suppliers_create_and_list(self, dave, alice, dreve):
        payload = {"company": str(dreve.pk), "order_method": "fax", "fax_number": "030 123456", "delivery_days": 7}
        response = client_for(dave).post("/api/v1/suppliers/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["order_method"] == "fax" and body["display_name"] == "Dreve"
        listed = client_for(alice).get(f"/api/v1/suppliers/?company={dreve.pk}").json()["results"]
        assert [s["id"] for s in listed] == [body["id"]]

    def test_supplier_clean_rules_are_field_errors(self, dave, dreve):
        cases = [
            ({"company": str(dreve.pk), "order_method": "email"}, "order_email"),
            ({"company": str(dreve.pk), "order_method": "fax"}, "fax_number"),
            ({"company": str(dreve.pk), "order_method": "telegram", "order_email": "a@b.test"}, "order_method"),
            ({"company": str(uuid.uuid4()), "order_method": "print"}, "company"),
            ({"company": "kein-uuid", "order_method": "print"}, "company"),
            ({"company": str(dreve.pk), "order_method": "email", "order_email": "keine-adresse"}, "order_email"),
        ]
        for payload, field in cases:
            response = client_for(dave).post("/api/v1/suppliers/", payload, format="json")
            assert response.status_code == 400, payload
            assert field in response.json()["errors"], response.json()
        assert not Supplier.objects.exists()

    def test_staff_cannot_create_suppliers(self, alice, dreve):
        payload = {"company": str(dreve.pk), "order_method": "print"}
        assert client_for(alice).post("/api/v1/suppliers/", payload, format="json").status_code == 403
        assert not Supplier.objects.exists()


# --- customers, templates, transactions --------------------------------------------------------------


class TestCustomersAndTransactions:
    def test_customers_are_scoped(self, alice, bob, customer, nord):
        other = f.CustomerFactory(branch=nord, last_name="Nordmann")
        ids = [c["id"] for c in client_for(alice).get("/api/v1/customers/").json()["results"]]
        assert ids == [str(customer.pk)]
        ids = [c["id"] for c in client_for(bob).get("/api/v1/customers/").json()["results"]]
        assert ids == [str(other.pk)]
        assert client_for(bob).get(f"/api/v1/customers/{customer.pk}/").status_code == 404

    def test_create_customer(self, alice, mitte):
        payload = {"branch": str(mitte.pk), "first_name": "Max", "last_name": "Muster", "birth_date": "1950-02-01"}
        response = client_for(alice).post("/api/v1/customers/", payload, format="json")
        assert response.status_code == 201, response.json()
        created = Customer.objects.get(pk=response.json()["id"])
        assert created.branch == mitte and created.birth_date == date(1950, 2, 1)
        assert response.json()["customer_number"] == created.customer_number

    def test_customer_for_invisible_branch_is_a_field_error(self, bob, mitte):
        payload = {"branch": str(mitte.pk), "first_name": "Max", "last_name": "Muster"}
        response = client_for(bob).post("/api/v1/customers/", payload, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["branch"]
        assert not Customer.objects.exists()

    def test_customer_bad_input(self, alice, mitte):
        cases = [
            ({"first_name": "Max", "last_name": "Muster"}, "branch"),
            ({"branch": str(mitte.pk), "last_name": "Muster"}, "first_name"),
            ({"branch": str(mitte.pk), "first_name": "Max", "last_name": "M", "birth_date": "gestern"}, "birth_date"),
        ]
        for payload, field in cases:
            response = client_for(alice).post("/api/v1/customers/", payload, format="json")
            assert response.status_code == 400
            assert field in response.json()["errors"]
        assert not Customer.objects.exists()

    def test_templates_with_steps(self, alice, template):
        body = client_for(alice).get("/api/v1/transaction-templates/").json()["results"]
        assert [t["name"] for t in body] == ["Otoplastik"]
        steps = body[0]["steps"]
        assert [s["step_type"] for s in steps] == ["impression", "order_service"]
        assert set(steps[1]) == {"position", "step_type", "title", "predefined_company", "predefined_supplier"}

    def test_start_transaction_copies_steps(self, alice, customer, template):
        payload = {"customer": str(customer.pk), "template": str(template.pk)}
        response = client_for(alice).post("/api/v1/transactions/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert uuid.UUID(body["id"]) and body["name"] == "Otoplastik"
        assert [s["position"] for s in body["steps"]] == [1, 2]
        assert client_for(alice).get(f"/api/v1/transactions/{body['id']}/").json()["customer"] == str(customer.pk)

    def test_bob_cannot_start_a_transaction_for_mittes_customer(self, bob, customer, template):
        payload = {"customer": str(customer.pk), "template": str(template.pk)}
        response = client_for(bob).post("/api/v1/transactions/", payload, format="json")
        assert response.status_code == 404
        assert not Transaction.objects.exists()

    def test_transaction_bad_input(self, alice, customer, template):
        cases = [
            ({"customer": str(customer.pk)}, "template"),
            ({"customer": str(customer.pk), "template": str(uuid.uuid4())}, "template"),
            ({"customer": "x", "template": str(template.pk)}, "customer"),
        ]
        for payload, field in cases:
            response = client_for(alice).post("/api/v1/transactions/", payload, format="json")
            assert response.status_code == 400
            assert field in response.json()["errors"]
        assert not Transaction.objects.exists()

    def test_bob_cannot_see_mittes_transaction(self, bob, transaction_obj):
        assert client_for(bob).get(f"/api/v1/transactions/{transaction_obj.pk}/").status_code == 404


# --- the Bestellservice preview (R1–R4) -------------------------------------------------------------


def preview(user, transaction_obj, company, supplier=None):
    payload = {"company": str(company.pk) if company else None}
    if supplier is not None:
        payload["supplier"] = str(supplier.pk)
    return client_for(user).post(
        f"/api/v1/transactions/{transaction_obj.pk}/order-service/preview/", payload, format="json"
    )


class TestPreview:
    def test_r1_no_company(self, alice, transaction_obj):
        response = preview(alice, transaction_obj, None)
        assert response.status_code == 200
        assert response.json() == {
            "outcome": "no_order",
            "interface_definition": None,
            "backend": None,
            "supplier": None,
            "candidates": [],
        }

    def test_r4_supplier_required_lists_the_companys_own_supplier_first(self, alice, transaction_obj, dreve, dreve_supplier):
        wholesaler = f.SupplierFactory(company=f.CompanyFactory(name="Aaa Großhandel"))
        body = preview(alice, transaction_obj, dreve).json()
        assert body["outcome"] == "supplier_required"
        assert body["supplier"] is None and body["backend"] == "standard"
        assert [c["id"] for c in body["candidates"]] == [str(dreve_supplier.pk), str(wholesaler.pk)]
        assert body["candidates"][0] == {"id": str(dreve_supplier.pk), "name": "Dreve", "company": str(dreve.pk)}

    def test_r3_ready_with_chosen_supplier_through_the_standard_process(self, alice, transaction_obj, dreve, dreve_supplier):
        body = preview(alice, transaction_obj, dreve, dreve_supplier).json()
        assert body["outcome"] == "ready"
        assert body["interface_definition"] is None
        assert body["backend"] == "standard"
        assert body["supplier"] == {"id": str(dreve_supplier.pk), "name": "Dreve"}

    def test_r2_ready_through_the_definition_with_its_supplier(self, alice, chain, transaction_obj, dreve, dreve_supplier):
        definition = f.InterfaceDefinitionFactory(chain=chain, name="Dreve per Mail", companies=[dreve], supplier=dreve_supplier)
        body = preview(alice, transaction_obj, dreve).json()
        assert body["outcome"] == "ready"
        assert body["interface_definition"] == {"id": str(definition.pk), "name": "Dreve per Mail", "backend": "standard"}
        assert body["supplier"]["id"] == str(dreve_supplier.pk)

    def test_preview_for_another_branch_is_404(self, bob, transaction_obj, dreve):
        assert preview(bob, transaction_obj, dreve).status_code == 404

    def test_preview_bad_input(self, alice, transaction_obj):
        url = f"/api/v1/transactions/{transaction_obj.pk}/order-service/preview/"
        for payload in ({}, {"company": str(uuid.uuid4())}, {"company": "x"}):
            response = client_for(alice).post(url, payload, format="json")
            assert response.status_code == 400
            assert "company" in response.json()["errors"]


# --- orders ---------------------------------------------------------------------------------------------


def order_payload(transaction_obj, company, supplier=None, items=None, **extra):
    payload = {
        "transaction": str(transaction_obj.pk),
        "company": str(company.pk) if company else None,
        "items": items if items is not None else [bte_item("right"), ric_item("left")],
        **extra,
    }
    if supplier is not None:
        payload["supplier"] = str(supplier.pk)
    return payload


class TestOrders:
    def test_place_order(self, alice, transaction_obj, dreve, dreve_supplier):
        payload = order_payload(
            transaction_obj, dreve, dreve_supplier, notes="Bitte eilig", priority="express", date_required="2030-01-31"
        )
        response = client_for(alice).post("/api/v1/orders/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        order = EarmouldOrder.objects.get(pk=body["id"])
        assert body["number"] == order.number
        assert body["status"] == "queued" and body["status_label"] == "Erstellt – wartet auf Versand"
        assert body["backend"] == "standard"
        assert body["company"] == {"id": str(dreve.pk), "name": "Dreve"}
        assert body["supplier"] == {"id": str(dreve_supplier.pk), "name": "Dreve"}
        assert body["interface_definition"] is None
        assert body["priority"] == "express" and body["notes"] == "Bitte eilig"
        assert {i["side"] for i in body["items"]} == {"left", "right"}
        assert body["events"][0]["to_status"] == "queued" and body["events"][0]["source"] == "staff"
        assert body["attempts"] == []
        assert order.step == transaction_obj.order_service_step
        assert order.created_by == alice and order.dispatch.state == "queued"

    def test_r1_no_company_is_422_and_creates_nothing(self, alice, transaction_obj):
        before = order_counts()
        response = client_for(alice).post("/api/v1/orders/", order_payload(transaction_obj, None), format="json")
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "no_company"
        assert "keine Firma" in body["detail"]
        assert order_counts() == before

    def test_r4_supplier_required_is_422_with_candidates(self, alice, transaction_obj, dreve, dreve_supplier):
        other = f.SupplierFactory(company=f.CompanyFactory(name="Aaa Großhandel"))
        before = order_counts()
        response = client_for(alice).post("/api/v1/orders/", order_payload(transaction_obj, dreve), format="json")
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "supplier_required"
        assert body["detail"] == "Für diese Firma muss ein Lieferant gewählt werden."
        assert [c["id"] for c in body["candidates"]] == [str(dreve_supplier.pk), str(other.pk)]
        assert order_counts() == before

    def test_r2_definition_with_supplier_needs_no_choice(self, alice, chain, transaction_obj, dreve, dreve_supplier):
        definition = f.InterfaceDefinitionFactory(chain=chain, companies=[dreve], supplier=dreve_supplier)
        response = client_for(alice).post("/api/v1/orders/", order_payload(transaction_obj, dreve), format="json")
        assert response.status_code == 201
        assert response.json()["interface_definition"]["id"] == str(definition.pk)

    def test_item_errors_are_aligned_with_the_items(self, alice, transaction_obj, dreve, dreve_supplier):
        items = [bte_item("right"), ric_item("left", receiver_power="")]
        before = order_counts()
        response = client_for(alice).post(
            "/api/v1/orders/", order_payload(transaction_obj, dreve, dreve_supplier, items=items), format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and body["detail"] == INVALID
        assert body["errors"]["items"][0] == {}
        assert list(body["errors"]["items"][1]) == ["receiver_power"]
        assert "Hörerleistung" in body["errors"]["items"][1]["receiver_power"][0]
        assert order_counts() == before

    @pytest.mark.parametrize(
        "items, index, field",
        [
            ([bte_item("right", tube="")], 0, "tube"),
            ([bte_item("right", style="cic", vent_diameter_mm="2.0")], 0, "vent_diameter_mm"),
            ([bte_item("right"), bte_item("right")], 1, "side"),
            ([bte_item("both")], 0, "side"),
            ([bte_item("left"), bte_item("right", material="gold")], 1, "material"),
            ([bte_item("right", quantity=0)], 0, "quantity"),
            ([ric_item("left", receiver_length=7)], 0, "receiver_length"),
        ],
    )
    def test_lab_rules_per_item(self, alice, transaction_obj, dreve, dreve_supplier, items, index, field):
        before = order_counts()
        response = client_for(alice).post(
            "/api/v1/orders/", order_payload(transaction_obj, dreve, dreve_supplier, items=items), format="json"
        )
        assert response.status_code == 400
        errors = response.json()["errors"]["items"]
        assert len(errors) == len(items) and field in errors[index]
        assert order_counts() == before

    def test_header_and_reference_errors(self, alice, transaction_obj, dreve, dreve_supplier):
        cases = [
            (order_payload(transaction_obj, dreve, dreve_supplier, items=[]), "items"),
            (order_payload(transaction_obj, dreve, dreve_supplier, priority="sofort"), "priority"),
            (order_payload(transaction_obj, dreve, dreve_supplier, date_required="morgen"), "date_required"),
            ({**order_payload(transaction_obj, dreve), "supplier": str(uuid.uuid4())}, "supplier"),
            ({**order_payload(transaction_obj, dreve, dreve_supplier), "company": "x"}, "company"),
            ({**order_payload(transaction_obj, dreve, dreve_supplier), "transaction": "x"}, "transaction"),
            (order_payload(transaction_obj, dreve, dreve_supplier, items="rechts"), "items"),
        ]
        before = order_counts()
        for payload, field in cases:
            response = client_for(alice).post("/api/v1/orders/", payload, format="json")
            assert response.status_code == 400, payload
            assert field in response.json()["errors"], response.json()
        assert order_counts() == before

    def test_interface_supplier_without_definition_is_a_field_error(self, alice, transaction_obj, dreve):
        supplier = f.SupplierFactory(company=dreve, order_method=OrderMethod.INTERFACE)
        before = order_counts()
        response = client_for(alice).post(
            "/api/v1/orders/", order_payload(transaction_obj, dreve, supplier), format="json"
        )
        assert response.status_code == 400
        assert "supplier" in response.json()["errors"]
        assert order_counts() == before

    def test_bob_cannot_order_or_see_for_mittes_customer(self, alice, bob, transaction_obj, dreve, dreve_supplier):
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        before = order_counts()
        response = client_for(bob).post(
            "/api/v1/orders/", order_payload(transaction_obj, dreve, dreve_supplier), format="json"
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert order_counts() == before
        assert client_for(bob).get(f"/api/v1/orders/{order.pk}/").status_code == 404
        assert client_for(bob).get("/api/v1/orders/").json()["results"] == []
        assert client_for(bob).post(f"/api/v1/orders/{order.pk}/cancel/").status_code == 404
        order.refresh_from_db()
        assert order.status == OrderStatus.QUEUED

    def test_list_filters_by_status_and_customer(self, alice, transaction_obj, customer, dreve, dreve_supplier):
        first = place(transaction_obj, dreve, dreve_supplier, alice)
        second = place(transaction_obj, dreve, dreve_supplier, alice)
        services.cancel(second, user=alice)
        client = client_for(alice)
        assert {o["id"] for o in client.get("/api/v1/orders/").json()["results"]} == {str(first.pk), str(second.pk)}
        assert [o["id"] for o in client.get("/api/v1/orders/?status=cancelled").json()["results"]] == [str(second.pk)]
        assert len(client.get(f"/api/v1/orders/?customer={customer.pk}").json()["results"]) == 2
        assert client.get(f"/api/v1/orders/?customer={uuid.uuid4()}").json()["results"] == []
        response = client.get("/api/v1/orders/?status=verloren")
        assert response.status_code == 400 and "status" in response.json()["errors"]

    def test_detail_shows_events_and_attempts(self, alice, transaction_obj, dreve, dreve_supplier):
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
        Attempt.objects.create(
            order=order, number=1, started_at=order.created_at, duration_ms=120,
            outcome=AttemptOutcome.PERMANENT_ERROR, permanent=True, error="Adresse unbekannt",
        )
        lifecycle.set_status(order, OrderStatus.FAILED, source=EventSource.WORKER, message="Adresse unbekannt")
        body = client_for(alice).get(f"/api/v1/orders/{order.pk}/").json()
        assert [e["to_status"] for e in body["events"]] == ["queued", "sending", "failed"]
        assert set(body["events"][0]) == {"time", "from_status", "to_status", "source", "code", "message"}
        assert body["attempts"] == [
            {
                "purpose": "order",
                "number": 1,
                "started_at": body["attempts"][0]["started_at"],
                "duration_ms": 120,
                "outcome": "permanent_error",
                "error": "Adresse unbekannt",
                "error_code": "",
                "permanent": True,
            }
        ]
        for key in ("external_reference", "external_status", "failure_reason"):
            assert key in body

    def test_resend_a_failed_order(self, alice, transaction_obj, dreve, dreve_supplier):
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        lifecycle.set_status(order, OrderStatus.FAILED, source=EventSource.WORKER)
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/resend/")
        assert response.status_code == 200
        assert response.json()["status"] == "queued"

    def test_resend_of_a_queued_order_is_409(self, alice, transaction_obj, dreve, dreve_supplier):
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        events = OrderEvent.objects.count()
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/resend/")
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_status"
        assert OrderEvent.objects.count() == events

    def test_confirm_a_manual_order(self, alice, transaction_obj, dreve):
        supplier = f.SupplierFactory(company=dreve, order_method=OrderMethod.PRINT)
        order = place(transaction_obj, dreve, supplier, alice)
        assert client_for(alice).post(f"/api/v1/orders/{order.pk}/confirm/").status_code == 409
        lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
        lifecycle.set_status(order, OrderStatus.AWAITING_MANUAL, source=EventSource.WORKER)
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/confirm/")
        assert response.status_code == 200
        assert response.json()["status"] == "ordered"

    def test_cancel(self, alice, transaction_obj, dreve, dreve_supplier):
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "Kunde verzichtet"}, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert response.json()["events"][-1]["message"] == "Storniert (noch nicht beim Labor). Kunde verzichtet"

    def test_cancel_while_sending_is_parked_then_shipped_is_409(self, alice, transaction_obj, dreve, dreve_supplier):
        """Being sent: 202, the cancellation follows when the send ends (tests/test_cancellation.py);
        a second one, or an order the lab has shipped, is not cancellable (409)."""
        order = place(transaction_obj, dreve, dreve_supplier, alice)
        lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/cancel/")
        assert (response.status_code, response.json()["status"]) == (202, "sending")
        response = client_for(alice).post(f"/api/v1/orders/{order.pk}/cancel/")
        assert (response.status_code, response.json()["code"]) == (409, "not_cancellable")
        order.refresh_from_db()
        assert order.status == OrderStatus.SENDING

    def test_detail_query_count_does_not_grow(self, alice, transaction_obj, dreve, dreve_supplier, django_assert_max_num_queries):
        client = client_for(alice)
        small = place(transaction_obj, dreve, dreve_supplier, alice, items=[bte_item("right")])
        with django_assert_max_num_queries(10) as captured:
            assert client.get(f"/api/v1/orders/{small.pk}/").status_code == 200
        baseline = len(captured)

        big = place(transaction_obj, dreve, dreve_supplier, alice, items=[bte_item("right"), ric_item("left")])
        for number in range(1, 6):
            Attempt.objects.create(order=big, number=number, started_at=big.created_at, outcome=AttemptOutcome.TRANSIENT_ERROR)
            lifecycle.set_status(big, OrderStatus.SENDING, source=EventSource.WORKER)
            lifecycle.set_status(big, OrderStatus.QUEUED, source=EventSource.WORKER)
        with django_assert_max_num_queries(baseline):
            body = client.get(f"/api/v1/orders/{big.pk}/").json()
        assert len(body["events"]) == 11 and len(body["attempts"]) == 5 and len(body["items"]) == 2


# --- interface definitions -------------------------------------------------------------------------------


def definition_payload(**overrides):
    return {"name": "Dreve per Mail", "backend": "standard", "options": {}, **overrides}


class TestInterfaceDefinitions:
    def test_staff_cannot_read_or_write(self, alice, chain):
        client = client_for(alice)
        assert client.get("/api/v1/interface-definitions/").status_code == 403
        response = client.post("/api/v1/interface-definitions/", definition_payload(), format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert not InterfaceDefinition.objects.exists()

    def test_chain_admin_creates_a_chain_wide_definition(self, dave, chain, dreve, dreve_supplier):
        payload = definition_payload(
            companies=[str(dreve.pk)], supplier=str(dreve_supplier.pk), options={"cc": "kopie@hoerwelt.test"}
        )
        response = client_for(dave).post("/api/v1/interface-definitions/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        definition = InterfaceDefinition.objects.get(pk=body["id"])
        assert definition.chain == chain and definition.branch is None
        assert body["chain"] == str(chain.pk) and body["branch"] is None
        assert body["companies"] == [str(dreve.pk)]
        assert body["options"] == {"cc": "kopie@hoerwelt.test"}
        assert body["secrets_set"] == []

    def test_admin_of_several_chains_must_name_the_chain(self, dave, chain):
        other = f.ChainFactory(name="Klangwerk")
        f.MembershipFactory(user=dave, chain=other, branch=None, role=Role.CHAIN_ADMIN)
        client = client_for(dave)
        response = client.post("/api/v1/interface-definitions/", definition_payload(), format="json")
        assert response.status_code == 400 and "chain" in response.json()["errors"]
        assert not InterfaceDefinition.objects.exists()
        response = client.post("/api/v1/interface-definitions/", definition_payload(chain=str(other.pk)), format="json")
        assert response.status_code == 201
        assert InterfaceDefinition.objects.get().chain == other

    def test_branch_admin_writes_only_for_their_branch(self, carol, mitte, nord):
        client = client_for(carol)
        response = client.post("/api/v1/interface-definitions/", definition_payload(), format="json")
        assert response.status_code == 400 and "branch" in response.json()["errors"]
        response = client.post("/api/v1/interface-definitions/", definition_payload(branch=str(nord.pk)), format="json")
        assert response.status_code == 400 and "branch" in response.json()["errors"]
        assert not InterfaceDefinition.objects.exists()
        response = client.post("/api/v1/interface-definitions/", definition_payload(branch=str(mitte.pk)), format="json")
        assert response.status_code == 201
        assert response.json()["chain"] == str(mitte.chain_id)

    def test_branch_admin_cannot_patch_a_chain_wide_definition(self, carol, chain):
        definition = f.InterfaceDefinitionFactory(chain=chain, name="Kettenweit")
        client = client_for(carol)
        assert [d["name"] for d in client.get("/api/v1/interface-definitions/").json()["results"]] == ["Kettenweit"]
        response = client.patch(f"/api/v1/interface-definitions/{definition.pk}/", {"name": "Neu"}, format="json")
        assert response.status_code == 403
        definition.refresh_from_db()
        assert definition.name == "Kettenweit"

    def test_patch(self, dave, chain, dreve):
        definition = f.InterfaceDefinitionFactory(chain=chain, name="Alt")
        response = client_for(dave).patch(
            f"/api/v1/interface-definitions/{definition.pk}/", {"name": "Neu", "companies": [str(dreve.pk)]}, format="json"
        )
        assert response.status_code == 200, response.json()
        definition.refresh_from_db()
        assert definition.name == "Neu" and list(definition.companies.all()) == [dreve]

    def test_tie_names_the_other_definition(self, dave, chain, dreve):
        f.InterfaceDefinitionFactory(chain=chain, name="Erste", companies=[dreve])
        response = client_for(dave).post(
            "/api/v1/interface-definitions/", definition_payload(name="Zweite", companies=[str(dreve.pk)]), format="json"
        )
        assert response.status_code == 400
        assert "Erste" in response.json()["errors"]["companies"][0]
        assert InterfaceDefinition.objects.count() == 1

    def test_option_errors_are_nested(self, dave, chain):
        payload = definition_payload(options={"cc": "keine-adresse", "unbekannt": "x"})
        response = client_for(dave).post("/api/v1/interface-definitions/", payload, format="json")
        assert response.status_code == 400
        options = response.json()["errors"]["options"]
        assert set(options) == {"cc", "unbekannt"}
        assert not InterfaceDefinition.objects.exists()

    def test_other_bad_input(self, dave, chain, unavailable_backend):
        cases = [
            (definition_payload(backend="telepathie"), "backend"),
            (definition_payload(backend=unavailable_backend), "backend"),
            (definition_payload(name=""), "name"),
            (definition_payload(active_from="bald"), "active_from"),
            (definition_payload(companies=[str(uuid.uuid4())]), "companies"),
            (definition_payload(chain=str(uuid.uuid4())), "chain"),
        ]
        for payload, field in cases:
            response = client_for(dave).post("/api/v1/interface-definitions/", payload, format="json")
            assert response.status_code == 400, payload
            assert field in response.json()["errors"], response.json()
        assert not InterfaceDefinition.objects.exists()

    def test_secret_options_are_stored_but_never_returned(self, dave, chain, secret_backend):
        client = client_for(dave)
        payload = definition_payload(
            backend="test_secret", options={"url": "http://127.0.0.1:9/", "api_key": "geheim-123"}
        )
        response = client.post("/api/v1/interface-definitions/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["options"] == {"url": "http://127.0.0.1:9/"}
        assert body["secrets_set"] == ["api_key"]
        assert "geheim-123" not in response.content.decode()
        definition = InterfaceDefinition.objects.get(pk=body["id"])
        assert definition.secrets == {"api_key": "geheim-123"}

        # An empty secret keeps the stored one; reading never shows it.
        response = client.patch(
            f"/api/v1/interface-definitions/{definition.pk}/", {"options": {"url": "http://127.0.0.1:10/"}}, format="json"
        )
        assert response.status_code == 200, response.json()
        definition.refresh_from_db()
        assert definition.secrets == {"api_key": "geheim-123"}
        for url in ("/api/v1/interface-definitions/", f"/api/v1/interface-definitions/{definition.pk}/"):
            assert "geheim-123" not in client.get(url).content.decode()

    def test_missing_secret_is_an_option_error(self, dave, chain, secret_backend):
        payload = definition_payload(backend="test_secret", options={"url": "http://127.0.0.1:9/"})
        response = client_for(dave).post("/api/v1/interface-definitions/", payload, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]["options"]) == ["api_key"]


# --- schema ------------------------------------------------------------------------------------------------


def _enums(node, found):
    if isinstance(node, dict):
        if "enum" in node:
            found.append(set(node["enum"]) - {None, ""})
        for value in node.values():
            _enums(value, found)
    elif isinstance(node, list):
        for value in node:
            _enums(value, found)
    return found


class TestSchema:
    def test_schema_json_has_the_enums(self, db):
        response = APIClient().get("/api/schema/?format=json")
        assert response.status_code == 200
        schema = response.json()
        assert "/api/v1/orders/" in schema["paths"]
        enums = _enums(schema, [])
        expected = {
            "status": set(OrderStatus.values),
            "side": {"left", "right"},
            "order_method": set(OrderMethod.values),
            "backend": set(registry.BACKENDS),
            "outcome": {"no_order", "supplier_required", "ready"},
            "attempt outcome": set(AttemptOutcome.values),
        }
        for name, values in expected.items():
            assert values in enums, name

    def test_order_properties_use_enums(self, db):
        schema = APIClient().get("/api/schema/?format=json").json()
        components = schema["components"]["schemas"]
        order = components["EarmouldOrder"] if "EarmouldOrder" in components else components["Order"]
        status = order["properties"]["status"]
        ref = status.get("$ref") or status["allOf"][0]["$ref"]
        assert set(components[ref.rsplit("/", 1)[1]]["enum"]) == set(OrderStatus.values)
