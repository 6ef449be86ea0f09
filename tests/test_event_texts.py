"""Events and errors in the reader's language: every code's sentence has an English
translation with the same params, the API renders by Accept-Language, and the migration maps
the German sentences of older events to codes."""

import importlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from otoorder.backends.exceptions import ERRORS, PermanentError, TransientError, render_error
from otoorder.orders import dispatch, event_texts, lab_messages, lifecycle, services
from otoorder.orders.choices import AttemptOutcome, EventSource, OrderStatus
from otoorder.orders.models import Attempt, Dispatch, EarmouldOrder, OrderEvent
from tests.factories import bte_item
from tests.test_api import client_for
from tests.test_dispatch import scripted  # noqa: F401 - fixture (a lab that answers from a script)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: Words that give away a German sentence (none of them is an English word).
GERMAN = re.compile(
    r"\b(Bestellung|Labor|Labors|wurde|gesendet|übermittelt|Stornierung|Rückfrage|Versuch|erneut|bitte|"
    r"Wareneingang|Anhang|Seriennummern|geändert|Tag|Tage|Stunden|abgelehnt|bestätigt|angefragt|storniert|und|der|die|das)\b"
)
MIGRATION = importlib.import_module("otoorder.orders.migrations.0013_event_codes_from_messages")


@pytest.fixture(autouse=True)
def german_afterwards():
    """A request with Accept-Language leaves its language active in this thread: the next
    tests read German again."""
    yield
    translation.activate("de")


def dummy(template):
    return {name: f"<{name}>" for name in PLACEHOLDER.findall(template)}


def in_language(text, language):
    with translation.override(language):
        return str(text)


SENTENCES = [
    *[(f"event {key}", text) for key, text in event_texts.TEXTS.items()],
    *[(f"suffix {name}", text) for name, text in event_texts.SUFFIXES if text is not None],
    *[(f"error {key}", text) for key, text in ERRORS.items()],
]


@pytest.mark.parametrize("name,text", SENTENCES, ids=[name for name, _text in SENTENCES])
def test_every_sentence_has_an_english_translation_with_the_same_params(name, text):
    german, english = in_language(text, "de"), in_language(text, "en")
    if PLACEHOLDER.sub("", german).strip():  # a sentence with words of its own (not only "%(error)s")
        assert english != german, f"{name}: no English translation"
    assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(german)), f"{name}: params differ"
    assert not GERMAN.search(english % dummy(german)), f"{name}: English text looks German: {english}"


@pytest.mark.parametrize("key", sorted(event_texts.TEXTS))
def test_every_code_renders_with_its_params_in_both_languages(key):
    code, _dot, variant = key.partition(".")
    params = {**dummy(in_language(event_texts.TEXTS[key], "de")), **({"variant": variant} if variant else {})}
    with translation.override("de"):
        german = event_texts.render(code, params)
    with translation.override("en"):
        english = event_texts.render(code, params)
    assert german and english and (german != english or key == "send_failed")
    assert "–" not in english.replace(" – ", ""), f"{key}: a param is missing"


def test_params_are_put_into_words_of_the_reader():
    params = {
        "variant": "serials",
        "serials": {"right": "R-1", "left": "L-2"},
    }
    with translation.override("en"):
        assert event_texts.render("goods_received", params) == "Goods receipt recorded. Serial numbers: right R-1, left L-2"
        assert event_texts.render("fitted", {"date": "2026-03-01", "until": "2028-03-01"}) == (
            "Fitted on 03/01/2026, warranty until 03/01/2028."
        )
        assert "“Nur in Blau”" in event_texts.render("cancel_refused", {"lab_text": "Nur in Blau"})
        assert event_texts.render("sent", {"variant": "ordered", "scans_separate": "left.stl (0,6 MB)"}) == (
            "Sent to the lab. Please send the scan file(s) left.stl (0,6 MB) to the lab separately (not in this delivery)."
        )
        assert event_texts.render("status_changed", {"status": "confirmed"}) == "Status changed: confirmed by the lab."
    with translation.override("de"):
        assert event_texts.render("fitted", {"date": "2026-03-01", "until": "2028-03-01"}) == (
            "Angepasst am 01.03.2026, Gewährleistung bis 01.03.2028."
        )


def test_an_event_without_code_shows_its_message_and_a_code_hides_it(order_with_events):
    legacy = OrderEvent.objects.create(order=order_with_events, source=EventSource.SYSTEM, message="Alter Text")
    assert legacy.text == "Alter Text"
    coded = OrderEvent.objects.create(
        order=order_with_events, source=EventSource.STAFF, message="Falsch", data={"code": "resend_requested", "params": {}}
    )
    with translation.override("en"):
        assert coded.text == "Sending again requested."


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def order_with_events(transaction_obj, dreve, dreve_supplier, alice):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item("right")], user=alice
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER, code="sending")
    with translation.override("de"):  # as the worker writes it
        error = TransientError(code="http_unreachable", detail="ConnectionError")
    Attempt.objects.create(
        order=order, number=1, started_at=order.created_at, outcome=AttemptOutcome.TRANSIENT_ERROR,
        error=error.message, error_code=error.code, error_params=error.params,
    )
    lifecycle.set_status(
        order, OrderStatus.QUEUED, source=EventSource.WORKER, code="send_retry",
        params={"n": 1, "error": error.as_data(), "s": 30},
    )
    return order


@pytest.mark.django_db
def test_the_api_renders_events_and_errors_in_the_language_of_accept_language(order_with_events, alice):
    url = f"/api/v1/orders/{order_with_events.pk}/"
    german = client_for(alice).get(url).json()
    english = client_for(alice).get(url, HTTP_ACCEPT_LANGUAGE="en").json()

    assert [event["code"] for event in english["events"]] == ["order_placed", "sending", "send_retry"]
    assert german["events"][0]["message"].startswith("Bestellung erstellt: über ")
    assert english["events"][0]["message"].startswith("Order created: through ")
    assert german["events"][2]["message"] == (
        "Versuch 1 fehlgeschlagen (Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen).); neuer Versuch in 30 s."
    )
    assert english["events"][2]["message"] == (
        "Attempt 1 failed (The lab cannot be reached (connection failed).); next attempt in 30 s."
    )
    for event in english["events"]:
        assert not GERMAN.search(event["message"]), event["message"]
    assert german["attempts"][0]["error"] == "Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."
    assert english["attempts"][0]["error"] == "The lab cannot be reached (connection failed)."
    assert english["attempts"][0]["error_code"] == "http_unreachable"


@pytest.mark.django_db
def test_a_failed_order_says_why_in_the_readers_language(order_with_events, alice):
    reason = {"variant": "gave_up", "error": TransientError(code="http_server_error", params={"code": 503}).as_data(),
              "n": 5, "duration": 86400}
    order = EarmouldOrder.objects.get(pk=order_with_events.pk)
    order.failure_params = reason
    order.failure_reason = event_texts.german("send_failed", reason)
    order.save()
    assert order.failure_reason == (
        "Das Labor meldet eine vorübergehende Störung (HTTP 503). – nach 5 Versuchen in 1\u00a0Tag aufgegeben."
    )
    english = client_for(alice).get(f"/api/v1/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["failure_reason"] == "The lab reports a temporary fault (HTTP 503). – given up after 5 attempts in 1\u00a0day."


def test_a_lab_question_keeps_the_labs_words_in_english():
    with translation.override("en"):
        text = event_texts.render("lab_question", {"text": "Welche Farbe genau?", "channel": "interface"})
    assert text == "Question from the lab: “Welche Farbe genau?”"
    assert lab_messages  # the module that records it (``record_question``)


def test_an_error_without_code_is_shown_as_the_lab_wrote_it():
    assert render_error("", {}, fallback="Auftrag unbekannt") == "Auftrag unbekannt"
    assert TransientError("Auftrag unbekannt").as_data() == {"code": "", "params": {}, "text": "Auftrag unbekannt"}


# --- the migration of older events ------------------------------------------------------------

OLD_EVENTS = [
    # (from, to, source, message, data) -> code
    ("draft", "queued", "staff", "Bestellung erstellt: über Standard-Bestellprozess an Dreve.", {}, "order_placed"),
    ("queued", "sending", "worker", "", {}, "sending"),
    ("sending", "queued", "worker",
     "Versuch 1 fehlgeschlagen (Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen).); neuer Versuch in 30 s.",
     {}, "send_retry"),
    ("queued", "sending", "worker", "", {}, "sending"),
    ("sending", "failed", "worker",
     "Das Labor meldet eine vorübergehende Störung (HTTP 503). – nach 5 Versuchen in 1\u00a0Tag aufgegeben.", {}, "send_failed"),
    ("failed", "queued", "staff", "Erneut senden angefordert.", {}, "resend_requested"),
    ("sending", "ordered", "worker", "Bestellung per E-Mail an labor@example.org gesendet.", {}, "sent"),
    ("ordered", "confirmed", "lab", "Statusmeldung des Labors: CONFIRMED", {}, "lab_status"),
    ("confirmed", "on_hold", "lab", "Rückfrage des Labors: „Welche Farbe?“",
     {"code": "lab_question", "params": {"message": "x", "channel": "interface"}}, "lab_question"),
    ("on_hold", "confirmed", "staff", "Rückfrage beantwortet: das Labor setzt die Bestellung fort.",
     {"code": "lab_resumed", "params": {"after": "manual_answer"}}, "lab_resumed"),
    ("confirmed", "received", "staff", "Wareneingang gebucht. Seriennummern: rechts R-1",
     {"serials": {"right": "R-1"}}, "goods_received"),
    ("received", "closed", "staff", "Abgeschlossen. Kunde verzichtet", {"without_receipt": False}, "closed"),
    ("", "", "system", "Demodaten: Bestellung beim Labor.", {}, "demo_data"),
    ("", "", "staff", "Anhang hinzugefügt (PDF, 1,2 MB).", {}, "attachment_added"),
    ("", "", "staff", "Stornierung beim Labor gemeldet: an Frau Berg, Telefon am 01.12.2026 10:30.",
     {"code": "cancel_reported", "params": {"sequence": 1, "channel": "manual"}}, "cancel_reported"),
    ("queued", "cancelled", "staff", "Kunde verzichtet",
     {"code": "cancel_accepted", "params": {"immediate": True}}, "cancel_accepted"),
    # Not recognised: a backend's own summary of a portal report, and a text of unknown origin.
    ("ordered", "confirmed", "lab", "Audia-Portal: Im Portal bestätigt. Auftragsnummer des Labors: A-1.", {}, None),
    ("", "", "system", "Irgendein alter Text", {}, None),
]


@pytest.mark.django_db
def test_the_migration_maps_older_german_events_to_codes(order_with_events):
    order = order_with_events
    created = [
        OrderEvent.objects.create(order=order, from_status=came, to_status=to, source=source, message=message, data=data)
        for came, to, source, message, data, _code in OLD_EVENTS
    ]
    Attempt.objects.filter(order=order).update(error_code="", error_params={})
    EarmouldOrder.objects.filter(pk=order.pk).update(
        failure_reason="Das Labor hat die Zugangsdaten abgelehnt (HTTP 401). Bitte die Zugangsdaten der Schnittstelle prüfen."
    )

    state = MigrationExecutor(connection).loader.project_state(("orders", "0013_event_codes_from_messages")).apps
    MIGRATION.forwards(state, None)

    events = {event.pk: event for event in OrderEvent.objects.filter(pk__in=[event.pk for event in created])}
    unrecognised = [event for event in events.values() if not event.data.get("code")]
    assert len(unrecognised) == 2
    for event, (_came, _to, _source, message, _data, code) in zip(created, OLD_EVENTS, strict=True):
        migrated = events[event.pk]
        assert migrated.data.get("code") == code, message
        with translation.override("de"):
            german = migrated.text
        with translation.override("en"):
            english = migrated.text
        if code is None:
            assert german == english == message  # shown as it is
        else:
            assert german == message or message in german or migrated.data["params"].get("variant") == "immediate", (
                message, german
            )
            assert not GERMAN.search(english), (message, english)
    retry = events[created[2].pk].data["params"]
    assert retry["error"]["code"] == "http_unreachable" and (retry["n"], retry["s"]) == (1, 30)
    failed = events[created[4].pk].data["params"]
    assert failed["error"] == {
        "code": "http_server_error", "params": {"code": "503"},
        "text": "Das Labor meldet eine vorübergehende Störung (HTTP 503).",
    }
    assert events[created[15].pk].data["params"]["reason"] == "Kunde verzichtet"
    assert events[created[8].pk].data["params"]["text"] == "Welche Farbe?"
    attempt = Attempt.objects.get(order=order)
    assert (attempt.error_code, attempt.error_params) == ("http_unreachable", {})
    order.refresh_from_db()
    assert order.failure_params["error"]["code"] == "http_credentials"
    with translation.override("en"):
        assert order.failure_text == (
            "The lab refused the credentials (HTTP 401). Please check the interface's credentials."
        )


# --- through the worker -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_keeps_the_errors_code_for_the_attempt_the_events_and_the_failure(scripted, transaction_obj, dreve, alice):
    scripted.script = [
        TransientError(code="http_unreachable", detail="ConnectionError"),
        PermanentError(code="http_credentials", params={"code": 401}),
    ]
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item("right")], user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    Dispatch.objects.filter(order=order).update(due_at=timezone.now() - timedelta(seconds=1))
    assert dispatch.run(order.dispatch.pk) == OrderStatus.FAILED

    order.refresh_from_db()
    assert list(order.attempts.values_list("error_code", flat=True)) == ["http_unreachable", "http_credentials"]
    assert not order.events.filter(data__code__isnull=True).exists()  # every event has a code
    assert [event.data["code"] for event in order.events.all()] == [
        "order_placed", "sending", "send_retry", "sending", "send_failed",
    ]
    assert order.failure_reason == (
        "Das Labor hat die Zugangsdaten abgelehnt (HTTP 401). Bitte die Zugangsdaten der Schnittstelle prüfen."
    )
    with translation.override("en"):
        assert order.failure_text == "The lab refused the credentials (HTTP 401). Please check the interface's credentials."
        texts = [event.text for event in order.events.all()]
        assert [attempt.error_text for attempt in order.attempts.all()] == [
            "The lab cannot be reached (connection failed).",
            "The lab refused the credentials (HTTP 401). Please check the interface's credentials.",
        ]
    assert texts[2] == "Attempt 1 failed (The lab cannot be reached (connection failed).); next attempt in " + (
        f"{order.events.all()[2].data['params']['s']} s."
    )
    for text in texts:
        assert not GERMAN.search(text.replace("Scripted lab", "")), text


def test_amounts_read_in_the_readers_notation():
    params = {"outcome": "charged_remake", "cost_bearer": "chain", "amount": "45.00", "variant": "amount"}
    with translation.override("de"):
        assert "Betrag 45,00 EUR" in event_texts.render("complaint_decided", params)
    with translation.override("en"):
        assert "amount 45.00 EUR" in event_texts.render("complaint_decided", params)
