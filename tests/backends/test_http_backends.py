"""The three HTTP lab backends against a real HTTP lab on 127.0.0.1.

Each backend is instantiated directly with options pointing at the lab; what arrived at the
lab is read back from the lab's records (headers, body), what came back from the backend's
``DispatchResult`` or error.
"""

import base64
import json
import socket
from dataclasses import asdict, replace

import pytest
from lxml import etree

from otoorder.backends.audia_easy_order import STATUS_TABLE as AUDIA_STATUSES
from otoorder.backends.audia_easy_order import AudiaEasyOrderBackend
from otoorder.backends.base import ConnectionCheck
from otoorder.backends.document import ItemDocument, PartyDocument, ScanDocument
from otoorder.backends.dreve_smartorder import STATUS_TABLE as DREVE_STATUSES
from otoorder.backends.dreve_smartorder import DreveSmartOrderBackend
from otoorder.backends.exceptions import (
    ConfigurationError,
    PermanentError,
    TransientError,
)
from otoorder.backends.hoerluchs_partner import (
    STATUS_TABLE as HOERLUCHS_STATUSES,
)
from otoorder.backends.hoerluchs_partner import HoerluchsPartnerBackend
from otoorder.backends.result import ResultStatus
from otoorder.orders.choices import OrderStatus
from tests.documents import order_document, stored
from tests.labs.http_lab import Reply

ORDER_ID = "6f1c2d8e-0000-4000-8000-000000000042"
API_KEY = "dreve-key-123"
USER, PASSWORD = "filiale-mitte", "geheim-456"


def document(**overrides):
    return order_document(
        **{
            "order_id": ORDER_ID,
            "order_type": "remake",
            "branch": PartyDocument(
                name="Filiale Mitte",
                address_lines=("Hauptstraße 1", "10115 Berlin"),
                email="mitte@hoerakustik.test",
                phone="030 123456",
            ),
            "notes": "Bitte weiche Kante.",
            **overrides,
        }
    )


def dreve(lab, **options):
    return DreveSmartOrderBackend({"endpoint_url": lab.url + "/api/v1", "api_key": API_KEY, **options}, timeout=0.5)


def hoerluchs(lab, backend_class=HoerluchsPartnerBackend):
    return backend_class({"endpoint_url": lab.url, "username": USER, "password": PASSWORD}, timeout=0.5)


def audia(lab):
    return AudiaEasyOrderBackend({"endpoint_url": lab.url + "/easyorder/", "username": USER, "password": PASSWORD}, timeout=0.5)


def basic_auth(user=USER, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def refused_url():
    """An address on loopback where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# What each backend sends where, for the shared error-classification tests.
BACKENDS = {
    "dreve": (dreve, "/api/v1/orders"),
    "hoerluchs": (hoerluchs, "/auftraege"),
    "audia": (audia, "/easyorder/orders"),
}


# --- Dreve SmartOrder -------------------------------------------------------------------


def test_dreve_sends_the_whole_order_as_json_with_key_and_bearer(http_lab):
    http_lab.script(Reply.json({"order_number": "D-2026-777", "status": "received"}, status=201), path="/api/v1/orders")

    result = dreve(http_lab).send(document())

    [request] = http_lab.requests
    assert (request.method, request.path) == ("POST", "/api/v1/orders")
    assert request.header("Idempotency-Key") == ORDER_ID
    assert request.header("Authorization") == f"Bearer {API_KEY}"
    assert request.header("Content-Type").startswith("application/json")
    body = request.json()
    doc = document()
    assert body == {
        "format_version": "1",
        "order_id": ORDER_ID,
        "order_number": "OT-2026-000042",
        "order_type": "remake",
        "priority": "express",
        "created_at": "2026-11-24T09:30:00+00:00",
        "date_required": "2026-12-05",
        "account_number": "K-4711",
        "customer_reference": "EM-10001",
        "prescriber": "Alice Akustik",
        "notes": "Bitte weiche Kante.",
        "original_order_number": "",
        "reason": "",
        "branch": {
            "name": "Filiale Mitte",
            "address_lines": ["Hauptstraße 1", "10115 Berlin"],
            "email": "mitte@hoerakustik.test",
            "phone": "030 123456",
        },
        "items": [asdict(item) for item in doc.items],
    }
    assert set(body["items"][0]) == set(ItemDocument.__dataclass_fields__)
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "D-2026-777"
    assert result.external_status == "received"
    assert "D-2026-777" in result.message
    assert '"D-2026-777"' in result.raw_response
    assert result.request_summary["idempotency_key"] == ORDER_ID
    assert "EM-10001" not in str(result.request_summary)


def test_dreve_empty_2xx_means_ordered_without_number(http_lab):
    http_lab.script(Reply.empty(202))

    result = dreve(http_lab).send(document(date_required=None))

    assert result.status == ResultStatus.ORDERED
    assert result.external_reference == ""
    assert http_lab.requests[0].json()["date_required"] is None


def test_dreve_answer_rejected_is_a_rejection_with_the_labs_reason(http_lab):
    http_lab.script(Reply.json({"order_number": "D-1", "status": "rejected", "message": "Abdruck unbrauchbar"}))

    result = dreve(http_lab).send(document())

    assert result.status == ResultStatus.REJECTED
    assert "Abdruck unbrauchbar" in result.message


def test_a_2xx_the_format_does_not_allow_fails_visibly(http_lab):
    http_lab.script(Reply.text("<html>Willkommen bei Dreve</html>", content_type="text/html"))

    with pytest.raises(PermanentError) as raised:
        dreve(http_lab).send(document())

    assert "Adresse der Schnittstelle" in raised.value.message
    assert "Willkommen" in raised.value.response


@pytest.mark.parametrize(
    "lab_status, ours",
    [
        ("pending", OrderStatus.ORDERED),
        ("received", OrderStatus.CONFIRMED),
        ("accepted", OrderStatus.CONFIRMED),
        ("in_production", OrderStatus.IN_PRODUCTION),
        ("shipped", OrderStatus.SHIPPED),
        ("rejected", OrderStatus.REJECTED_BY_LAB),
        ("SHIPPED", OrderStatus.SHIPPED),
    ],
)
def test_dreve_status_poll_maps_through_the_one_table(http_lab, lab_status, ours):
    http_lab.script(Reply.json({"order_number": "D/2026 7", "status": lab_status, "tracking_number": "00340434"}))

    update = dreve(http_lab).poll_status("D/2026 7")

    [request] = http_lab.requests
    assert (request.method, request.path) == ("GET", "/api/v1/orders/D%2F2026%207")
    assert request.header("Authorization") == f"Bearer {API_KEY}"
    assert update.status == ours
    assert update.external_status == lab_status
    assert update.external_reference == "D/2026 7"
    assert update.tracking_number == "00340434"
    assert update.message
    assert "00340434" in update.raw_response


def test_dreve_shipped_poll_names_the_tracking_number(http_lab):
    http_lab.script(Reply.json({"order_number": "D-1", "status": "shipped", "tracking_number": "00340434", "carrier": "DHL"}))

    update = dreve(http_lab).poll_status("D-1")

    assert update.message == "Vom Labor versandt, Sendungsnummer 00340434."
    assert update.data == {"carrier": "DHL"}


def test_dreve_unknown_lab_status_changes_nothing(http_lab):
    http_lab.script(Reply.json({"order_number": "D-1", "status": "paused_by_qa"}))

    update = dreve(http_lab).poll_status("D-1")

    assert update.status is None
    assert update.external_status == "paused_by_qa"
    assert "paused_by_qa" in update.message


def test_dreve_poll_of_an_order_unknown_to_the_lab_is_permanent(http_lab):
    http_lab.script(Reply.json({"message": "order not found"}, status=404))

    with pytest.raises(PermanentError, match="order not found"):
        dreve(http_lab).poll_status("D-404")


def test_dreve_declares_its_capabilities():
    assert DreveSmartOrderBackend.supports_status_poll is True
    assert DreveSmartOrderBackend.accepts_scans is False
    assert HoerluchsPartnerBackend.accepts_scans is True
    assert not AudiaEasyOrderBackend.supports_status_poll


def test_every_status_table_maps_to_real_order_statuses():
    for table in (DREVE_STATUSES, HOERLUCHS_STATUSES, AUDIA_STATUSES):
        assert {ours for _lab, ours in table} <= set(OrderStatus.values)


# --- Hörluchs-Partner -------------------------------------------------------------------


def test_hoerluchs_sends_multipart_with_the_order_json_and_basic_auth(http_lab):
    http_lab.script(Reply.json({"auftragsnummer": "HL-99812", "status": "angenommen"}, status=201), path="/auftraege")

    result = hoerluchs(http_lab).send(document())

    [request] = http_lab.requests
    assert (request.method, request.path) == ("POST", "/auftraege")
    assert request.header("Idempotency-Key") == ORDER_ID
    assert request.header("Authorization") == basic_auth()
    assert request.header("Content-Type").startswith("multipart/form-data; boundary=")
    parts = request.multipart()
    assert set(parts) == {"order"}
    [(filename, content_type, content)] = parts["order"]
    assert (filename, content_type) == ("order.json", "application/json")
    order = json.loads(content)
    assert {key: value for key, value in order.items() if key not in ("positionen", "filiale")} == {
        "format_version": "1",
        "bestell_id": ORDER_ID,
        "bestellnummer": "OT-2026-000042",
        "auftragsart": "remake",
        "prioritaet": "express",
        "erstellt_am": "2026-11-24T09:30:00+00:00",
        "liefertermin": "2026-12-05",
        "kundennummer": "K-4711",
        "kundenreferenz": "EM-10001",
        "verordner": "Alice Akustik",
        "bemerkung": "Bitte weiche Kante.",
        "ursprungsauftrag": "",
        "grund": "",
        "scans": [],
    }
    assert order["filiale"] == {
        "name": "Filiale Mitte",
        "anschrift": ["Hauptstraße 1", "10115 Berlin"],
        "email": "mitte@hoerakustik.test",
        "telefon": "030 123456",
    }
    right, left = order["positionen"]
    assert right == {
        "seite": "right",
        "seite_text": "rechts",
        "produktfamilie": "bte",
        "produktfamilie_text": "HdO-Otoplastik mit Schlauch",
        "bauform": "shell",
        "bauform_text": "Schale",
        "material": "acrylic",
        "material_text": "Acryl hart",
        "farbe": "transparent",
        "zusatzbohrung": "parallel",
        "zusatzbohrung_text": "parallel",
        "bohrung_mm": "1.5",
        "schlauch": "standard_2_1",
        "schlauch_text": "Standard 2,1 mm",
        "hoerer_staerke": "",
        "hoerer_laenge": "",
        "menge": 1,
        "abdruck": "Abdruck 2026-11-20 rechts",
        "bemerkung": "rechts enger",
        "hoerer_typ": "",
        "shore_a": "",
        "oberflaeche": "glossy",
        "oberflaeche_text": "glänzend",
        "akustik_modifikation": "libby_3",
        "akustik_modifikation_text": "Libby-Horn 3 mm",
        "gehoergangslaenge": "medium",
        "gehoergangslaenge_text": "mittel",
        "filter": "",
        "filter_text": "",
        "rueckholfaden": False,
        "gravur": "EM R",
        "abdruck_art": "physical",
        "abdruck_art_text": "Abdruck (Silikon, per Post)",
        "abdruck_etikett": "Box 17",
        "abdruck_sendungsnummer": "JJD000123",
        "scan_datei": "",
        "scan_format": "",
        "scan_sha256": "",
        "labor_codes": {},
    }
    assert (left["seite"], left["hoerer_staerke"], left["hoerer_laenge"], left["menge"]) == ("left", "M", "2", 2)
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "HL-99812"
    assert result.external_status == "angenommen"
    assert result.request_summary["scans"] == 0


def test_hoerluchs_sends_scan_files_as_parts(http_lab, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "private"
    scans = (
        ScanDocument("rechts.stl", stored("scans/r.stl", b"solid right\nendsolid right\n"), side="right", content_type="model/stl"),
        ScanDocument("links.stl", stored("scans/l.stl", b"\x00\x01binary-stl"), side="left", content_type="model/stl"),
    )

    http_lab.script(Reply.empty(204))

    result = hoerluchs(http_lab).send(replace(document(), scans=scans))

    parts = http_lab.requests[0].multipart()
    assert parts["scan"] == [
        ("rechts.stl", "model/stl", b"solid right\nendsolid right\n"),
        ("links.stl", "model/stl", b"\x00\x01binary-stl"),
    ]
    order = json.loads(parts["order"][0][2])
    assert order["scans"] == [{"dateiname": "rechts.stl", "seite": "right"}, {"dateiname": "links.stl", "seite": "left"}]
    assert result.status == ResultStatus.ORDERED
    assert result.request_summary["scans"] == 2


def test_hoerluchs_error_message_in_german_key_is_shown(http_lab):
    http_lab.script(Reply.json({"fehler": "Kundennummer K-4711 unbekannt"}, status=422))

    with pytest.raises(PermanentError) as raised:
        hoerluchs(http_lab).send(document())

    assert raised.value.message == "Das Labor hat die Anfrage abgelehnt (HTTP 422): Kundennummer K-4711 unbekannt"
    assert raised.value.status_code == 422


# --- Audia Easy Order -------------------------------------------------------------------

AUDIA_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<EasyOrderResponse version="1">
  <OrderNumber>AU-2026-5501</OrderNumber>
  <Status>accepted</Status>
  <Bestelldaten>
    <Ear side="right">
      <Style>shell</Style>
      <Material>acrylic</Material>
      <Colour>transparent</Colour>
      <VentDiameterMm>1.2</VentDiameterMm>
    </Ear>
    <Ear side="left">
      <Style>canal</Style>
      <Material>silicone</Material>
      <Colour>beige</Colour>
      <SurfaceFinish>lackiert</SurfaceFinish>
    </Ear>
  </Bestelldaten>
</EasyOrderResponse>
"""


def test_audia_sends_xml_and_takes_number_and_properties(http_lab):
    http_lab.script(Reply.xml(AUDIA_ANSWER), path="/easyorder/orders")

    result = audia(http_lab).send(document())

    [request] = http_lab.requests
    assert (request.method, request.path) == ("POST", "/easyorder/orders")
    assert request.header("Idempotency-Key") == ORDER_ID
    assert request.header("Authorization") == basic_auth()
    assert request.header("Content-Type") == "application/xml; charset=utf-8"
    root = etree.fromstring(request.body)
    assert root.tag == "EasyOrder" and root.get("version") == "1"
    assert {child.tag: child.text for child in root if child.tag not in ("Branch", "Items")} == {
        "IdempotencyKey": ORDER_ID,
        "OrderNumber": "OT-2026-000042",
        "OrderType": "remake",
        "Priority": "express",
        "CreatedAt": "2026-11-24T09:30:00+00:00",
        "DateRequired": "2026-12-05",
        "CustomerAccount": "K-4711",
        "CustomerReference": "EM-10001",
        "Prescriber": "Alice Akustik",
        "Notes": "Bitte weiche Kante.",
    }
    assert [line.text for line in root.iterfind("Branch/AddressLine")] == ["Hauptstraße 1", "10115 Berlin"]
    assert root.findtext("Branch/Name") == "Filiale Mitte"
    assert root.findtext("Branch/Email") == "mitte@hoerakustik.test"
    assert root.findtext("Branch/Phone") == "030 123456"
    right, left = root.iterfind("Items/Item")
    assert (right.get("side"), right.get("sideLabel")) == ("right", "rechts")
    assert {child.tag: (child.text, child.get("label")) for child in right} == {
        "ProductFamily": ("bte", "HdO-Otoplastik mit Schlauch"),
        "Style": ("shell", "Schale"),
        "Material": ("acrylic", "Acryl hart"),
        "Colour": ("transparent", None),
        "VentType": ("parallel", "parallel"),
        "VentDiameterMm": ("1.5", None),
        "Tube": ("standard_2_1", "Standard 2,1 mm"),
        "SurfaceFinish": ("glossy", "glänzend"),
        "AcousticModification": ("libby_3", "Libby-Horn 3 mm"),
        "CanalLength": ("medium", "mittel"),
        "Engraving": ("EM R", None),
        "Quantity": ("1", None),
        "Impression": ("Abdruck 2026-11-20 rechts", None),
        "Notes": ("rechts enger", None),
        "ImpressionDetails": (right.find("ImpressionDetails").text, "Abdruck (Silikon, per Post)"),
    }
    assert right.find("ImpressionDetails").get("kind") == "physical"
    assert {c.tag: c.text for c in right.find("ImpressionDetails")} == {
        "BoxLabel": "Box 17",
        "TrackingNumber": "JJD000123",
    }
    assert (left.findtext("ReceiverPower"), left.findtext("ReceiverLength"), left.findtext("Quantity")) == ("M", "2", "2")
    assert left.find("Tube") is None  # empty values are left out

    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "AU-2026-5501"
    assert result.external_status == "accepted"
    assert result.data == {
        "properties": {
            "right": {"style": "shell", "material": "acrylic", "colour": "transparent", "vent_diameter_mm": "1.2"},
            "left": {"style": "canal", "material": "silicone", "colour": "beige", "surface_finish": "lackiert"},
        }
    }
    assert "AU-2026-5501" in result.raw_response


def test_audia_empty_answer_means_ordered(http_lab):
    http_lab.script(Reply.empty(200))

    result = audia(http_lab).send(document(date_required=None))

    assert result.status == ResultStatus.ORDERED and result.data == {}
    assert etree.fromstring(http_lab.requests[0].body).find("DateRequired") is None


def test_audia_xml_error_message_is_shown(http_lab):
    http_lab.script(
        Reply.xml("<EasyOrderError><Code>E104</Code><Message>Material für Bauform nicht lieferbar</Message></EasyOrderError>", status=400)
    )

    with pytest.raises(PermanentError) as raised:
        audia(http_lab).send(document())

    assert raised.value.message.endswith(": Material für Bauform nicht lieferbar")
    assert "E104" in raised.value.response


def test_audia_refuses_entities_in_the_answer(http_lab):
    answer = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<EasyOrderResponse><OrderNumber>&x;</OrderNumber></EasyOrderResponse>"
    )
    http_lab.script(Reply.xml(answer))

    result = audia(http_lab).send(document())

    assert result.external_reference == ""
    assert result.status == ResultStatus.ORDERED


def test_audia_answer_of_another_format_fails_visibly(http_lab):
    http_lab.script(Reply.xml("<Something/>"))

    with pytest.raises(PermanentError, match="nicht lesbar"):
        audia(http_lab).send(document())


# --- errors, the same for all three -------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_5xx_is_transient_and_keeps_the_answer(http_lab, name):
    make, path = BACKENDS[name]
    http_lab.script(Reply.text("Wartungsarbeiten", status=503))

    with pytest.raises(TransientError) as raised:
        make(http_lab).send(document())

    assert raised.value.message == "Das Labor meldet eine vorübergehende Störung (HTTP 503)."
    assert raised.value.response == "Wartungsarbeiten"
    assert raised.value.permanent is False
    assert http_lab.requests[0].path == path


@pytest.mark.parametrize("name", BACKENDS)
def test_429_is_transient(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.status(429))

    with pytest.raises(TransientError):
        make(http_lab).send(document())


@pytest.mark.parametrize("name", BACKENDS)
def test_a_lab_that_does_not_answer_is_transient(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.stalled(5))

    with pytest.raises(TransientError, match=r"Zeitüberschreitung nach 0.5 s"):
        make(http_lab).send(document())


@pytest.mark.parametrize("name", BACKENDS)
def test_4xx_is_permanent_with_the_labs_message(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.json({"message": "Kundennummer fehlt"}, status=400))

    with pytest.raises(PermanentError) as raised:
        make(http_lab).send(document())

    assert raised.value.permanent is True
    assert raised.value.message == "Das Labor hat die Anfrage abgelehnt (HTTP 400): Kundennummer fehlt"
    assert "Kundennummer fehlt" in raised.value.response


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("code", [401, 403])
def test_rejected_credentials_are_a_configuration_error(http_lab, name, code):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.json({"message": "invalid credentials"}, status=code))

    with pytest.raises(ConfigurationError) as raised:
        make(http_lab).send(document())

    assert raised.value.message.startswith(f"Das Labor hat die Zugangsdaten abgelehnt (HTTP {code})")
    assert raised.value.permanent is True


@pytest.mark.parametrize("name", BACKENDS)
def test_redirects_are_not_followed(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.status(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}))

    with pytest.raises(ConfigurationError, match="leitet die Anfrage um"):
        make(http_lab).send(document())

    assert len(http_lab.requests) == 1


@pytest.mark.parametrize("name", BACKENDS)
def test_connection_refused_is_transient(name):
    make, _path = BACKENDS[name]

    class Nowhere:
        url = refused_url()

    with pytest.raises(TransientError, match="nicht erreichbar"):
        make(Nowhere).send(document())


@pytest.mark.parametrize("name", BACKENDS)
def test_retry_after_a_failure_carries_the_same_idempotency_key(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.status(500), Reply.empty(204))
    backend = make(http_lab)

    with pytest.raises(TransientError):
        backend.send(document())
    assert backend.send(document()).status == ResultStatus.ORDERED

    assert [r.header("Idempotency-Key") for r in http_lab.requests] == [ORDER_ID, ORDER_ID]


@pytest.mark.parametrize("name", BACKENDS)
def test_an_order_without_items_is_refused_before_sending(http_lab, name):
    make, _path = BACKENDS[name]

    with pytest.raises(PermanentError, match="keine Position"):
        make(http_lab).send(document(items=()))

    assert http_lab.requests == []


# --- "Verbindung testen" ------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_connection_test_ok(http_lab, name):
    make, path = BACKENDS[name]
    ping = path.rsplit("/", 1)[0] + "/ping"
    http_lab.script(Reply.json({"ok": True}), method="GET", path=ping)

    check = make(http_lab).test_connection()

    assert isinstance(check, ConnectionCheck)
    assert check.ok, check.message
    [request] = http_lab.requests
    assert (request.method, request.path) == ("GET", ping)
    expected = f"Bearer {API_KEY}" if name == "dreve" else basic_auth()
    assert request.header("Authorization") == expected


@pytest.mark.parametrize("name", BACKENDS)
def test_connection_test_reports_rejected_credentials(http_lab, name):
    make, _path = BACKENDS[name]
    http_lab.script(Reply.status(401))

    check = make(http_lab).test_connection()

    assert check.ok is False
    assert "Zugangsdaten abgelehnt" in check.message


@pytest.mark.parametrize("name", BACKENDS)
def test_connection_test_reports_an_unreachable_lab(name):
    make, _path = BACKENDS[name]

    class Nowhere:
        url = refused_url()

    check = make(Nowhere).test_connection()

    assert check.ok is False
    assert check.message == "Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."


# --- options ------------------------------------------------------------------------------

VALID_OPTIONS = {
    DreveSmartOrderBackend: {"endpoint_url": "https://smartorder.dreve.example/api/v1", "api_key": API_KEY},
    HoerluchsPartnerBackend: {"endpoint_url": "https://partner.hoerluchs.example", "username": USER, "password": PASSWORD},
    AudiaEasyOrderBackend: {"endpoint_url": "https://easyorder.audia.example", "username": USER, "password": PASSWORD},
}


@pytest.mark.parametrize("backend_class", VALID_OPTIONS)
def test_https_and_loopback_addresses_are_accepted(backend_class):
    backend_class(VALID_OPTIONS[backend_class])
    backend_class({**VALID_OPTIONS[backend_class], "endpoint_url": "http://localhost:8025/lab"})


@pytest.mark.parametrize("backend_class", VALID_OPTIONS)
def test_plain_http_to_a_real_host_is_refused(backend_class):
    with pytest.raises(ConfigurationError, match="https://"):
        backend_class({**VALID_OPTIONS[backend_class], "endpoint_url": "http://lab.example"})


@pytest.mark.parametrize("backend_class", VALID_OPTIONS)
def test_unknown_and_missing_options_are_named(backend_class):
    with pytest.raises(ConfigurationError, match="Unbekannte Option „proxy“"):
        backend_class({**VALID_OPTIONS[backend_class], "proxy": "x"})
    incomplete = dict(VALID_OPTIONS[backend_class])
    secret = "api_key" if backend_class is DreveSmartOrderBackend else "password"
    del incomplete[secret]
    label = backend_class.options_schema().by_name[secret].label
    with pytest.raises(ConfigurationError, match=f"Die Option „{label}“ fehlt"):
        backend_class(incomplete)


@pytest.mark.parametrize("backend_class", VALID_OPTIONS)
def test_secrets_are_write_only_in_the_schema(backend_class):
    schema = backend_class.options_schema()
    assert schema.secret_names == ["api_key" if backend_class is DreveSmartOrderBackend else "password"]
    assert [o.name for o in schema][0] == "endpoint_url"


def test_backends_ignore_proxies_from_the_environment(http_lab, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", refused_url())
    monkeypatch.setenv("NO_PROXY", "")
    http_lab.script(Reply.empty(204))

    assert dreve(http_lab).send(document()).status == ResultStatus.ORDERED


def test_document_helper_is_complete():
    """Every item field the formats carry is filled in the test document (so the checks bite)."""
    right = document().items[0]
    empty = {name for name, value in asdict(right).items() if value in ("", None)}
    assert empty == {
        "receiver_power",
        "receiver_length",
        "receiver_type",
        "shore_hardness",
        "protection_filter",
        "protection_filter_label",
        "scan_format",
        "scan_sha256",
        "scan_file_name",
    }
