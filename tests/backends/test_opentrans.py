"""egger ERP: openTRANS 2.1 documents against the official schema, and the backend against a
real HTTP lab on 127.0.0.1.

Every ``ORDER`` produced here is validated against the official openTRANS 2.1 schema, which
is never copied in: the tests find it through ``OTOORDER_OPENTRANS_XSD`` (``tests/schemas.py``).
"""

import base64
import socket

import pytest
from lxml import etree

from otoorder.backends import opentrans
from otoorder.backends.document import ItemDocument, PartyDocument
from otoorder.backends.egger_erp import STATUS_TABLE, EggerErpBackend
from otoorder.backends.exceptions import (
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from otoorder.backends.result import ResultStatus
from tests.documents import order_document
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_examples, opentrans_xsd

NS = {"ot": opentrans.OPENTRANS_NS, "bmecat": opentrans.BMECAT_NS}
ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000e1"
USER, PASSWORD = "mitte-erp", "geheim-789"


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(opentrans_xsd())))


def assert_valid(schema, xml):
    tree = etree.fromstring(xml)
    assert schema.validate(tree), [f"{e.line}: {e.message}" for e in schema.error_log]
    return tree


RIGHT = ItemDocument(
    side="right",
    side_label="rechts",
    product_family="bte",
    product_family_label="HdO-Otoplastik mit Schlauch",
    style="shell",
    style_label="Schale",
    material="acrylic",
    material_label="Acryl hart",
    colour="transparent",
    vent_type="parallel",
    vent_type_label="Parallelbohrung",
    vent_diameter_mm="1.0",
    tube="standard_2_1",
    tube_label="Standard 2,1 mm",
    notes="Kante & Rand <weich>",
)
LEFT = ItemDocument(
    side="left",
    side_label="links",
    product_family="ric",
    product_family_label="Ex-Hörer-Otoplastik (RIC)",
    style="canal",
    style_label="Stöpsel",
    material="silicone",
    material_label="Silikon weich",
    receiver_power="M",
    receiver_length="2",
    quantity=2,
)


def document(**overrides):
    return order_document(
        **{
            "order_id": ORDER_ID,
            "order_number": "OT-2026-000077",
            "supplier": PartyDocument(name="egger Otoplastik + Labortechnik GmbH", email="erp@egger.test"),
            "supplier_account": "EG-4711",
            "notes": "Bitte bis Freitag.",
            "items": (RIGHT, LEFT),
            **overrides,
        }
    )


# --- ORDER ------------------------------------------------------------------------------


def test_two_ears_make_a_valid_order_with_every_field(schema):
    tree = assert_valid(schema, opentrans.build_order(document(), buyer_id="AKU-1", supplier_account="EG-4711"))
    info = tree.find("ot:ORDER_HEADER/ot:ORDER_INFO", NS)
    assert info.findtext("ot:ORDER_ID", namespaces=NS) == "OT-2026-000077"
    assert info.findtext("ot:DELIVERY_DATE/ot:DELIVERY_START_DATE", namespaces=NS) == "2026-12-05"
    remarks = {r.get("type"): r.text for r in info.iterfind("ot:REMARKS", NS)}
    assert remarks == {
        "orderUuid": ORDER_ID,
        "orderType": "new",
        "priority": "express",
        "customerReference": "EM-10001",
        "prescriber": "Alice Akustik",
        "general": "Bitte bis Freitag.",
    }
    buyer = info.find("ot:PARTIES/ot:PARTY[ot:PARTY_ROLE='buyer']", NS)
    assert [(p.get("type"), p.text) for p in buyer.iterfind("bmecat:PARTY_ID", NS)] == [
        ("supplier_specific", "EG-4711"),
        ("buyerId", "AKU-1"),
    ]
    assert buyer.findtext("ot:ADDRESS/bmecat:STREET", namespaces=NS) == "Hauptstraße 1"
    assert buyer.findtext("ot:ADDRESS/bmecat:ZIP", namespaces=NS) == "10115"
    assert info.findtext("ot:ORDER_PARTIES_REFERENCE/bmecat:BUYER_IDREF", namespaces=NS) == "EG-4711"
    items = tree.findall("ot:ORDER_ITEM_LIST/ot:ORDER_ITEM", NS)
    assert len(items) == 2
    features = [
        {f.findtext("bmecat:FNAME", namespaces=NS): f.findtext("bmecat:FVALUE", namespaces=NS) for f in item.iterfind("ot:PRODUCT_FEATURES/ot:FEATURE", NS)}
        for item in items
    ]
    assert features[0] == {
        "side": "right",
        "product_family": "bte",
        "style": "shell",
        "material": "acrylic",
        "colour": "transparent",
        "vent_type": "parallel",
        "vent_diameter": "1.0",
        "tube": "standard_2_1",
    }
    assert features[1]["side"] == "left"
    assert features[1]["receiver_power"] == "M" and features[1]["receiver_length"] == "2"
    assert items[1].findtext("ot:QUANTITY", namespaces=NS) == "2"
    assert items[0].findtext("ot:REMARKS", namespaces=NS) == "Kante & Rand <weich>"
    assert tree.findtext("ot:ORDER_SUMMARY/ot:TOTAL_ITEM_NUM", namespaces=NS) == "2"


def test_one_ear_without_optional_data_is_valid(schema):
    doc = document(items=(LEFT,), date_required=None, notes="", prescriber="", supplier_account="")
    tree = assert_valid(schema, opentrans.build_order(doc, buyer_id="AKU-1", supplier_account=""))
    assert len(tree.findall("ot:ORDER_ITEM_LIST/ot:ORDER_ITEM", NS)) == 1
    # Without a branch account the buyer ID identifies the buyer.
    assert tree.findtext(".//ot:ORDER_PARTIES_REFERENCE/bmecat:BUYER_IDREF", namespaces=NS) == "AKU-1"
    assert tree.find(".//ot:ORDER_INFO/ot:DELIVERY_DATE", NS) is None


def test_special_characters_and_overlong_values_stay_valid(schema):
    doc = document(
        branch=PartyDocument(name="Hörakustik Müller & Söhne <Zentrale> " + "x" * 80, address_lines=("Straße 1",)),
        customer_reference="Ä&<>\"'ß",
        notes="Bitte <b>nicht</b> & \x07 vergessen: Größe ÄÖÜ",
        items=(
            ItemDocument(side="right", side_label="rechts", colour="rosé & <klar>" + "y" * 100, notes="a & b"),
        ),
    )
    xml = opentrans.build_order(doc, buyer_id="AKU&1", supplier_account="K<1>")
    tree = assert_valid(schema, xml)
    remarks = {r.get("type"): r.text for r in tree.iterfind(".//ot:ORDER_INFO/ot:REMARKS", NS)}
    assert remarks["customerReference"] == "Ä&<>\"'ß"
    assert remarks["general"] == "Bitte <b>nicht</b> &  vergessen: Größe ÄÖÜ"
    assert tree.findtext(".//bmecat:BUYER_IDREF", namespaces=NS) == "K<1>"


def test_validation_before_sending_only_when_the_operator_sets_the_schema(settings, tmp_path):
    xsd = opentrans_xsd()
    xml = opentrans.build_order(document(), buyer_id="AKU-1", supplier_account="EG-4711")
    settings.OTOORDER_OPENTRANS_XSD = ""
    assert opentrans.validate_if_configured(b"<not-opentrans/>") is False
    settings.OTOORDER_OPENTRANS_XSD = str(xsd)
    assert opentrans.validate_if_configured(xml) is True
    with pytest.raises(OrderRejected, match="openTRANS-Schema"):
        opentrans.validate_if_configured(xml.replace(b"<ORDER_ID>", b"<ORDER_NUMBER>").replace(b"</ORDER_ID>", b"</ORDER_NUMBER>"))
    settings.OTOORDER_OPENTRANS_XSD = str(tmp_path / "missing.xsd")
    with pytest.raises(ConfigurationError):
        opentrans.validate_if_configured(xml)


# --- answers ----------------------------------------------------------------------------


def test_the_example_orderresponse_is_understood():
    answer = opentrans.parse_orderresponse((opentrans_examples() / "orderresponse_example.xml").read_bytes())
    assert answer["order_id"] == "GWAHJV-160131-1470"
    assert answer["delivery_date"] == "2018-06-27"
    assert answer["orderresponse_date"] == "2018-06-25T11:31:21"
    assert answer["supplier_order_id"] == ""  # the example carries none


def test_the_example_dispatchnotification_is_understood():
    notice = opentrans.parse_dispatchnotification((opentrans_examples() / "dispatchnotification_example.xml").read_bytes())
    assert notice["order_ids"] == ["GWAHJV-160131-1470"]
    assert notice["supplier_order_ids"] == ["425689442"]
    assert notice["shipment_id"] == "1Z7318301287125572"
    assert notice["dispatchnotification_id"] == "39076516"
    assert notice["dispatchnotification_date"] == "2016-01-31T21:31:00"


def test_callbacks_map_through_the_status_table():
    confirmed = EggerErpBackend.parse_callback((opentrans_examples() / "orderresponse_example.xml").read_bytes())
    assert [entry["order_number"] for entry in confirmed] == ["GWAHJV-160131-1470"]
    assert confirmed[0]["update"].status == STATUS_TABLE.normalise("ORDERRESPONSE") == "confirmed"
    assert confirmed[0]["update"].data == {"delivery_date": "2018-06-27"}
    shipped = EggerErpBackend.parse_callback((opentrans_examples() / "dispatchnotification_example.xml").read_bytes())
    update = shipped[0]["update"]
    assert (update.status, update.tracking_number, update.external_reference) == ("shipped", "1Z7318301287125572", "425689442")
    assert "1Z7318301287125572" in update.message


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<ORDERRESPONSE/>",  # no namespace
        "minimal_valid_order.xml",  # an official example ORDER, not an answer
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<ORDERRESPONSE xmlns="http://www.opentrans.org/XMLSchema/2.1">&e;</ORDERRESPONSE>',
    ],
)
def test_unreadable_callbacks_are_refused(body):
    if isinstance(body, str):
        body = (opentrans_examples() / body).read_bytes()
    with pytest.raises(opentrans.OpenTransError):
        EggerErpBackend.parse_callback(body)


# --- the backend against a real HTTP lab ------------------------------------------------


def backend(lab, **overrides):
    options = {
        "endpoint_url": f"{lab.url}/opentrans/order",
        "username": USER,
        "password": PASSWORD,
        "buyer_id": "AKU-1",
        "shared_secret": "callback-secret",
        **overrides,
    }
    return EggerErpBackend(options, timeout=2)


def orderresponse(order_number, supplier_order_id):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ORDERRESPONSE version="2.1" xmlns="http://www.opentrans.org/XMLSchema/2.1" xmlns:bme="http://www.bmecat.org/bmecat/2005">
  <ORDERRESPONSE_HEADER><ORDERRESPONSE_INFO>
    <ORDER_ID>{order_number}</ORDER_ID>
    <ORDERRESPONSE_DATE>2026-11-24T10:00:00</ORDERRESPONSE_DATE>
    <SUPPLIER_ORDER_ID>{supplier_order_id}</SUPPLIER_ORDER_ID>
    <DELIVERY_DATE><DELIVERY_START_DATE>2026-12-03</DELIVERY_START_DATE><DELIVERY_END_DATE>2026-12-03</DELIVERY_END_DATE></DELIVERY_DATE>
    <PARTIES><PARTY><bme:PARTY_ID type="supplier_specific">EG-4711</bme:PARTY_ID></PARTY></PARTIES>
    <ORDER_PARTIES_REFERENCE><bme:BUYER_IDREF>EG-4711</bme:BUYER_IDREF><bme:SUPPLIER_IDREF>egger</bme:SUPPLIER_IDREF></ORDER_PARTIES_REFERENCE>
  </ORDERRESPONSE_INFO></ORDERRESPONSE_HEADER>
  <ORDERRESPONSE_ITEM_LIST/>
  <ORDERRESPONSE_SUMMARY><TOTAL_ITEM_NUM>2</TOTAL_ITEM_NUM></ORDERRESPONSE_SUMMARY>
</ORDERRESPONSE>"""


def test_order_is_posted_with_auth_idempotency_key_and_a_valid_body(http_lab, schema):
    http_lab.script(Reply.xml(orderresponse("OT-2026-000077", "EGG-2026-5501")), method="POST", path="/opentrans/order")
    result = backend(http_lab).send(document())
    [request] = http_lab.requests
    assert request.header("Idempotency-Key") == ORDER_ID
    assert request.header("Authorization") == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert request.header("Content-Type").startswith("application/xml")
    tree = assert_valid(schema, request.body)
    assert tree.findtext(".//ot:ORDER_INFO/ot:ORDER_ID", namespaces=NS) == "OT-2026-000077"
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "EGG-2026-5501"
    assert result.data == {"delivery_date": "2026-12-03"}
    assert "EGG-2026-5501" in result.raw_response
    assert result.request_summary["idempotency_key"] == ORDER_ID
    assert "EM-10001" not in str(result.request_summary)  # no customer data in the attempt log


def test_empty_2xx_means_ordered(http_lab):
    http_lab.script(Reply.empty(202))
    result = backend(http_lab).send(document())
    assert result.status == ResultStatus.ORDERED and result.external_reference == ""


def test_the_schema_check_before_sending_runs_when_configured(http_lab, settings):
    settings.OTOORDER_OPENTRANS_XSD = str(opentrans_xsd())
    http_lab.script(Reply.empty(204))
    result = backend(http_lab).send(document(items=(LEFT,)))
    assert result.request_summary["schema_validated"] is True


def test_server_error_is_transient_and_bad_request_permanent(http_lab):
    http_lab.script(Reply.text("Wartung", status=500), Reply.text("Kundennummer EG-4711 unbekannt", status=400))
    with pytest.raises(TransientError):
        backend(http_lab).send(document())
    with pytest.raises(PermanentError) as refused:
        backend(http_lab).send(document())
    assert "HTTP 400" in refused.value.message and "Kundennummer EG-4711 unbekannt" in refused.value.message
    assert refused.value.status_code == 400


@pytest.mark.parametrize("code", [401, 403])
def test_refused_credentials_are_a_configuration_error(http_lab, code):
    http_lab.script(Reply.status(code))
    with pytest.raises(ConfigurationError, match="Zugangsdaten"):
        backend(http_lab).send(document())


def test_unreachable_lab_is_transient(unused_port):
    lab_url = f"http://127.0.0.1:{unused_port}/opentrans/order"
    options = {"endpoint_url": lab_url, "username": USER, "password": PASSWORD, "buyer_id": "A", "shared_secret": "s"}
    with pytest.raises(TransientError):
        EggerErpBackend(options, timeout=1).send(document())


def test_an_answer_for_another_order_is_not_taken(http_lab):
    http_lab.script(Reply.xml(orderresponse("OT-1999-000001", "EGG-1")))
    with pytest.raises(PermanentError):
        backend(http_lab).send(document())


def test_connection_check(http_lab):
    http_lab.script(Reply.empty(204), method="GET", path="/opentrans/order/ping")
    http_lab.script(Reply.status(401), method="GET", path="/opentrans/order/ping")
    assert backend(http_lab).test_connection().ok
    failed = backend(http_lab).test_connection()
    assert not failed.ok and "Zugangsdaten" in failed.message


@pytest.fixture
def unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
