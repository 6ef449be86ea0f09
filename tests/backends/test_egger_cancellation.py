"""egger ERP after the order: the openTRANS 2.1 ORDERCHANGE that cancels an order (validated
against the official schema), egger's ORDERRESPONSE answers, and its questions on the callback.

egger's side of the answers is written by the sandbox's egger module, whose documents are
validated against the schema here too, so what the sandbox sends is what the backend reads.
"""

from datetime import datetime, timezone

import pytest
from lxml import etree

from otoorder.backends import opentrans
from otoorder.backends.document import CancellationDocument
from otoorder.backends.egger_erp import EggerErpBackend
from otoorder.backends.exceptions import (
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from otoorder.backends.labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED
from otoorder.backends.result import CancelStatus
from otoorder.sandbox import egger
from tests.documents import LEFT_RIC, RIGHT_BTE, order_document
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_xsd

NS = {"ot": opentrans.OPENTRANS_NS, "bmecat": opentrans.BMECAT_NS}
ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000e7"
KEY = f"{ORDER_ID}-storno-2"
USER, PASSWORD = "mitte-erp", "geheim-789"


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(opentrans_xsd())))


def assert_valid(schema, xml):
    tree = etree.fromstring(xml)
    assert schema.validate(tree), [f"{e.line}: {e.message}" for e in schema.error_log]
    return tree


def request(reason="Kunde hat das Hörsystem zurückgegeben", lab_reference="EGG-4711", items=(RIGHT_BTE, LEFT_RIC)):
    return CancellationDocument(
        order=order_document(order_id=ORDER_ID, items=items),
        idempotency_key=KEY,
        sequence=2,
        reason=reason,
        requested_at=datetime(2026, 11, 25, 8, 15, tzinfo=timezone.utc),
        lab_reference=lab_reference,
    )


def backend(lab):
    return EggerErpBackend(
        {
            "endpoint_url": lab.url + "/erp/orders",
            "username": USER,
            "password": PASSWORD,
            "buyer_id": "B-77",
            "shared_secret": "egger-geheim",
        },
        timeout=0.5,
    )


def change_of(xml):
    return egger.read_orderchange(xml)


def remarks(tree):
    info = tree.find("ot:ORDERCHANGE_HEADER/ot:ORDERCHANGE_INFO", NS)
    return {remark.get("type"): remark.text for remark in info.iterfind("ot:REMARKS", NS)}


# --- the ORDERCHANGE ----------------------------------------------------------------------


def test_the_orderchange_cancels_every_line_and_is_schema_valid(schema):
    xml = opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K-4711")

    tree = assert_valid(schema, xml)
    assert etree.QName(tree).localname == "ORDERCHANGE"
    info = tree.find("ot:ORDERCHANGE_HEADER/ot:ORDERCHANGE_INFO", NS)
    assert info.findtext("ot:ORDER_ID", namespaces=NS) == "OT-2026-000042"
    assert info.findtext("ot:ORDERCHANGE_SEQUENCE_ID", namespaces=NS) == "2"
    assert info.findtext("ot:SUPPLIER_ORDER_ID", namespaces=NS) == "EGG-4711"
    assert info.findtext("ot:ORDERCHANGE_DATE", namespaces=NS) == "2026-11-25T08:15:00+00:00"
    assert remarks(tree) == {
        "orderChange": "cancellation",
        "orderUuid": ORDER_ID,
        "cancellationKey": KEY,
        "cancellationReason": "Kunde hat das Hörsystem zurückgegeben",
    }
    quantities = [q.text for q in tree.iterfind("ot:ORDERCHANGE_ITEM_LIST/ot:ORDER_ITEM/ot:QUANTITY", NS)]
    assert quantities == ["0", "0"]
    assert tree.findtext("ot:ORDERCHANGE_SUMMARY/ot:TOTAL_ITEM_NUM", namespaces=NS) == "2"


def test_an_orderchange_without_lab_number_reason_or_with_odd_text_stays_valid(schema):
    xml = opentrans.build_cancellation(
        request(reason="", lab_reference="", items=(RIGHT_BTE,)), buyer_id="B-77", supplier_account=""
    )
    assert_valid(schema, xml)
    odd = request(reason="Grund mit <Klammern> & \x07Steuerzeichen " + "x" * 5000, items=(LEFT_RIC,))
    tree = assert_valid(schema, opentrans.build_cancellation(odd, buyer_id="B-77", supplier_account="K"))
    assert "\x07" not in remarks(tree)["cancellationReason"]


def test_the_sandbox_reads_what_the_backend_writes():
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K-4711"))

    assert change["cancellation"] is True
    assert (change["order_id"], change["sequence"], change["key"], change["items"]) == ("OT-2026-000042", "2", KEY, 2)


def test_the_sandbox_answers_are_schema_valid(schema):
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K-4711"))
    order = {**change, "order_uuid": ORDER_ID}
    for document in (
        egger.cancellation_answer(change, "EGG-4711", accepted=True),
        egger.cancellation_answer(change, "EGG-4711", accepted=False, reason="bereits in Fertigung"),
        egger.question(order, "EGG-4711", "Abdruck rechts unvollständig – neu abformen?", "Q-3"),
        egger.resumed(order, "EGG-4711"),
    ):
        assert_valid(schema, document)


# --- cancel() against a real HTTP lab -----------------------------------------------------


def test_cancel_posts_the_orderchange_with_its_key_and_an_empty_answer_is_pending(http_lab, schema):
    http_lab.script(Reply.empty(202), path="/erp/orders")

    result = backend(http_lab).cancel(request())

    [sent] = http_lab.requests
    assert sent.method == "POST" and sent.header("Idempotency-Key") == KEY
    assert sent.header("Content-Type").startswith("application/xml")
    assert_valid(schema, sent.body)
    assert result.status == CancelStatus.PENDING
    assert result.request_summary["format"] == "openTRANS 2.1 ORDERCHANGE"
    assert result.request_summary["orderchange_sequence_id"] == 2


def test_a_synchronous_orderresponse_accepts(http_lab):
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K"))
    http_lab.script(Reply.xml(egger.cancellation_answer(change, "EGG-4711", accepted=True)))

    result = backend(http_lab).cancel(request())

    assert result.status == CancelStatus.ACCEPTED
    assert result.message == "egger hat die Stornierung bestätigt."


def test_a_synchronous_orderresponse_refuses_with_eggers_reason(http_lab):
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K"))
    http_lab.script(Reply.xml(egger.cancellation_answer(change, "EGG-4711", accepted=False, reason="bereits in Fertigung")))

    result = backend(http_lab).cancel(request())

    assert result.status == CancelStatus.REFUSED
    assert result.lab_message == "bereits in Fertigung"
    assert result.message == "egger lehnt die Stornierung ab: bereits in Fertigung"


def test_an_orderresponse_that_answers_no_cancellation_fails_visibly(http_lab):
    order = {"order_id": "OT-2026-000042", "order_uuid": ORDER_ID, "buyer_id": "B-77", "items": 2}
    http_lab.script(Reply.xml(egger.orderresponse(order, "EGG-4711")))

    with pytest.raises(PermanentError, match="Adresse der Schnittstelle"):
        backend(http_lab).cancel(request())


def test_cancel_errors_are_classified_as_for_the_order(http_lab):
    http_lab.script(Reply.status(503), Reply.text("ORDER_ID unbekannt", status=400), Reply.status(401))
    lab = backend(http_lab)

    with pytest.raises(TransientError):
        lab.cancel(request())
    with pytest.raises(PermanentError, match="ORDER_ID unbekannt"):
        lab.cancel(request())
    with pytest.raises(ConfigurationError):
        lab.cancel(request())
    assert {r.header("Idempotency-Key") for r in http_lab.requests} == {KEY}


def test_the_schema_check_before_cancelling_runs_when_configured(http_lab, settings, tmp_path):
    official = opentrans_xsd()
    broken = tmp_path / "strict.xsd"
    broken.write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.opentrans.org/XMLSchema/2.1">'
        '<xsd:element name="ORDER"/></xsd:schema>'
    )
    settings.OTOORDER_OPENTRANS_XSD = str(broken)

    with pytest.raises(OrderRejected, match="Schema"):
        backend(http_lab).cancel(request())
    assert http_lab.requests == []

    settings.OTOORDER_OPENTRANS_XSD = str(official)
    http_lab.script(Reply.empty(202))
    assert backend(http_lab).cancel(request()).request_summary["schema_validated"] is True


# --- the callback: cancellation answers, questions, resumption ------------------------------


def parsed(body):
    [entry] = EggerErpBackend.parse_callback(body)
    return entry["order_number"], entry["update"]


def test_callback_cancellation_accepted():
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K"))

    number, update = parsed(egger.cancellation_answer(change, "EGG-4711", accepted=True))

    assert number == "OT-2026-000042"
    assert (update.status, update.cancellation) == ("cancelled", CANCELLATION_ACCEPTED)
    assert update.external_reference == "EGG-4711"


def test_callback_cancellation_refused_leaves_the_status_to_the_order():
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K"))

    _number, update = parsed(egger.cancellation_answer(change, "EGG-4711", accepted=False, reason="bereits in Fertigung"))

    assert update.status is None
    assert update.cancellation == CANCELLATION_REFUSED
    assert update.lab_text == "bereits in Fertigung"
    assert "bereits in Fertigung" in update.message


def test_an_answer_to_a_change_without_the_remark_reads_the_quantities():
    change = change_of(opentrans.build_cancellation(request(), buyer_id="B-77", supplier_account="K"))
    zero = egger.orderresponse(change, "EGG-1", delivery_days=None, sequence="2", quantity="0")
    kept = egger.orderresponse(change, "EGG-1", delivery_days=None, sequence="2", quantity="1")

    assert parsed(zero)[1].cancellation == CANCELLATION_ACCEPTED
    assert parsed(kept)[1].cancellation == CANCELLATION_REFUSED


def test_callback_question_puts_the_order_on_hold_with_eggers_words():
    order = {"order_id": "OT-2026-000042", "order_uuid": ORDER_ID, "buyer_id": "B-77", "items": 2}

    _number, update = parsed(egger.question(order, "EGG-4711", "Abdruck rechts unvollständig – neu abformen?", "Q-3"))

    assert update.status == "on_hold"
    assert update.lab_text == "Abdruck rechts unvollständig – neu abformen?"
    assert update.lab_message_id == "Q-3"
    assert update.cancellation == ""


def test_callback_resumption_returns_to_production():
    order = {"order_id": "OT-2026-000042", "order_uuid": ORDER_ID, "buyer_id": "B-77", "items": 2}

    _number, update = parsed(egger.resumed(order, "EGG-4711"))

    assert update.status == "in_production"


def test_a_plain_orderresponse_still_confirms():
    order = {"order_id": "OT-2026-000042", "order_uuid": ORDER_ID, "buyer_id": "B-77", "items": 2}

    _number, update = parsed(egger.orderresponse(order, "EGG-4711"))

    assert update.status == "confirmed" and update.cancellation == "" and update.lab_text == ""


def test_egger_erp_cancels_but_has_no_message_channel():
    assert EggerErpBackend.supports_cancellation is True
    assert EggerErpBackend.supports_lab_messages is False
