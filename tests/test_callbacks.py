"""The signed lab callback endpoint: egger's openTRANS answers applied to the order, and every
refusal (signature, age, replay, unknown definition or order, payload, size) changing nothing."""

import hashlib
import hmac
import json
import logging
import time
import uuid
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from otoorder.backends import registry, signing
from otoorder.backends.base import BaseBackend
from otoorder.backends.labstatus import StatusUpdate
from otoorder.backends.opentrans import OPENTRANS_NS
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import CallbackReceipt, EarmouldOrder
from otoorder.sandbox import egger as egger_lab
from tests import factories as f
from tests.factories import bte_item
from tests.schemas import opentrans_examples

pytestmark = pytest.mark.django_db

SECRET = "egger-rueckmeldung-geheim"
SUPPLIER_ORDER_ID = "EG-2026-0815"
TRACKING = "1Z7318301287125572"  # SHIPMENT_ID of the example notice
NS = {"ot": OPENTRANS_NS}


# --- documents ---------------------------------------------------------------------------


def orderresponse(order_number, supplier_order_id=SUPPLIER_ORDER_ID):
    """The example ORDERRESPONSE, answering our order; the example has no lab number: add one."""
    root = etree.parse(str(opentrans_examples() / "orderresponse_example.xml")).getroot()
    info = root.find("ot:ORDERRESPONSE_HEADER/ot:ORDERRESPONSE_INFO", NS)
    info.find("ot:ORDER_ID", NS).text = order_number
    if supplier_order_id:
        element = etree.Element(f"{{{OPENTRANS_NS}}}SUPPLIER_ORDER_ID")
        element.text = supplier_order_id
        info.find("ot:ORDER_DATE", NS).addnext(element)  # its place in the schema's sequence
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def dispatchnotification(*order_numbers):
    """The example DISPATCHNOTIFICATION; its items name ``order_numbers`` in turn."""
    root = etree.parse(str(opentrans_examples() / "dispatchnotification_example.xml")).getroot()
    elements = root.findall(".//ot:DISPATCHNOTIFICATION_ITEM/ot:ORDER_REFERENCE/ot:ORDER_ID", NS)
    for index, element in enumerate(elements):
        element.text = order_numbers[min(index, len(order_numbers) - 1)]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def egger(chain, dreve):
    return f.InterfaceDefinitionFactory(
        chain=chain,
        name="egger ERP",
        backend="egger_erp",
        companies=[dreve],
        options={"endpoint_url": "https://erp.egger.test/orders", "username": "mitte", "buyer_id": "B-1"},
        secrets={"password": "pw", "shared_secret": SECRET},
    )


def ordered_order(transaction_obj, company, supplier, user):
    order = services.place_order(
        transaction_obj=transaction_obj, company=company, supplier=supplier, items=[bte_item()], user=user
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, OrderStatus.ORDERED, source="worker")
    return order


@pytest.fixture
def order(egger, transaction_obj, dreve, dreve_supplier, alice):
    order = ordered_order(transaction_obj, dreve, dreve_supplier, alice)
    assert order.interface_definition == egger
    return order


@pytest.fixture
def client():
    # CSRF checks on: the endpoint must work for a lab that has no session and no token.
    return Client(enforce_csrf_checks=True)


def url(definition_or_id):
    return f"/api/v1/callbacks/{getattr(definition_or_id, 'pk', definition_or_id)}/"


def post(client, definition, body, *, secret=SECRET, header=None, timestamp=None, content_type="application/xml"):
    if header is None:
        header = signing.sign(secret, body, timestamp=timestamp)
    extra = {"HTTP_X_OTOORDER_SIGNATURE": header} if header else {}
    return client.post(url(definition), data=body, content_type=content_type, **extra)


def snapshot(*orders):
    """Everything a refused callback must leave as it was."""
    rows = []
    for order in orders:
        order.refresh_from_db()
        rows.append((order.status, order.external_reference, order.tracking_number, order.events.count()))
    return rows, CallbackReceipt.objects.count()


def assert_refused(response, status_code, code):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


# --- egger ERP: the happy paths ------------------------------------------------------------


def test_orderresponse_confirms_the_order_with_egger_number(client, egger, order):
    response = post(client, egger, orderresponse(order.number))

    assert response.status_code == 200, response.content
    assert response.json() == {"applied": 1, "unchanged": 0}
    order.refresh_from_db()
    assert (order.status, order.external_reference, order.external_status) == (
        "confirmed",
        SUPPLIER_ORDER_ID,
        "ORDERRESPONSE",
    )
    event = order.events.last()
    assert (event.source, event.from_status, event.to_status) == ("lab", "ordered", "confirmed")
    # The delivery date reads as a German date inside the German sentence.
    assert SUPPLIER_ORDER_ID in event.text and "27.06.2018" in event.text
    receipt = CallbackReceipt.objects.get()
    assert receipt.interface_definition == egger and len(receipt.signature) == 64


def test_dispatchnotification_ships_the_order_with_tracking(client, egger, order):
    assert post(client, egger, orderresponse(order.number)).status_code == 200

    response = post(client, egger, dispatchnotification(order.number))

    assert response.status_code == 200, response.content
    assert response.json() == {"applied": 1, "unchanged": 0}
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("shipped", TRACKING)
    event = order.events.last()
    assert (event.from_status, event.to_status) == ("confirmed", "shipped")
    assert event.data["dispatchnotification_id"] == "39076516"


def egger_order(order):
    """What the sandbox's egger module knows of ``order`` to write its answers."""
    return {"order_id": order.number, "order_uuid": str(order.pk), "buyer_id": "B-1", "items": 1}


def test_a_question_from_egger_puts_the_order_on_hold(client, egger, order):
    assert post(client, egger, orderresponse(order.number)).status_code == 200
    body = egger_lab.question(egger_order(order), SUPPLIER_ORDER_ID, "Abdruck rechts unvollständig – neu abformen?", "Q-3")

    response = post(client, egger, body)

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert order.events.last().source == "lab"


def test_eggers_acceptance_of_a_cancellation_cancels_the_order(client, egger, order):
    assert post(client, egger, orderresponse(order.number)).status_code == 200
    lifecycle.set_status(order, OrderStatus.CANCEL_REQUESTED, source="staff")
    change = {**egger_order(order), "sequence": "1"}

    response = post(client, egger, egger_lab.cancellation_answer(change, SUPPLIER_ORDER_ID, accepted=True))

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_eggers_refusal_of_a_cancellation_is_recorded_with_its_reason(client, egger, order):
    lifecycle.set_status(order, OrderStatus.CANCEL_REQUESTED, source="staff")
    change = {**egger_order(order), "sequence": "1"}

    response = post(
        client, egger, egger_lab.cancellation_answer(change, SUPPLIER_ORDER_ID, accepted=False, reason="bereits in Fertigung")
    )

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status != OrderStatus.CANCELLED
    assert any("bereits in Fertigung" in event.message for event in order.events.all())


def test_one_notice_ships_several_orders(client, egger, order, transaction_obj, dreve, dreve_supplier, alice):
    second = ordered_order(transaction_obj, dreve, dreve_supplier, alice)

    response = post(client, egger, dispatchnotification(order.number, second.number))

    assert response.json() == {"applied": 2, "unchanged": 0}
    assert set(EarmouldOrder.objects.values_list("status", flat=True)) == {"shipped"}


def test_duplicate_body_with_a_fresh_signature_changes_nothing(client, egger, order):
    body = orderresponse(order.number)
    assert post(client, egger, body, timestamp=time.time() - 10).json() == {"applied": 1, "unchanged": 0}
    events = order.events.count()

    response = post(client, egger, body)  # egger retried: same document, new signature

    assert response.status_code == 200
    assert response.json() == {"applied": 0, "unchanged": 1}
    assert order.events.count() == events
    assert CallbackReceipt.objects.count() == 2


# --- refusals: signature ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "falsch"),  # signed with another secret, below
        ("", "fehlt"),
        ("t=abc,v1=00", "unlesbar"),
        ("v1=" + "0" * 64, "unlesbar"),
    ],
)
def test_bad_or_missing_signature_is_refused(client, egger, order, header, message):
    before = snapshot(order)
    body = orderresponse(order.number)
    if header is None:
        response = post(client, egger, body, secret="nicht-das-geheimnis")
    else:
        response = post(client, egger, body, header=header)

    assert message in assert_refused(response, 400, "invalid_signature")["detail"]
    assert snapshot(order) == before


def test_signature_of_another_body_is_refused(client, egger, order):
    before = snapshot(order)
    header = signing.sign(SECRET, orderresponse(order.number, "EG-ANDERS"))

    response = post(client, egger, orderresponse(order.number), header=header)

    assert_refused(response, 400, "invalid_signature")
    assert snapshot(order) == before


def test_stale_signature_is_refused(client, egger, order):
    before = snapshot(order)

    response = post(client, egger, orderresponse(order.number), timestamp=time.time() - 301)

    assert "abgelaufen" in assert_refused(response, 400, "invalid_signature")["detail"]
    assert snapshot(order) == before


def test_definition_without_secret_refuses_every_callback(client, egger, order):
    egger.secrets = {"password": "pw"}
    egger.save()
    before = snapshot(order)

    response = post(client, egger, orderresponse(order.number))

    assert_refused(response, 400, "invalid_signature")
    assert snapshot(order) == before


def test_replayed_signature_is_refused(client, egger, order):
    body = orderresponse(order.number)
    header = signing.sign(SECRET, body)
    assert post(client, egger, body, header=header).status_code == 200
    after_first = snapshot(order)

    response = post(client, egger, body, header=header)

    assert_refused(response, 400, "replayed")
    assert snapshot(order) == after_first


# --- refusals: definition, order, payload, size -------------------------------------------


def test_unknown_inactive_or_callbackless_definition_answers_404(client, chain, egger, order):
    body = orderresponse(order.number)
    standard = f.InterfaceDefinitionFactory(chain=chain, backend="standard", secrets={"shared_secret": SECRET})
    before = snapshot(order)

    for target in (uuid.uuid4(), "kein-uuid", standard):
        assert_refused(post(client, target, body), 404, "not_found")
    egger.is_active = False
    egger.save()
    assert_refused(post(client, egger, body), 404, "not_found")
    assert snapshot(order) == before


def test_unknown_order_answers_404_and_applies_nothing(client, egger, order):
    before = snapshot(order)

    response = post(client, egger, dispatchnotification(order.number, "OT-1999-999999"))

    body = assert_refused(response, 404, "unknown_order")
    assert "OT-1999-999999" in body["detail"]
    assert snapshot(order) == before  # the known order of the same document stays as it was


def test_order_of_another_definition_answers_404(client, chain, egger, mitte, alice, template):
    other_company = f.CompanyFactory(name="Otoplastik Süd")
    other_supplier = f.SupplierFactory(company=other_company, order_email="bestellung@sued.test")
    f.SupplierAccountFactory(branch=mitte, supplier=other_supplier, account_number="S-1")
    other = f.InterfaceDefinitionFactory(
        chain=chain, backend="egger_erp", companies=[other_company], secrets={"shared_secret": "anderes"}
    )
    transaction_obj = f.TransactionFactory(customer=f.CustomerFactory(branch=mitte), template=template, started_by=alice)
    foreign = ordered_order(transaction_obj, other_company, other_supplier, alice)
    assert foreign.interface_definition == other
    before = snapshot(foreign)

    response = post(client, egger, orderresponse(foreign.number))

    assert_refused(response, 404, "unknown_order")
    assert snapshot(foreign) == before


@pytest.mark.parametrize(
    "body",
    [
        b"kein XML",
        b"<ORDERRESPONSE/>",  # outside the openTRANS namespace
        "order_example.xml",  # an official example ORDER is no answer
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    ],
    ids=["not-xml", "foreign-namespace", "order", "external-entity"],
)
def test_invalid_payload_is_refused(client, egger, order, body):
    if isinstance(body, str):
        body = (opentrans_examples() / body).read_bytes()
    before = snapshot(order)

    response = post(client, egger, body)

    assert_refused(response, 400, "invalid_payload")
    assert snapshot(order) == before


def test_body_too_large_is_refused_unread(client, egger, order):
    body = b"<x>" + b" " * (1024 * 1024) + b"</x>"
    before = snapshot(order)

    response = post(client, egger, body)

    assert "zu groß" in assert_refused(response, 413, "payload_too_large")["detail"]
    assert snapshot(order) == before


def test_only_post_is_allowed(client, egger):
    assert_refused(client.get(url(egger)), 405, "method_not_allowed")


# --- the generic contract, with a JSON backend ------------------------------------------------


class JsonCallbackBackend(BaseBackend):
    """A lab pushing JSON ``{"reports": [{"order_id"|"order_number", "status", "reference"}]}``."""

    key = "test_json_callback"
    label = "Test-Rückmeldungen"
    supports_callback = True

    @classmethod
    def parse_callback(cls, body):
        data = json.loads(body)  # a JSONDecodeError is a ValueError
        return [
            {
                **{name: report[name] for name in ("order_id", "order_number") if name in report},
                "update": StatusUpdate(
                    status=report.get("status"),
                    external_status=report.get("status") or "",
                    external_reference=report.get("reference", ""),
                ),
            }
            for report in data["reports"]
        ]


@pytest.fixture
def json_lab(chain, dreve, monkeypatch):
    monkeypatch.setitem(
        registry.BACKENDS, JsonCallbackBackend.key, (f"{__name__}.JsonCallbackBackend", JsonCallbackBackend.label)
    )
    registry.get_backend_class.cache_clear()
    yield f.InterfaceDefinitionFactory(
        chain=chain, backend=JsonCallbackBackend.key, companies=[dreve], secrets={"shared_secret": SECRET}
    )
    registry.get_backend_class.cache_clear()


@pytest.fixture
def json_order(json_lab, transaction_obj, dreve, dreve_supplier, alice):
    return ordered_order(transaction_obj, dreve, dreve_supplier, alice)


def json_body(*reports):
    return json.dumps({"reports": list(reports)}).encode()


def test_json_report_by_order_id(client, json_lab, json_order):
    body = json_body({"order_id": str(json_order.pk), "status": "confirmed", "reference": "P-1"})

    response = post(client, json_lab, body, content_type="application/json")

    assert response.json() == {"applied": 1, "unchanged": 0}
    json_order.refresh_from_db()
    assert (json_order.status, json_order.external_reference) == ("confirmed", "P-1")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        json_body(),
        json_body({"status": "confirmed"}),
        json_body({"order_id": "keine-uuid", "status": "confirmed"}),
    ],
    ids=["broken-json", "no-reports", "no-order", "malformed-uuid"],
)
def test_json_payload_errors(client, json_lab, json_order, body):
    before = snapshot(json_order)

    response = post(client, json_lab, body, content_type="application/json")

    assert_refused(response, 400, "invalid_payload")
    assert snapshot(json_order) == before


def test_unknown_order_id_applies_nothing(client, json_lab, json_order):
    before = snapshot(json_order)
    body = json_body(
        {"order_id": str(json_order.pk), "status": "confirmed", "reference": "P-1"},
        {"order_id": str(uuid.uuid4()), "status": "confirmed"},
    )

    assert_refused(post(client, json_lab, body, content_type="application/json"), 404, "unknown_order")
    assert snapshot(json_order) == before


def test_logs_carry_ids_only(client, json_lab, json_order, caplog):
    body = json_body({"order_number": json_order.number, "status": "shipped", "reference": "Mustermann"})
    with caplog.at_level(logging.INFO, logger="otoorder.api.callbacks"):
        assert post(client, json_lab, body, content_type="application/json").status_code == 200
        assert_refused(post(client, json_lab, body, secret="falsch", content_type="application/json"), 400, "invalid_signature")

    text = caplog.text
    assert str(json_lab.pk) in text and str(json_order.pk) in text
    assert "Mustermann" not in text and "Erika" not in text and "reports" not in text


# --- OpenAPI ---------------------------------------------------------------------------------


def test_callback_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/callbacks/{definition_id}/"]["post"]
    assert set(operation["requestBody"]["content"]) >= {"application/xml", "application/json"}
    assert "security" not in operation  # no session, no token: the signature authenticates
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["X-Otoorder-Signature"]["in"] == "header" and parameters["X-Otoorder-Signature"]["required"]
    assert parameters["definition_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert set(operation["responses"]) >= {"200", "400", "404", "413"}
    result = schema["components"]["schemas"]["CallbackResult"]
    assert set(result["properties"]) == {"applied", "unchanged"}


#: The worked example of docs/interfaces/callbacks.md, pinned: a known answer, not recomputed.
KNOWN_SECRET = "beispiel-geheimnis"
KNOWN_TIMESTAMP = 1767225600  # 2026-01-01 00:00:00 UTC
KNOWN_BODY = b'{"order_id":"6f1c2d8e-0000-4000-8000-0000000000e1","status":"confirmed","order_number":"A-4711"}'
KNOWN_DIGEST = "12490643bc014b74f5ab1c6edbceec8597297fe2a23f4cb88f534e0f9cffdb49"
KNOWN_HEADER = f"t={KNOWN_TIMESTAMP},v1={KNOWN_DIGEST}"


def test_the_signature_scheme_gives_the_known_answer():
    # The production signing function ...
    assert signing.sign(KNOWN_SECRET, KNOWN_BODY, timestamp=KNOWN_TIMESTAMP) == KNOWN_HEADER
    # ... and the documented recipe, computed independently: HMAC-SHA256 over "<t>." + body.
    message = str(KNOWN_TIMESTAMP).encode("ascii") + b"." + KNOWN_BODY
    assert hmac.new(KNOWN_SECRET.encode("utf-8"), message, hashlib.sha256).hexdigest() == KNOWN_DIGEST
    # The endpoint's check accepts it within the window and refuses it outside.
    assert signing.verify(KNOWN_SECRET, KNOWN_BODY, KNOWN_HEADER, now=KNOWN_TIMESTAMP + 299) == KNOWN_TIMESTAMP
    with pytest.raises(signing.SignatureError, match="abgelaufen"):
        signing.verify(KNOWN_SECRET, KNOWN_BODY, KNOWN_HEADER, now=KNOWN_TIMESTAMP + 301)
    with pytest.raises(signing.SignatureError, match="falsch"):
        signing.verify(KNOWN_SECRET, KNOWN_BODY + b" ", KNOWN_HEADER, now=KNOWN_TIMESTAMP)


def test_the_documented_signature_example_is_the_known_answer():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "interfaces" / "callbacks.md").read_text()
    assert f"- shared secret: `{KNOWN_SECRET}`" in doc
    assert f"- timestamp: `{KNOWN_TIMESTAMP}`" in doc
    assert f"  {KNOWN_BODY.decode()}\n" in doc and f"body ({len(KNOWN_BODY)} bytes, no trailing newline)" in doc
    assert f"X-Otoorder-Signature: {KNOWN_HEADER}" in doc
    assert f"SHA2-256(stdin)= {KNOWN_DIGEST}" in doc


def test_portal_json_callback_confirms_the_order(client, chain, dreve, transaction_obj, dreve_supplier, alice):
    portal = f.InterfaceDefinitionFactory(
        chain=chain,
        backend="audia_easy_order_portal",
        companies=[dreve],
        options={"portal_url": "https://portal.audia.test/otoorder"},
        secrets={"shared_secret": SECRET},
    )
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, OrderStatus.AWAITING_PORTAL, source="worker")
    body = json.dumps(
        {
            "order_id": str(order.pk),
            "status": "confirmed",
            "order_number": "A-4711",
            "properties": {"right": {"style": "Schale"}},
        }
    ).encode()

    response = post(client, portal, body, content_type="application/json")

    assert response.json() == {"applied": 1, "unchanged": 0}
    order.refresh_from_db()
    assert (order.status, order.external_reference, order.lab_properties) == (
        "confirmed",
        "A-4711",
        {"right": {"style": "Schale"}},
    )
