"""Cancellation, answers to lab questions and the lab's questions, for the three HTTP labs,
against the real HTTP lab on 127.0.0.1 (``tests/labs/http_lab.py``).

What arrived at the lab is read back from its records; what came back from the backend's
``CancelResult``/``MessageResult``/``StatusUpdate`` or error.
"""

import json
from datetime import datetime, timezone

import pytest
from lxml import etree

from otoorder.backends.audia_easy_order import AudiaEasyOrderBackend
from otoorder.backends.document import CancellationDocument, MessageDocument
from otoorder.backends.dreve_smartorder import DreveSmartOrderBackend
from otoorder.backends.exceptions import (
    ConfigurationError,
    DeliveryUncertain,
    PermanentError,
    TransientError,
)
from otoorder.backends.hoerluchs_partner import HoerluchsPartnerBackend
from otoorder.backends.labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED
from otoorder.backends.result import CancelStatus
from tests.documents import order_document
from tests.labs.http_lab import Reply

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000a1"
KEY = f"{ORDER_ID}-storno-1"
MESSAGE_ID = "7a2b3c4d-0000-4000-8000-0000000000b2"
API_KEY = "dreve-key-123"
USER, PASSWORD = "filiale-mitte", "geheim-456"


def request(lab_reference="D-2026-7", reason="Kunde verzichtet; Hörgerät zurückgegeben", sequence=1):
    return CancellationDocument(
        order=order_document(order_id=ORDER_ID),
        idempotency_key=f"{ORDER_ID}-storno-{sequence}",
        sequence=sequence,
        reason=reason,
        requested_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
        lab_reference=lab_reference,
    )


def message(lab_reference="D-2026-7", text="Bitte 2 mm kürzen, Zusatzbohrung 1 mm."):
    return MessageDocument(
        order=order_document(order_id=ORDER_ID),
        message_id=MESSAGE_ID,
        text=text,
        author="Alice Akustik",
        sent_at=datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc),
        lab_reference=lab_reference,
        in_reply_to="Q-17",
        question="Gehörgang zu kurz abgeformt – wie weiter?",
    )


def dreve(lab, timeout=0.5):
    return DreveSmartOrderBackend({"endpoint_url": lab.url + "/api/v1", "api_key": API_KEY}, timeout=timeout)


def hoerluchs(lab, timeout=0.5):
    return HoerluchsPartnerBackend({"endpoint_url": lab.url, "username": USER, "password": PASSWORD}, timeout=timeout)


def audia(lab, timeout=0.5):
    return AudiaEasyOrderBackend(
        {"endpoint_url": lab.url + "/easyorder/", "username": USER, "password": PASSWORD}, timeout=timeout
    )


def easy(tag, **children):
    root = etree.Element(tag)
    for name, value in children.items():
        etree.SubElement(root, name).text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


#: name → (factory, cancellation path, message path, accepted reply, refused reply (words))
LABS = {
    "dreve": (
        dreve,
        "/api/v1/orders/D-2026-7/cancellation",
        "/api/v1/orders/D-2026-7/messages",
        lambda: Reply.json({"status": "cancelled"}),
        lambda words: Reply.json({"status": "refused", "message": words}),
    ),
    "hoerluchs": (
        hoerluchs,
        "/auftraege/D-2026-7/stornierung",
        "/auftraege/D-2026-7/nachrichten",
        lambda: Reply.json({"status": "storniert"}),
        lambda words: Reply.json({"status": "abgelehnt", "meldung": words}),
    ),
    "audia": (
        audia,
        "/easyorder/orders/D-2026-7/cancellation",
        "/easyorder/orders/D-2026-7/messages",
        lambda: Reply.xml(easy("EasyOrderCancellationResponse", Status="cancelled")),
        lambda words: Reply.xml(easy("EasyOrderCancellationResponse", Status="refused", Message=words)),
    ),
}


# --- cancellation: accepted, refused, pending/manual ------------------------------------


@pytest.mark.parametrize("name", LABS)
def test_cancellation_accepted_at_once(http_lab, name):
    factory, path, _messages, accepted, _refused = LABS[name]
    http_lab.script(accepted(), path=path)

    result = factory(http_lab).cancel(request())

    [sent] = http_lab.requests
    assert (sent.method, sent.path) == ("POST", path)
    assert sent.header("Idempotency-Key") == KEY
    assert sent.header("Authorization")
    assert result.status == CancelStatus.ACCEPTED
    assert result.message == "Das Labor hat die Stornierung bestätigt."
    assert result.request_summary["idempotency_key"] == KEY
    assert result.request_summary["url"].endswith(path)
    assert "EM-10001" not in json.dumps(result.request_summary)


@pytest.mark.parametrize("name", LABS)
def test_cancellation_refused_keeps_the_labs_words(http_lab, name):
    factory, path, _messages, _accepted, refused = LABS[name]
    http_lab.script(refused("bereits in Fertigung"), path=path)

    result = factory(http_lab).cancel(request())

    assert result.status == CancelStatus.REFUSED
    assert result.lab_message == "bereits in Fertigung"
    assert result.message == "Das Labor lehnt die Stornierung ab: bereits in Fertigung"
    assert "bereits in Fertigung" in result.raw_response


@pytest.mark.parametrize("name", LABS)
def test_a_refusal_answered_with_409_is_a_refusal_not_an_error(http_lab, name):
    factory, path, _messages, _accepted, refused = LABS[name]
    reply = refused("Otoplastik bereits versandt")
    http_lab.script(Reply(409, reply.body, reply.content_type), path=path)

    result = factory(http_lab).cancel(request())

    assert result.status == CancelStatus.REFUSED
    assert result.lab_message == "Otoplastik bereits versandt"


@pytest.mark.parametrize("reply", [Reply.status(409), Reply.json({"message": "Auftrag gesperrt"}, status=409), Reply.text("Konflikt", status=409)])
def test_a_409_that_is_no_refusal_of_the_format_is_a_permanent_error(http_lab, reply):
    http_lab.script(reply)

    with pytest.raises(PermanentError, match="HTTP 409"):
        dreve(http_lab).cancel(request())


def test_dreve_202_leaves_the_answer_to_the_status_poll(http_lab):
    http_lab.script(Reply.empty(202))

    result = dreve(http_lab).cancel(request())

    assert result.status == CancelStatus.PENDING
    assert "Antwort folgt" in result.message


@pytest.mark.parametrize("name", ["hoerluchs", "audia"])
def test_a_lab_without_return_channel_that_does_not_answer_means_staff_ask(http_lab, name):
    factory = LABS[name][0]
    http_lab.script(Reply.empty(202))

    result = factory(http_lab).cancel(request())

    assert result.status == CancelStatus.MANUAL
    assert "nachfragen" in result.message


@pytest.mark.parametrize("name", LABS)
def test_an_answer_word_the_format_does_not_know_fails_visibly(http_lab, name):
    factory, path, *_rest = LABS[name]
    body = easy("EasyOrderCancellationResponse", Status="vielleicht") if name == "audia" else json.dumps({"status": "vielleicht"}).encode()
    http_lab.script(Reply(200, body, "application/xml" if name == "audia" else "application/json"))

    with pytest.raises(PermanentError, match="Adresse der Schnittstelle"):
        factory(http_lab).cancel(request())


def test_without_the_labs_number_our_uuid_names_the_order(http_lab):
    http_lab.script(Reply.json({"status": "cancelled"}))

    dreve(http_lab).cancel(request(lab_reference=""))

    assert http_lab.requests[0].path == f"/api/v1/orders/{ORDER_ID}/cancellation"


def test_a_lab_number_with_slashes_stays_one_path_segment(http_lab):
    http_lab.script(Reply.json({"status": "cancelled"}))

    dreve(http_lab).cancel(request(lab_reference="D/2026 7"))

    assert http_lab.requests[0].path == "/api/v1/orders/D%2F2026%207/cancellation"


def test_dreve_cancellation_body(http_lab):
    http_lab.script(Reply.json({"status": "cancelled"}))

    dreve(http_lab).cancel(request(sequence=2))

    sent = http_lab.requests[0]
    assert sent.header("Content-Type").startswith("application/json")
    assert sent.header("Idempotency-Key") == f"{ORDER_ID}-storno-2"
    assert sent.json() == {
        "idempotency_key": f"{ORDER_ID}-storno-2",
        "order_id": ORDER_ID,
        "order_number": "OT-2026-000042",
        "lab_order_number": "D-2026-7",
        "sequence": 2,
        "reason": "Kunde verzichtet; Hörgerät zurückgegeben",
        "requested_at": "2026-11-25T08:00:00+00:00",
    }


def test_hoerluchs_cancellation_body_speaks_its_german_vocabulary(http_lab):
    http_lab.script(Reply.json({"status": "storniert"}))

    hoerluchs(http_lab).cancel(request())

    body = http_lab.requests[0].json()
    assert body["storno_id"] == KEY
    assert body["grund"] == "Kunde verzichtet; Hörgerät zurückgegeben"
    assert body["auftragsnummer"] == "D-2026-7"
    assert body["bestell_id"] == ORDER_ID


def test_audia_cancellation_is_xml_and_control_characters_do_not_break_it(http_lab):
    http_lab.script(Reply.xml(easy("EasyOrderCancellationResponse", Status="cancelled")))

    audia(http_lab).cancel(request(reason="Kunde\x01 verzichtet <sofort> & endgültig"))

    sent = http_lab.requests[0]
    assert sent.header("Content-Type").startswith("application/xml")
    root = etree.fromstring(sent.body)
    assert root.tag == "EasyOrderCancellation"
    assert root.findtext("IdempotencyKey") == KEY
    assert root.findtext("Reason") == "Kunde verzichtet <sofort> & endgültig"
    assert root.findtext("LabOrderNumber") == "D-2026-7"


# --- cancellation: errors as for the order ------------------------------------------------


@pytest.mark.parametrize("name", LABS)
def test_cancellation_5xx_is_transient(http_lab, name):
    http_lab.script(Reply.status(503))

    with pytest.raises(TransientError) as raised:
        LABS[name][0](http_lab).cancel(request())

    assert not raised.value.permanent


@pytest.mark.parametrize("name", LABS)
def test_cancellation_4xx_is_permanent_with_the_labs_message(http_lab, name):
    body = easy("EasyOrderError", Message="Auftrag unbekannt") if name == "audia" else json.dumps({"message": "Auftrag unbekannt"}).encode()
    http_lab.script(Reply(404, body, "application/xml" if name == "audia" else "application/json"))

    with pytest.raises(PermanentError, match="Auftrag unbekannt"):
        LABS[name][0](http_lab).cancel(request())


@pytest.mark.parametrize("name", LABS)
def test_cancellation_with_rejected_credentials_is_a_configuration_error(http_lab, name):
    http_lab.script(Reply.status(401))

    with pytest.raises(ConfigurationError):
        LABS[name][0](http_lab).cancel(request())


def test_a_cancellation_whose_answer_is_lost_is_uncertain_and_repeated_under_the_same_key(http_lab):
    http_lab.script(Reply.stalled(5.0), Reply.json({"status": "cancelled"}))
    backend = dreve(http_lab, timeout=0.3)

    with pytest.raises(DeliveryUncertain) as raised:
        backend.cancel(request())
    assert raised.value.idempotency_key == KEY
    result = backend.cancel(request())

    assert result.status == CancelStatus.ACCEPTED
    assert [r.header("Idempotency-Key") for r in http_lab.requests] == [KEY, KEY]


# --- answers to questions -----------------------------------------------------------------


@pytest.mark.parametrize("name", LABS)
def test_answer_to_a_question_is_posted_with_the_message_id_as_key(http_lab, name):
    factory, _cancel, path, *_rest = LABS[name]
    http_lab.script(Reply.empty(204), path=path)

    result = factory(http_lab).send_message(message())

    [sent] = http_lab.requests
    assert (sent.method, sent.path) == ("POST", path)
    assert sent.header("Idempotency-Key") == MESSAGE_ID
    assert result.message == "Antwort an das Labor übermittelt."
    assert result.request_summary["idempotency_key"] == MESSAGE_ID
    assert "Bitte 2 mm kürzen" not in json.dumps(result.request_summary)


def test_dreve_message_body_and_the_labs_id(http_lab):
    http_lab.script(Reply.json({"message_id": "DRV-MSG-9"}, status=201))

    result = dreve(http_lab).send_message(message())

    body = http_lab.requests[0].json()
    assert {key: body[key] for key in ("message_id", "text", "in_reply_to", "author")} == {
        "message_id": MESSAGE_ID,
        "text": "Bitte 2 mm kürzen, Zusatzbohrung 1 mm.",
        "in_reply_to": "Q-17",
        "author": "Alice Akustik",
    }
    assert result.external_reference == "DRV-MSG-9"


def test_hoerluchs_message_body(http_lab):
    http_lab.script(Reply.json({"nachricht_id": "HL-N-3"}))

    result = hoerluchs(http_lab).send_message(message())

    body = http_lab.requests[0].json()
    assert (body["nachricht_id"], body["antwort_auf"], body["autor"]) == (MESSAGE_ID, "Q-17", "Alice Akustik")
    assert body["text"].startswith("Bitte 2 mm")
    assert result.external_reference == "HL-N-3"


def test_audia_message_is_xml(http_lab):
    http_lab.script(Reply.xml(easy("EasyOrderMessageResponse", MessageId="AU-M-1")))

    result = audia(http_lab).send_message(message())

    root = etree.fromstring(http_lab.requests[0].body)
    assert root.tag == "EasyOrderMessage"
    assert (root.findtext("MessageId"), root.findtext("InReplyTo"), root.findtext("Author")) == (MESSAGE_ID, "Q-17", "Alice Akustik")
    assert result.external_reference == "AU-M-1"


@pytest.mark.parametrize("name", LABS)
def test_message_errors_are_classified(http_lab, name):
    http_lab.script(Reply.status(500), Reply.json({"message": "Text zu lang"}, status=422))
    backend = LABS[name][0](http_lab)

    with pytest.raises(TransientError):
        backend.send_message(message())
    with pytest.raises(PermanentError):
        backend.send_message(message())


# --- Dreve's status poll: questions and cancellation answers ------------------------------


def test_dreve_poll_on_hold_carries_the_question_and_its_id(http_lab):
    http_lab.script(
        Reply.json({"order_number": "D-1", "status": "on_hold", "question": "Abdruck links eingerissen – neu abformen?", "question_id": "Q-17"})
    )

    update = dreve(http_lab).poll_status("D-1")

    assert update.status == "on_hold"
    assert update.lab_text == "Abdruck links eingerissen – neu abformen?"
    assert update.lab_message_id == "Q-17"
    assert update.cancellation == ""
    assert update.message == "Rückfrage des Labors."


def test_dreve_poll_cancelled_is_an_accepted_cancellation(http_lab):
    http_lab.script(Reply.json({"order_number": "D-1", "status": "cancelled"}))

    update = dreve(http_lab).poll_status("D-1")

    assert (update.status, update.cancellation) == ("cancelled", CANCELLATION_ACCEPTED)


def test_dreve_poll_refused_cancellation_keeps_the_labs_status_and_reason(http_lab):
    http_lab.script(
        Reply.json(
            {"order_number": "D-1", "status": "in_production", "cancellation": "refused", "cancellation_message": "bereits in Fertigung"}
        )
    )

    update = dreve(http_lab).poll_status("D-1")

    assert update.status == "in_production"
    assert update.cancellation == CANCELLATION_REFUSED
    assert update.lab_text == "bereits in Fertigung"
    assert "bereits in Fertigung" in update.message


def test_dreve_poll_bounds_and_ignores_odd_question_values(http_lab):
    http_lab.script(Reply.json({"order_number": "D-1", "status": "on_hold", "question": "x" * 5000, "question_id": {"a": 1}}))

    update = dreve(http_lab).poll_status("D-1")

    assert len(update.lab_text) == 2000
    assert update.lab_message_id == ""


def test_the_three_http_labs_declare_both_channels():
    for backend_class in (DreveSmartOrderBackend, HoerluchsPartnerBackend, AudiaEasyOrderBackend):
        assert backend_class.supports_cancellation and backend_class.supports_lab_messages
