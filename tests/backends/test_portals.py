"""The browser-portal backends (audia Easy Order Web-Portal, egger Bestellsystem): send, the
signed hand-off, the portal's callback and "Verbindung testen" against a real HTTP server."""

import hashlib
import hmac
import json
import socket
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest

from otoorder.backends import registry
from otoorder.backends.audia_easy_order_portal import AudiaEasyOrderPortalBackend
from otoorder.backends.base import BaseBackend
from otoorder.backends.egger_bestellsystem import EggerBestellsystemBackend
from otoorder.backends.exceptions import ConfigurationError, PermanentError, TransientError
from otoorder.backends.labstatus import StatusUpdate
from otoorder.backends.portal import STATUS_TABLE, PortalBackend, verify_handoff
from otoorder.backends.result import ResultStatus
from otoorder.backends.signing import SignatureError
from otoorder.orders.choices import OrderStatus
from tests.documents import order_document
from tests.labs.http_lab import Reply

SECRET = "portal-geheimnis-1"
PORTAL = "https://portal.audia.example/otoorder"
ORDER_ID = "6f1c2d8e-0000-4000-8000-000000000001"
RETURN_URL = "https://otoorder.example/bestellungen/6f1c2d8e-0000-4000-8000-000000000001/"
CALLBACK_URL = "https://otoorder.example/api/v1/callbacks/1b2c3d4e-0000-4000-8000-000000000009/"
NOW = 1_795_000_000
PORTALS = [AudiaEasyOrderPortalBackend, EggerBestellsystemBackend]


def backend(cls=AudiaEasyOrderPortalBackend, **options):
    return cls({"portal_url": PORTAL, "shared_secret": SECRET, **options})


def handoff(cls=AudiaEasyOrderPortalBackend, document=None, **kwargs):
    url = backend(cls).handoff_url(
        document or order_document(), return_url=RETURN_URL, callback_url=CALLBACK_URL, now=NOW, **kwargs
    )
    return url, urlsplit(url)


def callback(**fields):
    body = {
        "order_id": ORDER_ID,
        "order_number": "AEO-778899",
        "status": "confirmed",
        "properties": {
            "right": {"form": "Concha", "material": "Acryl hart", "vent_mm": 1.5},
            "left": {"form": "Gehörgang", "material": "Silikon 40 Shore"},
        },
        "message": "Danke für Ihre Bestellung.",
    }
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


# --- identity and options ------------------------------------------------------------------


@pytest.mark.parametrize("cls", PORTALS)
def test_portals_are_registered_available_and_declare_their_capabilities(cls):
    assert registry.get_backend_class(cls.key) is cls
    assert issubclass(cls, PortalBackend) and cls.available
    assert cls.needs_browser_handoff and cls.supports_callback
    assert not cls.supports_status_poll and not cls.accepts_scans
    assert [o.name for o in cls.options_schema()] == ["portal_url", "shared_secret"]
    assert cls.options_schema().secret_names == ["shared_secret"]


def test_egger_portal_is_legacy_with_a_notice_and_audia_is_not():
    notice = str(EggerBestellsystemBackend.notice)
    assert EggerBestellsystemBackend.legacy
    assert "Egger ERP Bestellung" in notice and "15.11.2019" in notice
    assert not AudiaEasyOrderPortalBackend.legacy and not AudiaEasyOrderPortalBackend.notice


def test_registry_has_no_unavailable_backend_left():
    assert all(cls.available for cls in registry.all_backend_classes())


@pytest.mark.parametrize(
    "url",
    ["http://portal.audia.example/", "https://portal.audia.example/?lang=de", "https://portal.audia.example/#x", "kein-url"],
)
def test_bad_portal_urls_are_refused(url):
    with pytest.raises(ConfigurationError, match="Adresse des Portals"):
        backend(portal_url=url)


def test_missing_secret_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="Gemeinsames Geheimnis"):
        AudiaEasyOrderPortalBackend({"portal_url": PORTAL})


# --- send ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", PORTALS)
def test_send_awaits_the_portal_without_network_or_personal_data(cls):
    # Port 9 (discard) is closed on loopback: any network call would fail the send.
    result = cls({"portal_url": "http://127.0.0.1:9/portal", "shared_secret": SECRET}).send(order_document())
    assert result.status == ResultStatus.AWAITING_PORTAL
    assert "Im Portal fortsetzen" in result.message and cls.label in result.message
    assert result.request_summary == {
        "transport": "browser hand-off",
        "portal": "http://127.0.0.1:9/portal",
        "order_number": "OT-2026-000042",
        "items": 2,
        "sides": ["right", "left"],
    }
    assert not result.external_reference and not result.raw_response and result.data == {}
    summary = json.dumps(result.request_summary)
    assert "EM-10001" not in summary and "Mitte" not in summary


def test_send_refuses_an_order_without_items():
    with pytest.raises(PermanentError):
        backend().send(order_document(items=()))


# --- the hand-off --------------------------------------------------------------------------


def test_handoff_url_carries_the_order_context():
    url, parts = handoff()
    assert url.startswith(PORTAL + "?")
    params = dict(parse_qsl(parts.query))
    assert params == {
        "version": "1",
        "order_id": ORDER_ID,
        "order_number": "OT-2026-000042",
        "order_type": "new",
        "priority": "express",
        "date_required": "2026-12-05",
        "account": "K-4711",
        "branch": "Filiale Mitte",
        "customer_reference": "EM-10001",
        "prescriber": "Alice Akustik",
        "sides": "right,left",
        "return_url": RETURN_URL,
        "callback_url": CALLBACK_URL,
        "expires": str(NOW + 900),
        "right_product_family": "bte",
        "right_style": "shell",
        "right_material": "acrylic",
        "right_colour": "transparent",
        "right_vent_type": "parallel",
        "right_vent_diameter_mm": "1.5",
        "right_tube": "standard_2_1",
        "right_quantity": "1",
        "right_impression": "Abdruck 2026-11-20 rechts",
        "right_notes": "rechts enger",
        "right_surface_finish": "glossy",
        "right_acoustic_modification": "libby_3",
        "right_canal_length": "medium",
        "right_engraving": "EM R",
        "right_impression_kind": "physical",
        "right_impression_reference": "Box 17",
        "right_impression_tracking_number": "JJD000123",
        "left_product_family": "ric",
        "left_style": "canal",
        "left_material": "silicone",
        "left_colour": "beige",
        "left_vent_type": "none",
        "left_receiver_power": "M",
        "left_receiver_length": "2",
        "left_quantity": "2",
        "left_impression": "Scan 2026-11-20 links",
        "left_shore_hardness": "40",
        "left_receiver_type": "Phonak M-Hörer",
        "left_canal_length": "long",
        "left_extraction_cord": "true",
        "left_impression_kind": "scan",
        "left_scan_format": "stl_binary",
        "left_scan_sha256": "0" * 64,
        "left_scan_file_name": "left.stl",
        "sig": params["sig"],
    }


def test_handoff_url_carries_the_labs_own_codes():
    item = replace(order_document().items[0], lab_codes={"style": "SCH-01", "material": "AC"})
    _url, parts = handoff(document=order_document(items=(item,)))
    params = dict(parse_qsl(parts.query))
    assert (params["right_style_code"], params["right_material_code"]) == ("SCH-01", "AC")


def test_send_builds_the_handoff_context_in_the_fixed_pipeline():
    portal = backend()
    assert type(portal).send is PortalBackend.send is BaseBackend.send
    assert portal.build_payload(order_document())["right_engraving"] == "EM R"


def test_handoff_query_is_canonical_and_the_signature_is_recomputable():
    """What the docs tell a portal: the signed string is the query up to ``&sig=``."""
    _url, parts = handoff()
    canonical, signature = parts.query.rsplit("&sig=", 1)
    names = [pair.split("=", 1)[0] for pair in canonical.split("&")]
    assert names == sorted(names) and "sig" not in names
    assert "return_url=https%3A%2F%2Fotoorder.example%2Fbestellungen%2F" in canonical
    assert "branch=Filiale%20Mitte" in canonical
    expected = hmac.new(SECRET.encode(), f"{NOW + 900}.{canonical}".encode(), hashlib.sha256).hexdigest()
    assert signature == expected


def test_verify_handoff_accepts_a_fresh_link_and_returns_its_parameters():
    _url, parts = handoff()
    params = verify_handoff(SECRET, parts.query, now=NOW + 899)
    assert params["order_id"] == ORDER_ID and "sig" not in params


def test_handoff_expires_after_its_ttl():
    _url, parts = handoff(ttl=60)
    assert verify_handoff(SECRET, parts.query, now=NOW + 60)
    with pytest.raises(SignatureError, match="abgelaufen"):
        verify_handoff(SECRET, parts.query, now=NOW + 61)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.replace("order_number=OT-2026-000042", "order_number=OT-2026-000043"),
        lambda q: q.replace(f"expires={NOW + 900}", f"expires={NOW + 90000}"),
        lambda q: q + "&order_id=00000000-0000-4000-8000-000000000000",
        lambda q: q.rsplit("&sig=", 1)[0],
    ],
    ids=["changed value", "extended expiry", "repeated parameter", "no signature"],
)
def test_tampered_handoff_is_refused(tamper):
    _url, parts = handoff()
    with pytest.raises(SignatureError):
        verify_handoff(SECRET, tamper(parts.query), now=NOW)


def test_handoff_signed_with_another_secret_is_refused():
    _url, parts = handoff()
    with pytest.raises(SignatureError, match="falsch"):
        verify_handoff("ein-anderes-geheimnis", parts.query, now=NOW)


def test_handoff_leaves_out_empty_values():
    _url, parts = handoff(document=order_document(supplier_account="", date_required=None))
    params = dict(parse_qsl(parts.query))
    assert "account" not in params and "date_required" not in params
    assert verify_handoff(SECRET, parts.query, now=NOW)["sides"] == "right,left"


def test_handoff_encodes_unicode_and_reserved_characters():
    document = order_document(customer_reference="ÄÖ-1&2=3 #4")
    _url, parts = handoff(document=document)
    assert "customer_reference=%C3%84%C3%96-1%262%3D3%20%234" in parts.query
    assert verify_handoff(SECRET, parts.query, now=NOW)["customer_reference"] == "ÄÖ-1&2=3 #4"


# --- the portal's callback -----------------------------------------------------------------


@pytest.mark.parametrize("cls", PORTALS)
def test_callback_with_number_and_properties(cls):
    [entry] = cls.parse_callback(callback())
    assert entry["order_id"] == ORDER_ID
    update = entry["update"]
    assert isinstance(update, StatusUpdate)
    assert update.status == OrderStatus.CONFIRMED and update.external_status == "confirmed"
    assert update.external_reference == "AEO-778899"
    assert update.data == {
        "properties": {
            "right": {"form": "Concha", "material": "Acryl hart", "vent_mm": 1.5},
            "left": {"form": "Gehörgang", "material": "Silikon 40 Shore"},
        }
    }
    assert "AEO-778899" in update.message and "Danke für Ihre Bestellung." in update.message
    assert cls.label in update.message
    assert json.loads(update.raw_response)["order_number"] == "AEO-778899"


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("ordered", "ordered"),
        ("confirmed", "confirmed"),
        ("in_production", "in_production"),
        ("shipped", "shipped"),
        ("rejected", "rejected_by_lab"),
        ("  Confirmed ", "confirmed"),
    ],
)
def test_each_portal_status_maps_through_the_table(word, status):
    [entry] = AudiaEasyOrderPortalBackend.parse_callback(callback(status=word))
    assert entry["update"].status == status
    assert STATUS_TABLE.normalise(word) == status


def test_callback_of_a_shipment_carries_the_tracking_number():
    body = callback(status="shipped", tracking_number="00340434161094042557", properties=None)
    update = AudiaEasyOrderPortalBackend.parse_callback(body)[0]["update"]
    assert update.tracking_number == "00340434161094042557" and "00340434161094042557" in update.message
    assert update.data == {}


def test_callback_ordered_without_a_number_yet():
    update = EggerBestellsystemBackend.parse_callback(callback(status="ordered", order_number=None, properties=None))[0]["update"]
    assert update.status == "ordered" and update.external_reference == ""


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"kein json",
        b"\xff\xfe",
        b"[]",
        b'"confirmed"',
        callback(order_id=None),
        callback(order_id="OT-2026-000042"),
        callback(order_id=42),
        callback(status=None),
        callback(status="vielleicht"),
        callback(status=3),
        callback(order_number=None),
        callback(order_number=12345),
        callback(properties=["right"]),
        callback(properties={"middle": {"form": "Concha"}}),
        callback(properties={"right": "Concha"}),
        callback(properties={"right": {"form": {"nested": "x"}}}),
        callback(message=["x"]),
    ],
)
def test_anything_else_is_a_value_error(body):
    with pytest.raises(ValueError):
        AudiaEasyOrderPortalBackend.parse_callback(body)


# --- "Verbindung testen" -------------------------------------------------------------------


@pytest.mark.parametrize("reply", [Reply.text("<html>Portal</html>", content_type="text/html"), Reply.status(302, headers={"Location": "/login"})])
def test_connection_test_reaches_the_portal(http_lab, reply):
    http_lab.script(reply, method="GET", path="/portal")
    check = backend(portal_url=f"{http_lab.url}/portal").test_connection()
    assert check.ok and "erreichbar" in check.message
    [request] = http_lab.requests
    assert request.method == "GET" and request.header("User-Agent") == "otoorder/audia_easy_order_portal"


@pytest.mark.parametrize(("code", "error"), [(404, PermanentError), (503, TransientError), (403, ConfigurationError)])
def test_connection_test_reports_the_portals_refusal(http_lab, code, error):
    http_lab.script(Reply.status(code), method="GET", path="/portal", repeat=True)
    portal = backend(portal_url=f"{http_lab.url}/portal")
    with pytest.raises(error):
        portal.check_connection()
    check = portal.test_connection()
    assert not check.ok and f"HTTP {code}" in check.message


def test_connection_test_without_a_portal():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = backend(EggerBestellsystemBackend, portal_url=f"http://127.0.0.1:{port}/").test_connection()
    assert not check.ok and "nicht erreichbar" in check.message
