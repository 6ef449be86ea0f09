"""Otofaktur Otoport after the order: cancellation and message files in the outbox, the lab's
answers and questions as status files in the inbox — against real folders below a temporary
exchange root (the SFTP variant shares the code path ``_put``; see test_otoport_sftp.py)."""

import os
from datetime import datetime, timezone

import pytest
from lxml import etree

from otoorder.backends.document import CancellationDocument, MessageDocument
from otoorder.backends.exceptions import ConfigurationError, OrderRejected, TransientError
from otoorder.backends.labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED
from otoorder.backends.otofaktur_otoport import OtofakturOtoportBackend, parse_status_file
from otoorder.backends.result import CancelStatus
from otoorder.backends.transports.files import ROOT_ENV
from tests.documents import order_document

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000f7"
MESSAGE_ID = "7a2b3c4d-0000-4000-8000-0000000000f8"


@pytest.fixture
def root(tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(exchange))
    return exchange


def backend(**overrides):
    return OtofakturOtoportBackend({"outbox_dir": "otoport/out", "inbox_dir": "otoport/in", **overrides})


def request(sequence=1, reason="Kunde verzichtet", order_id=ORDER_ID):
    return CancellationDocument(
        order=order_document(order_id=order_id),
        idempotency_key=f"{order_id}-storno-{sequence}",
        sequence=sequence,
        reason=reason,
        requested_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
        lab_reference="OF-1234ABCD",
    )


def message(message_id=MESSAGE_ID):
    return MessageDocument(
        order=order_document(order_id=ORDER_ID),
        message_id=message_id,
        text="Bitte Zusatzbohrung 0,8 mm.",
        author="Alice Akustik",
        sent_at=datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc),
        lab_reference="OF-1234ABCD",
        in_reply_to="Q-5",
        question="Zusatzbohrung 1,5 mm passt nicht in den Gehörgang – kleiner?",
    )


def status_file(root_dir, body, order_id=ORDER_ID):
    inbox = root_dir / "otoport" / "in"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"{order_id}.status.xml"
    path.write_text(f"<?xml version='1.0' encoding='UTF-8'?>\n<otoport-status version=\"1\"><order-id>{order_id}</order-id>{body}</otoport-status>", encoding="utf-8")
    return path


# --- cancellation file ----------------------------------------------------------------------


def test_cancellation_file_is_named_by_its_key_and_pending(root):
    result = backend().cancel(request())

    name = f"{ORDER_ID}-storno-1.cancel.xml"
    assert os.listdir(root / "otoport" / "out") == [name]
    tree = etree.parse(str(root / "otoport" / "out" / name)).getroot()
    assert tree.tag == "otoport-cancellation" and tree.get("version") == "1"
    assert {child.tag: child.text for child in tree} == {
        "cancellation-id": f"{ORDER_ID}-storno-1",
        "order-id": ORDER_ID,
        "order-number": "OT-2026-000042",
        "lab-order-number": "OF-1234ABCD",
        "sequence": "1",
        "requested-at": "2026-11-25T08:00:00+00:00",
        "reason": "Kunde verzichtet",
    }
    assert result.status == CancelStatus.PENDING
    assert result.request_summary["file"] == name
    assert result.request_summary["idempotency_key"] == f"{ORDER_ID}-storno-1"


def test_a_repeated_cancellation_replaces_its_file_and_never_adds_one(root):
    backend().cancel(request(reason="erste Fassung"))
    backend().cancel(request(reason="zweite Zustellung"))

    [name] = os.listdir(root / "otoport" / "out")
    assert "zweite Zustellung" in (root / "otoport" / "out" / name).read_text(encoding="utf-8")
    backend().cancel(request(sequence=2))
    assert len(os.listdir(root / "otoport" / "out")) == 2


def test_markup_and_control_characters_in_the_reason_stay_text(root):
    backend().cancel(request(reason="<b>sofort</b> & \x01endgültig"))

    [name] = os.listdir(root / "otoport" / "out")
    tree = etree.parse(str(root / "otoport" / "out" / name)).getroot()
    assert tree.findtext("reason") == "<b>sofort</b> & endgültig"


@pytest.mark.parametrize("key", ["../../etc/passwd-storno-1", f"{ORDER_ID}-storno-1/../x", f"{ORDER_ID}", "x-storno-1"])
def test_a_key_that_could_name_another_path_is_refused(root, key):
    bad = CancellationDocument(**{**request().__dict__, "idempotency_key": key})

    with pytest.raises(OrderRejected):
        backend().cancel(bad)
    assert not (root / "otoport" / "out").exists() or os.listdir(root / "otoport" / "out") == []


def test_cancellation_failures_are_classified(root, monkeypatch):
    (root / "blocked").write_text("a file where the folder belongs")
    with pytest.raises(TransientError):
        backend(outbox_dir="blocked/out").cancel(request())
    lab = backend()
    monkeypatch.delenv(ROOT_ENV)
    with pytest.raises(ConfigurationError):
        lab.cancel(request())


# --- message file ---------------------------------------------------------------------------


def test_answer_to_a_question_is_a_message_file(root):
    result = backend().send_message(message())

    name = f"{MESSAGE_ID}.message.xml"
    assert os.listdir(root / "otoport" / "out") == [name]
    tree = etree.parse(str(root / "otoport" / "out" / name)).getroot()
    assert tree.tag == "otoport-message"
    fields = {child.tag: child.text for child in tree}
    assert fields["message-id"] == MESSAGE_ID and fields["order-id"] == ORDER_ID
    assert fields["in-reply-to"] == "Q-5" and fields["author"] == "Alice Akustik"
    assert fields["text"] == "Bitte Zusatzbohrung 0,8 mm."
    assert fields["question"].startswith("Zusatzbohrung 1,5 mm")
    assert result.request_summary["idempotency_key"] == MESSAGE_ID
    backend().send_message(message())
    assert os.listdir(root / "otoport" / "out") == [name]


def test_a_message_id_that_is_no_uuid_is_refused(root):
    with pytest.raises(OrderRejected):
        backend().send_message(message(message_id="../../x"))


# --- status files: questions and cancellation answers ----------------------------------------


def test_on_hold_status_file_carries_the_question(root):
    status_file(root, "<status>on_hold</status><question>Abdruck eingerissen – neu abformen?</question><question-id>Q-5</question-id>")

    [entry] = backend().read_inbox()

    update = entry["update"]
    assert entry["order_id"] == ORDER_ID
    assert update.status == "on_hold"
    assert update.lab_text == "Abdruck eingerissen – neu abformen?"
    assert update.lab_message_id == "Q-5"
    assert os.listdir(root / "otoport" / "in" / "processed") == [f"{ORDER_ID}.status.xml"]


def test_cancelled_status_file_accepts_the_cancellation():
    _order_id, update = parse_status_file(
        f"{ORDER_ID}.status.xml",
        f"<otoport-status version='1'><order-id>{ORDER_ID}</order-id><status>cancelled</status></otoport-status>".encode(),
    )

    assert (update.status, update.cancellation) == ("cancelled", CANCELLATION_ACCEPTED)


def test_refused_cancellation_keeps_the_labs_status_and_reason():
    _order_id, update = parse_status_file(
        f"{ORDER_ID}.status.xml",
        (
            f"<otoport-status version='1'><order-id>{ORDER_ID}</order-id><status>in_production</status>"
            "<cancellation>refused</cancellation><cancellation-message>bereits in Fertigung</cancellation-message>"
            "</otoport-status>"
        ).encode(),
    )

    assert update.status == "in_production"
    assert update.cancellation == CANCELLATION_REFUSED
    assert update.lab_text == "bereits in Fertigung"
    assert update.message.startswith("Das Labor lehnt die Stornierung ab: bereits in Fertigung")


def test_a_refusal_may_come_without_a_status():
    _order_id, update = parse_status_file(
        f"{ORDER_ID}.status.xml",
        f"<otoport-status version='1'><order-id>{ORDER_ID}</order-id><cancellation>refused</cancellation></otoport-status>".encode(),
    )

    assert update.status is None and update.cancellation == CANCELLATION_REFUSED


@pytest.mark.parametrize(
    "body",
    [
        "<status>in_production</status><cancellation>maybe</cancellation>",
        "<status>in_production</status><cancellation>accepted</cancellation>",
        "<cancellation>accepted</cancellation><status>weird</status>",
    ],
)
def test_contradicting_or_unknown_cancellation_answers_move_to_invalid(root, body):
    status_file(root, body)

    assert backend().read_inbox() == []
    assert os.listdir(root / "otoport" / "in" / "invalid") == [f"{ORDER_ID}.status.xml"]


def test_questions_are_bounded(root):
    status_file(root, "<status>on_hold</status><question>" + "x" * 5000 + "</question>")

    [entry] = backend().read_inbox()

    assert len(entry["update"].lab_text) == 2000


def test_otoport_declares_both_channels():
    assert OtofakturOtoportBackend.supports_cancellation and OtofakturOtoportBackend.supports_lab_messages
