"""Acceptance of the HTTP lab interfaces with a real peer (issue [2]).

For Dreve SmartOrder, Hörluchs-Partner, Audia Easy Order and Egger ERP: dave configures the
interface through the API against a loopback HTTP lab, alice orders through the API, a real
Celery worker subprocess (through Redis) sends it. The lab's received request is read in its
own format and compared field by field with what alice ordered; the order's status, external
reference, events and attempts are read back through ``GET /api/v1/orders/{id}/``.

Faults: the lab answers 500, then does not answer (stalls past the worker's 1 s transport
timeout), then takes the order — retried, one order at the lab, one idempotency key. The lab
refuses wrong credentials (401) and bad data (400) — the order fails with a German reason;
after dave fixes the password (and the lab is fixed) "erneut senden" delivers it.

The answers coming back: Dreve's progress by the worker's status poll, egger's openTRANS
``DISPATCHNOTIFICATION`` (the official example) by the signed callback.

The command line and Otoport interfaces: ``test_lab_backends_local.py``.
"""

import functools
import json
from dataclasses import dataclass, field
from typing import Callable

import pytest
import requests
from lxml import etree

from otoorder.backends import opentrans, signing
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.tasks import poll_labs
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_examples, opentrans_xsd

from .labkit import (
    STALL_SECONDS,
    TRANSPORT_TIMEOUT,
    admin_api,  # noqa: F401 - fixture
    assert_no_personal_data,
    basic_auth,
    canonical,
    configure,
    expected_fields,
    lab_broker,  # noqa: F401 - fixture
    lab_env,  # noqa: F401 - fixture
    lab_peer,  # noqa: F401 - fixture
    lab_supplier,
    lab_worker,  # noqa: F401 - fixture
    outcomes,
    place,
    reconfigure,
    resend,
    staff_api,  # noqa: F401 - fixture
    statuses,
    wait_for_order,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GOOD_SECRET = "richtig-4711"
WRONG_SECRET = "falsch-0000"
USERNAME = "hoerwelt-mitte"
NS = {"ot": opentrans.OPENTRANS_NS, "bmecat": opentrans.BMECAT_NS}


# --- each lab's format: how it is configured, how it answers, how its request reads ---------


@dataclass(frozen=True)
class LabSpec:
    backend: str
    lab_name: str
    account: str
    #: Path of the order request at the lab.
    path: str
    #: ``options(lab_url, secret)`` → the interface's options (secret = password or API key).
    options: Callable
    #: ``authorization(secret)`` → the ``Authorization`` header the lab expects.
    authorization: Callable
    #: ``read(request)`` → ``(canonical order, idempotency key inside the body)``.
    read: Callable
    #: The lab's answer when it takes the order (a ``Reply`` or ``reply(request)``).
    accept: object
    #: The lab's number in that answer.
    reference: str
    #: A refusal of the order's data (HTTP 400) and the lab's message in it.
    refusal: Reply
    refusal_message: str
    #: Further checks of the confirmed order (``check(order)``).
    extra_checks: Callable = field(default=lambda order: None)

    def __str__(self):
        return self.backend


def answer(reply, request):
    return reply(request) if callable(reply) else reply


# Dreve SmartOrder: JSON, Bearer API key ----------------------------------------------------------


def read_dreve(request):
    assert request.header("Content-Type").startswith("application/json")
    body = request.json()
    header = {
        "id": body["order_id"],
        "number": body["order_number"],
        "order_type": body["order_type"],
        "priority": body["priority"],
        "date_required": body["date_required"],
        "account": body["account_number"],
        "customer_reference": body["customer_reference"],
        "notes": body["notes"],
    }
    return canonical(header, [(item["side"], item) for item in body["items"]]), body["order_id"]


DREVE = LabSpec(
    backend="dreve_smartorder",
    lab_name="Dreve",
    account="D-1001",
    path="/smartorder/api/v1/orders",
    options=lambda url, secret: {"endpoint_url": f"{url}/smartorder/api/v1", "api_key": secret},
    authorization=lambda secret: f"Bearer {secret}",
    read=read_dreve,
    accept=Reply.json({"order_number": "SO-2026-0042", "status": "accepted"}, status=201),
    reference="SO-2026-0042",
    refusal=Reply.json({"message": "Bauform Schale ist für RIC nicht lieferbar."}, status=400),
    refusal_message="Bauform Schale ist für RIC nicht lieferbar.",
)


# Hörluchs-Partner: multipart (order JSON + scans), basic auth ------------------------------------

HOERLUCHS_ITEM = {
    "produktfamilie": "product_family", "bauform": "style", "material": "material", "farbe": "colour",
    "zusatzbohrung": "vent_type", "bohrung_mm": "vent_diameter_mm", "schlauch": "tube",
    "hoerer_staerke": "receiver_power", "hoerer_laenge": "receiver_length", "menge": "quantity",
    "bemerkung": "notes",
}  # fmt: skip


def read_hoerluchs(request):
    parts = request.multipart()
    assert set(parts) == {"order"}, "no scans for an order without digital impressions"
    ((filename, content_type, content),) = parts["order"]
    assert (filename, content_type) == ("order.json", "application/json")
    body = json.loads(content)
    header = {
        "id": body["bestell_id"],
        "number": body["bestellnummer"],
        "order_type": body["auftragsart"],
        "priority": body["prioritaet"],
        "date_required": body["liefertermin"],
        "account": body["kundennummer"],
        "customer_reference": body["kundenreferenz"],
        "notes": body["bemerkung"],
    }
    items = [(p["seite"], {ours: p[theirs] for theirs, ours in HOERLUCHS_ITEM.items()}) for p in body["positionen"]]
    assert body["scans"] == []
    return canonical(header, items), body["bestell_id"]


HOERLUCHS = LabSpec(
    backend="hoerluchs_partner",
    lab_name="Hörluchs",
    account="HL-2002",
    path="/partner/api/auftraege",
    options=lambda url, secret: {"endpoint_url": f"{url}/partner/api", "username": USERNAME, "password": secret},
    authorization=lambda secret: basic_auth(USERNAME, secret),
    read=read_hoerluchs,
    accept=Reply.json({"auftragsnummer": "HL-2026-0777", "status": "angenommen"}),
    reference="HL-2026-0777",
    refusal=Reply.json({"meldung": "Kundennummer HL-2002 ist gesperrt."}, status=400),
    refusal_message="Kundennummer HL-2002 ist gesperrt.",
)


# Audia Easy Order: XML, basic auth, the answer brings the "Bestelldaten" --------------------------

AUDIA_ITEM = {
    "ProductFamily": "product_family", "Style": "style", "Material": "material", "Colour": "colour",
    "VentType": "vent_type", "VentDiameterMm": "vent_diameter_mm", "Tube": "tube",
    "ReceiverPower": "receiver_power", "ReceiverLength": "receiver_length", "Quantity": "quantity",
    "Notes": "notes",
}  # fmt: skip


def read_audia(request):
    assert request.header("Content-Type").startswith("application/xml")
    root = etree.fromstring(request.body)
    assert root.tag == "EasyOrder"
    header = {
        "id": root.findtext("IdempotencyKey"),
        "number": root.findtext("OrderNumber"),
        "order_type": root.findtext("OrderType"),
        "priority": root.findtext("Priority"),
        "date_required": root.findtext("DateRequired"),
        "account": root.findtext("CustomerAccount"),
        "customer_reference": root.findtext("CustomerReference"),
        "notes": root.findtext("Notes"),
    }
    items = [
        (item.get("side"), {ours: item.findtext(theirs) for theirs, ours in AUDIA_ITEM.items()})
        for item in root.iterfind("Items/Item")
    ]
    return canonical(header, items), root.findtext("IdempotencyKey")


AUDIA_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<EasyOrderResponse version="1">
  <OrderNumber>EO-2026-31337</OrderNumber>
  <Status>accepted</Status>
  <Bestelldaten>
    <Ear side="right"><Style>Schale</Style><Material>Acryl hart</Material><VentDiameterMm>1.5</VentDiameterMm></Ear>
    <Ear side="left"><Style>Gehörgang</Style><Material>Silikon 40 Shore</Material><ReceiverLength>2</ReceiverLength></Ear>
  </Bestelldaten>
</EasyOrderResponse>"""


def check_audia_properties(order):
    assert order.lab_properties == {
        "right": {"style": "Schale", "material": "Acryl hart", "vent_diameter_mm": "1.5"},
        "left": {"style": "Gehörgang", "material": "Silikon 40 Shore", "receiver_length": "2"},
    }


AUDIA = LabSpec(
    backend="audia_easy_order",
    lab_name="audia",
    account="A-3003",
    path="/easyorder/api/orders",
    options=lambda url, secret: {"endpoint_url": f"{url}/easyorder/api", "username": USERNAME, "password": secret},
    authorization=lambda secret: basic_auth(USERNAME, secret),
    read=read_audia,
    accept=Reply.xml(AUDIA_ANSWER),
    reference="EO-2026-31337",
    refusal=Reply.xml(
        "<EasyOrderError><Message>Farbe beige ist für Silikon nicht lieferbar.</Message></EasyOrderError>",
        status=400,
    ),
    refusal_message="Farbe beige ist für Silikon nicht lieferbar.",
    extra_checks=check_audia_properties,
)


# Egger ERP: openTRANS 2.1 ORDER, answered with an ORDERRESPONSE -----------------------------------

EGGER_FEATURES = {
    "product_family": "product_family", "style": "style", "material": "material", "colour": "colour",
    "vent_type": "vent_type", "vent_diameter": "vent_diameter_mm", "tube": "tube",
    "receiver_power": "receiver_power", "receiver_length": "receiver_length",
}  # fmt: skip
EGGER_BUYER_ID = "EGG-BUYER-77"
EGGER_REFERENCE = "EGG-2026-5501"


@functools.lru_cache(maxsize=1)
def _schema():
    return etree.XMLSchema(etree.parse(str(opentrans_xsd())))


def read_egger(request):
    """The ORDER must be valid against the official openTRANS 2.1 schema, every time."""
    assert request.header("Content-Type").startswith("application/xml")
    root = etree.fromstring(request.body)
    schema = _schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    info = root.find("ot:ORDER_HEADER/ot:ORDER_INFO", NS)
    remarks = {r.get("type"): r.text for r in info.iterfind("ot:REMARKS", NS)}
    parties = info.iterfind("ot:PARTIES/ot:PARTY", NS)
    (buyer,) = [p for p in parties if p.findtext("ot:PARTY_ROLE", namespaces=NS) == "buyer"]
    party_ids = {p.get("type"): p.text for p in buyer.iterfind("bmecat:PARTY_ID", NS)}
    assert party_ids["buyerId"] == EGGER_BUYER_ID
    header = {
        "id": remarks["orderUuid"],
        "number": info.findtext("ot:ORDER_ID", namespaces=NS),
        "order_type": remarks["orderType"],
        "priority": remarks["priority"],
        "date_required": info.findtext("ot:DELIVERY_DATE/ot:DELIVERY_START_DATE", namespaces=NS),
        "account": party_ids["supplier_specific"],
        "customer_reference": remarks["customerReference"],
        "notes": remarks["general"],
    }
    items = []
    for item in root.iterfind("ot:ORDER_ITEM_LIST/ot:ORDER_ITEM", NS):
        features = {
            feature.findtext("bmecat:FNAME", namespaces=NS): feature.findtext("bmecat:FVALUE", namespaces=NS)
            for feature in item.iterfind("ot:PRODUCT_FEATURES/ot:FEATURE", NS)
        }
        fields = {ours: features.get(theirs) for theirs, ours in EGGER_FEATURES.items()}
        fields["quantity"] = item.findtext("ot:QUANTITY", namespaces=NS)
        fields["notes"] = item.findtext("ot:REMARKS", namespaces=NS)
        items.append((features["side"], fields))
    assert root.findtext("ot:ORDER_SUMMARY/ot:TOTAL_ITEM_NUM", namespaces=NS) == str(len(items))
    return canonical(header, items), remarks["orderUuid"]


def egger_orderresponse(request):
    """egger's ERP confirms with the official example ORDERRESPONSE, for the order it got."""
    sent = etree.fromstring(request.body)
    order_id = sent.findtext("ot:ORDER_HEADER/ot:ORDER_INFO/ot:ORDER_ID", namespaces=NS)
    root = etree.parse(str(opentrans_examples() / "orderresponse_example.xml")).getroot()
    info = root.find("ot:ORDERRESPONSE_HEADER/ot:ORDERRESPONSE_INFO", NS)
    info.find("ot:ORDER_ID", NS).text = order_id
    supplier_order_id = etree.Element(f"{{{opentrans.OPENTRANS_NS}}}SUPPLIER_ORDER_ID")
    supplier_order_id.text = EGGER_REFERENCE
    info.find("ot:ORDER_DATE", NS).addnext(supplier_order_id)
    schema = _schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return Reply.xml(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def check_egger_delivery_date(order):
    (confirmed,) = order.events.filter(to_status="confirmed")
    # The example's confirmed delivery date travels with the confirmation.
    assert confirmed.data["delivery_date"] == "2018-06-27"


EGGER = LabSpec(
    backend="egger_erp",
    lab_name="egger",
    account="E-4004",
    path="/egger/opentrans/order",
    options=lambda url, secret: {
        "endpoint_url": f"{url}/egger/opentrans/order",
        "username": USERNAME,
        "password": secret,
        "buyer_id": EGGER_BUYER_ID,
        "shared_secret": "rueckmeldung-geheim",
    },
    authorization=lambda secret: basic_auth(USERNAME, secret),
    read=read_egger,
    accept=egger_orderresponse,
    reference=EGGER_REFERENCE,
    refusal=Reply.text("Artikel bte-shell-acrylic ist im ERP nicht angelegt.", status=400),
    refusal_message="Artikel bte-shell-acrylic ist im ERP nicht angelegt.",
    extra_checks=check_egger_delivery_date,
)

LABS = [DREVE, HOERLUCHS, AUDIA, EGGER]


def assert_arrived(spec, request, created, customer):
    """One request at the lab carries the whole order, keyed by the order's UUID."""
    fields, body_key = spec.read(request)
    assert fields == expected_fields(created["id"], spec.account)
    assert request.header("Idempotency-Key") == body_key == created["id"]
    assert_no_personal_data(request.body, customer)


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", LABS, ids=str)
def test_order_arrives_complete_after_the_lab_fails_and_stalls(
    spec, lab_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte, customer
):
    supplier = lab_supplier(spec.lab_name, mitte, spec.account)
    definition = configure(admin_api, spec.backend, supplier, spec.options(lab_peer.url, GOOD_SECRET))
    lab_peer.script(
        Reply.json({"message": "Wartungsarbeiten"}, status=500),
        Reply.stalled(STALL_SECONDS),
        spec.accept,
        method="POST",
        path=spec.path,
    )

    created = place(staff_api, transaction_obj, supplier)

    detail = wait_for_order(staff_api, created["id"], "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["failure_reason"]
    received = lab_peer.requests_to(spec.path)
    assert len(received) == 3, "500, no answer, taken: three deliveries of one order"
    for request in received:
        assert request.header("Authorization") == spec.authorization(GOOD_SECRET)
        assert_arrived(spec, request, created, customer)
    assert lab_peer.requests == received, "nothing else was asked of the lab"

    assert detail["external_reference"] == spec.reference
    assert detail["backend"] == spec.backend
    assert detail["interface_definition"]["id"] == definition["id"]
    assert statuses(detail) == ["queued", "sending", "queued", "sending", "queued", "sending", "confirmed"]
    # The 500 was a clear "not now"; the stalled answer leaves open whether the lab has it.
    assert outcomes(detail) == ["transient_error", "ambiguous", "confirmed"]
    first, second, _ = detail["attempts"]
    assert "vorübergehende Störung (HTTP 500)" in first["error"] and not first["permanent"]
    assert f"Zeitüberschreitung nach {TRANSPORT_TIMEOUT} s" in second["error"] and not second["permanent"]
    assert {request.header("Idempotency-Key") for request in received} == {created["id"]}
    assert spec.reference in detail["events"][-1]["message"]
    order = EarmouldOrder.objects.get(pk=created["id"])
    assert order.ordered_at is not None and order.dispatch.state == "done"
    spec.extra_checks(order)


def credential_checking_lab(spec, *answers):
    """A lab that refuses wrong credentials (401) and otherwise gives ``answers`` in turn."""
    pending = list(answers)

    def lab(request):
        if request.header("Authorization") != spec.authorization(GOOD_SECRET):
            return Reply.json({"message": "Zugangsdaten ungültig"}, status=401)
        return answer(pending.pop(0), request)

    return lab


@pytest.mark.parametrize("spec", LABS, ids=str)
def test_refusals_fail_readably_and_resend_after_the_fix_delivers(
    spec, lab_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte, customer
):
    supplier = lab_supplier(spec.lab_name, mitte, spec.account)
    definition = configure(admin_api, spec.backend, supplier, spec.options(lab_peer.url, WRONG_SECRET))
    lab_peer.script(
        credential_checking_lab(spec, spec.refusal, spec.accept), method="POST", path=spec.path, repeat=True
    )

    created = place(staff_api, transaction_obj, supplier)

    # Wrong password: failed at once (no retry can fix credentials), in words staff understand.
    detail = wait_for_order(staff_api, created["id"], "failed", "confirmed")
    assert detail["status"] == "failed"
    assert detail["failure_reason"] == (
        "Das Labor hat die Zugangsdaten abgelehnt (HTTP 401). Bitte die Zugangsdaten der Schnittstelle prüfen."
    )
    assert outcomes(detail) == ["permanent_error"] and detail["attempts"][0]["permanent"]
    assert len(lab_peer.requests_to(spec.path)) == 1

    # dave enters the right secret (the other options unchanged); alice sends again.
    reconfigured = reconfigure(admin_api, definition, spec.options(lab_peer.url, GOOD_SECRET))
    assert "password" not in reconfigured["options"] and "api_key" not in reconfigured["options"]
    resend(staff_api, created["id"])

    # Now the lab reads the order and refuses its data, with its own message shown to staff.
    detail = wait_for_order(staff_api, created["id"], "failed", "confirmed")
    assert len(detail["attempts"]) == 2, detail["attempts"]
    assert detail["status"] == "failed"
    assert detail["failure_reason"] == f"Das Labor hat die Anfrage abgelehnt (HTTP 400): {spec.refusal_message}"

    # The lab fixed its side; alice sends once more.
    resend(staff_api, created["id"])

    detail = wait_for_order(staff_api, created["id"], "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["failure_reason"]
    assert detail["external_reference"] == spec.reference
    assert detail["failure_reason"] == ""
    received = lab_peer.requests_to(spec.path)
    assert len(received) == 3
    assert received[0].header("Authorization") == spec.authorization(WRONG_SECRET)
    for request in received[1:]:
        assert request.header("Authorization") == spec.authorization(GOOD_SECRET)
    for request in received:
        assert_arrived(spec, request, created, customer)
    assert statuses(detail) == [
        "queued", "sending", "failed",
        "queued", "sending", "failed",
        "queued", "sending", "confirmed",
    ]  # fmt: skip
    assert outcomes(detail) == ["permanent_error", "permanent_error", "confirmed"]
    spec.extra_checks(EarmouldOrder.objects.get(pk=created["id"]))


# --- the labs' answers coming back ----------------------------------------------------------------


def test_dreve_progress_comes_back_by_the_workers_status_poll(
    lab_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte
):
    supplier = lab_supplier(DREVE.lab_name, mitte, DREVE.account)
    configure(admin_api, DREVE.backend, supplier, DREVE.options(lab_peer.url, GOOD_SECRET))
    lab_peer.script(DREVE.accept, method="POST", path=DREVE.path)
    status_path = f"{DREVE.path}/{DREVE.reference}"
    lab_peer.script(
        Reply.json({"order_number": DREVE.reference, "status": "shipped", "tracking_number": "00340434161234567890"}),
        method="GET",
        path=status_path,
    )
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    poll_labs.delay()  # what beat publishes every OTOORDER_POLL_INTERVAL seconds

    detail = wait_for_order(staff_api, created["id"], "shipped")
    (poll,) = lab_peer.requests_to(status_path, "GET")
    assert poll.header("Authorization") == DREVE.authorization(GOOD_SECRET)
    event = detail["events"][-1]
    assert (event["code"], event["message"]) == (
        "lab_status",
        "Statusmeldung des Labors: shipped Auftragsnummer des Labors: SO-2026-0042. Sendungsnummer: 00340434161234567890.",
    )
    assert EarmouldOrder.objects.get(pk=created["id"]).tracking_number == "00340434161234567890"


def egger_dispatchnotification(order_number):
    """The official example DISPATCHNOTIFICATION, for our order and egger's number."""
    root = etree.parse(str(opentrans_examples() / "dispatchnotification_example.xml")).getroot()
    for element in root.iterfind(".//ot:ORDER_REFERENCE/ot:ORDER_ID", NS):
        element.text = order_number
    for element in root.iterfind(".//ot:SUPPLIER_ORDER_REFERENCE/ot:SUPPLIER_ORDER_ID", NS):
        element.text = EGGER_REFERENCE
    schema = _schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_egger_dispatch_notification_comes_back_by_signed_callback(
    live_server, lab_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte
):
    supplier = lab_supplier(EGGER.lab_name, mitte, EGGER.account)
    options = EGGER.options(lab_peer.url, GOOD_SECRET)
    definition = configure(admin_api, EGGER.backend, supplier, options)
    lab_peer.script(EGGER.accept, method="POST", path=EGGER.path)
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    body = egger_dispatchnotification(created["number"])
    headers = {
        "Content-Type": "application/xml",
        "X-Otoorder-Signature": signing.sign(options["shared_secret"], body),
    }
    url = f"{live_server.url}/api/v1/callbacks/{definition['id']}/"
    response = requests.post(url, data=body, headers=headers, timeout=10)

    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 1, "unchanged": 0}
    detail = wait_for_order(staff_api, created["id"], "shipped", timeout=5)
    assert detail["external_reference"] == EGGER_REFERENCE
    assert "1Z7318301287125572" in detail["events"][-1]["message"]
    assert EarmouldOrder.objects.get(pk=created["id"]).tracking_number == "1Z7318301287125572"
    # The same signed request again is a replay: refused, nothing changes.
    replay = requests.post(url, data=body, headers=headers, timeout=10)
    assert replay.status_code == 400 and replay.json()["code"] == "replayed"
    assert len(staff_api.get(f"orders/{created['id']}/").json()["events"]) == len(detail["events"])
