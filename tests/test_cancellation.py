"""Cancellations and lab questions in-process: the service, the outbox rows, the races with a
send in progress, the lab's answers, the manual report, the thread, the order page and the API.

The lab is a backend class of this module registered for the test (it stands for a lab, not for
our transport code); the real worker, broker and loopback labs run in tests/integration/.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from otoorder.backends import registry
from otoorder.backends.base import BaseBackend
from otoorder.backends.exceptions import PermanentError, TransientError
from otoorder.backends.labstatus import StatusUpdate
from otoorder.backends.result import CancelResult, CancelStatus, DispatchResult, MessageResult, ResultStatus
from otoorder.orders import cancellation, dispatch, lab_messages, services
from otoorder.orders.cancellation import NotCancellable
from otoorder.orders.choices import DispatchState, EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.lifecycle import set_status
from otoorder.orders.models import Cancellation, Dispatch, OrderMessage
from tests import factories as f
from tests.factories import bte_item

pytestmark = pytest.mark.django_db


class CancellingLab(BaseBackend):
    """Answers sends, cancellations and messages with the next entry of its scripts."""

    key = "cancelling_lab"
    label = "Cancelling lab"
    supports_cancellation = True
    supports_lab_messages = True
    script = []
    cancel_script = []
    message_script = []
    received = []
    #: Called inside ``send``: what happens while the worker is mid-send.
    during_send = None

    def send(self, document):
        type(self).received.append(("order", document.order_id))
        if type(self).during_send:
            type(self).during_send()
        return self._next(type(self).script)

    def cancel(self, request):
        type(self).received.append(("cancel", request.idempotency_key, request.sequence, request.lab_reference))
        return self._next(type(self).cancel_script)

    def send_message(self, message):
        type(self).received.append(("message", message.message_id, message.text, message.in_reply_to))
        return self._next(type(self).message_script)

    def check_connection(self):
        return "ok"

    @staticmethod
    def _next(script):
        answer = script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def lab(monkeypatch, chain, dreve, dreve_supplier, settings):
    monkeypatch.setitem(registry.BACKENDS, CancellingLab.key, (f"{__name__}.CancellingLab", CancellingLab.label))
    registry.get_backend_class.cache_clear()
    CancellingLab.script, CancellingLab.cancel_script, CancellingLab.message_script = [], [], []
    CancellingLab.received, CancellingLab.during_send = [], None
    settings.OTOORDER_DISPATCH = {
        **settings.OTOORDER_DISPATCH,
        "RETRY_HORIZON": timedelta(hours=1),
        "BACKOFF_BASE_SECONDS": 10,
        "BACKOFF_MAX_SECONDS": 900,
    }
    dreve_supplier.phone_number, dreve_supplier.fax_number = "0451 123", "0451 124"
    dreve_supplier.save()
    f.InterfaceDefinitionFactory(chain=chain, backend=CancellingLab.key, companies=[dreve], supplier=dreve_supplier)
    yield CancellingLab
    registry.get_backend_class.cache_clear()


@pytest.fixture
def order(lab, transaction_obj, dreve, alice):
    return services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item("right")], user=alice)


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def client_bob(bob):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    return other


def at_lab(order, lab, reference="LAB-7"):
    lab.script.append(DispatchResult(ResultStatus.CONFIRMED, external_reference=reference))
    assert dispatch.run(order.dispatch.pk) == OrderStatus.CONFIRMED
    order.refresh_from_db()
    return order


def make_due(model, **filters):
    model.objects.filter(**filters).update(due_at=timezone.now() - timedelta(seconds=1))


#: The codes of the cancellation and question code (every event carries a code).
CANCEL_CODES = {"cancel_requested", "cancel_accepted", "cancel_refused", "cancel_to_report", "cancel_reported",
                "lab_question", "lab_answer_sent", "lab_resumed", "lab_answer_failed"}


def codes(order):
    return [event.data["code"] for event in order.events.all() if event.data.get("code") in CANCEL_CODES]


def the_cancellation(order):
    return Cancellation.objects.get(order=order)


# --- not yet at a lab -------------------------------------------------------------------


def test_queued_order_is_cancelled_at_once_and_never_sent(lab, order, alice):
    services.cancel(order, user=alice, reason="Kunde verzichtet")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Dispatch.objects.get(order=order).state == DispatchState.CANCELLED
    # A worker that holds the Celery message meanwhile: its claim fails, nothing is sent.
    assert dispatch.run(order.dispatch.pk) is None
    assert lab.received == []
    assert order.events.last().message == "Storniert (noch nicht beim Labor). Kunde verzichtet"
    assert codes(order) == ["cancel_accepted"]
    assert order.events.last().data["params"] == {"immediate": True, "variant": "immediate", "reason": "Kunde verzichtet"}


def test_order_cancelled_between_retries_is_never_sent_again(lab, order, alice):
    lab.script.append(TransientError("Labor antwortet nicht"))
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    services.cancel(order, user=alice)
    make_due(Dispatch, order=order)
    assert dispatch.run(order.dispatch.pk) is None
    assert lab.received == [("order", str(order.pk))]


def test_cancel_mid_send_that_reaches_the_lab_becomes_a_request(lab, order, alice):
    lab.during_send = lambda: services.cancel(order, user=alice, reason="Kunde verstorben")
    lab.script.append(DispatchResult(ResultStatus.CONFIRMED, external_reference="LAB-9"))
    assert dispatch.run(order.dispatch.pk) == OrderStatus.CANCEL_REQUESTED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    row = the_cancellation(order)
    assert (row.previous_status, row.state, row.sequence, row.reason) == ("confirmed", "queued", 1, "Kunde verstorben")
    assert [e.to_status for e in order.events.all() if e.to_status] == [
        "queued", "sending", "confirmed", "cancel_requested"
    ]
    lab.cancel_script.append(CancelResult(CancelStatus.ACCEPTED, lab_message="storniert"))
    assert cancellation.run(row.pk) == "accepted"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert lab.received[-1] == ("cancel", f"{order.pk}-storno-1", 1, "LAB-9")


@pytest.mark.parametrize(
    "failure", [PermanentError("Zugang gesperrt"), TransientError("Labor antwortet nicht")], ids=["permanent", "transient"]
)
def test_cancel_mid_send_that_fails_cancels_at_once(lab, order, alice, failure):
    lab.during_send = lambda: services.cancel(order, user=alice)
    lab.script.append(failure)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.CANCELLED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Dispatch.objects.get(order=order).state in (DispatchState.CANCELLED, DispatchState.FAILED)
    assert the_cancellation(order).outcome == "accepted"
    make_due(Dispatch, order=order)
    assert dispatch.run(order.dispatch.pk) is None
    assert [r for r in lab.received if r[0] == "order"] == [("order", str(order.pk))]


def test_cancel_mid_send_twice_is_refused(lab, order, alice):
    def twice():
        services.cancel(order, user=alice)
        with pytest.raises(NotCancellable):
            services.cancel(order, user=alice)

    lab.during_send = twice
    lab.script.append(DispatchResult(ResultStatus.ORDERED))
    dispatch.run(order.dispatch.pk)
    assert Cancellation.objects.filter(order=order).count() == 1


def test_cancel_mid_send_of_a_manual_order_cancels_at_once(lab, order, alice):
    lab.during_send = lambda: services.cancel(order, user=alice)
    lab.script.append(DispatchResult(ResultStatus.AWAITING_MANUAL))
    assert dispatch.run(order.dispatch.pk) == OrderStatus.CANCELLED


# --- at a lab -------------------------------------------------------------------------


def test_accepted_by_the_lab(lab, order, alice):
    at_lab(order, lab)
    services.cancel(order, user=alice, reason="Kunde verzichtet")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    row = the_cancellation(order)
    assert (row.previous_status, row.requested_by, row.state) == ("confirmed", alice, "queued")
    lab.cancel_script.append(CancelResult(CancelStatus.ACCEPTED))
    assert cancellation.run(row.pk) == "accepted"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    row.refresh_from_db()
    assert (row.outcome, row.state) == ("accepted", "done") and row.answered_at
    attempt = order.attempts.get(purpose="cancellation")
    assert (attempt.subject, attempt.number, attempt.outcome) == ("1", 1, "cancel_accepted")
    assert attempt.request_summary["idempotency_key"] == f"{order.pk}-storno-1"
    assert codes(order) == ["cancel_requested", "cancel_accepted"]
    assert cancellation.run(row.pk) is None  # done rows are never sent again


def test_refused_goes_back_with_the_lab_words_and_can_be_asked_again(lab, order, alice):
    at_lab(order, lab)
    set_status(order, OrderStatus.IN_PRODUCTION, source=EventSource.LAB)
    services.cancel(order, user=alice)
    lab.cancel_script.append(CancelResult(CancelStatus.REFUSED, lab_message="bereits in Fertigung"))
    cancellation.run(the_cancellation(order).pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PRODUCTION
    event = order.events.last()
    assert event.data["code"] == "cancel_refused" and "bereits in Fertigung" in event.message
    assert event.data["params"]["lab_text"] == "bereits in Fertigung"
    # Asked again later: sequence 2, its own key.
    services.cancel(order, user=alice)
    second = Cancellation.objects.get(order=order, sequence=2)
    lab.cancel_script.append(CancelResult(CancelStatus.ACCEPTED))
    cancellation.run(second.pk)
    assert lab.received[-1][1] == f"{order.pk}-storno-2"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_pending_answer_comes_by_report(lab, order, alice):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    row = the_cancellation(order)
    lab.cancel_script.append(CancelResult(CancelStatus.PENDING))
    assert cancellation.run(row.pk) == "pending"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    # A plain status report meanwhile does not end the cancellation …
    assert apply_status_update(order, StatusUpdate(status="in_production", external_status="FERTIGUNG"))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    # … and the refusal returns to the lab's latest status.
    refusal = StatusUpdate(status=None, cancellation="refused", lab_text="schon gefräst")
    assert apply_status_update(order, refusal)
    assert not apply_status_update(order, refusal)  # the same report again changes nothing
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PRODUCTION
    row.refresh_from_db()
    assert (row.outcome, row.lab_answer) == ("refused", "schon gefräst")


def test_lab_reports_cancelled(lab, order, alice):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    lab.cancel_script.append(CancelResult(CancelStatus.PENDING))
    cancellation.run(the_cancellation(order).pk)
    apply_status_update(order, StatusUpdate(status="cancelled", external_status="STORNIERT"))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert the_cancellation(order).outcome == "accepted"


@pytest.mark.parametrize(
    "answer", [CancelResult(CancelStatus.MANUAL), PermanentError("Storno nicht erlaubt")], ids=["manual", "permanent"]
)
def test_manual_or_permanent_failure_leaves_it_to_staff(lab, order, alice, answer):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    lab.cancel_script.append(answer)
    cancellation.run(the_cancellation(order).pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_TO_REPORT
    assert the_cancellation(order).manual
    assert codes(order)[-1] == "cancel_to_report"


def test_transient_failure_is_retried_under_the_same_key(lab, order, alice):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    row = the_cancellation(order)
    lab.cancel_script += [TransientError("Labor antwortet nicht"), CancelResult(CancelStatus.ACCEPTED)]
    assert cancellation.run(row.pk) == "retry"
    assert cancellation.run(row.pk) is None  # not due yet
    make_due(Cancellation, pk=row.pk)
    assert cancellation.run(row.pk) == "accepted"
    keys = [r[1] for r in lab.received if r[0] == "cancel"]
    assert keys == [f"{order.pk}-storno-1"] * 2
    assert list(order.attempts.filter(purpose="cancellation").values_list("number", "outcome")) == [
        (1, "transient_error"), (2, "cancel_accepted")
    ]


def test_sweeper_takes_back_a_dead_workers_cancellation(lab, order, alice, settings):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    row = the_cancellation(order)
    assert cancellation.CANCELLATIONS.model.objects.filter(pk=row.pk).exists()
    from otoorder.orders import outbox

    assert outbox.claim(cancellation.CANCELLATIONS, row.pk) is not None
    later = timezone.now() + settings.OTOORDER_DISPATCH["SENDING_DEADLINE"] + timedelta(seconds=1)
    cancellation.sweep(now=later)
    row.refresh_from_db()
    assert row.state == "queued"
    attempt = order.attempts.get(purpose="cancellation")
    assert attempt.outcome == "ambiguous" and attempt.request_summary["idempotency_key"] == row.idempotency_key
    lab.cancel_script.append(CancelResult(CancelStatus.ACCEPTED))
    make_due(Cancellation, pk=row.pk)
    assert cancellation.run(row.pk) == "accepted"


def test_interface_without_cancellation_goes_to_staff_at_once(lab, order, alice, monkeypatch):
    at_lab(order, lab)
    monkeypatch.setattr(CancellingLab, "supports_cancellation", False)
    services.cancel(order, user=alice)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_TO_REPORT
    row = the_cancellation(order)
    assert row.manual and row.state == "done"


def test_manual_report_accepted_and_refused(lab, order, alice, monkeypatch):
    at_lab(order, lab)
    monkeypatch.setattr(CancellingLab, "supports_cancellation", False)
    services.cancel(order, user=alice)
    cancellation.report(order, user=alice, reported_to="Frau Berg, Telefon")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_TO_REPORT
    row = the_cancellation(order)
    assert (row.reported_to, row.reported_by) == ("Frau Berg, Telefon", alice) and row.reported_at
    cancellation.report(order, user=alice, reported_to="Frau Berg", outcome="refused", lab_answer="schon versandt")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert codes(order)[-2:] == ["cancel_reported", "cancel_refused"]
    services.cancel(order, user=alice)
    cancellation.report(order, user=alice, reported_to="Herr Kahl, Fax", outcome="accepted")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_manual_report_is_validated(lab, order, alice):
    at_lab(order, lab)
    from django.core.exceptions import ValidationError

    with pytest.raises(NotCancellable):
        cancellation.report(order, user=alice, reported_to="x")
    services.cancel(order, user=alice)
    with pytest.raises(ValidationError) as exc:
        cancellation.report(order, user=alice, reported_to="", lab_answer="x" * 2001)
    assert set(exc.value.message_dict) == {"reported_to", "lab_answer"}


def test_shipped_order_is_not_cancellable(lab, order, alice):
    at_lab(order, lab)
    set_status(order, OrderStatus.SHIPPED, source=EventSource.LAB)
    with pytest.raises(NotCancellable) as exc:
        services.cancel(order, user=alice)
    assert exc.value.code == "not_cancellable"


# --- lab questions ----------------------------------------------------------------------


def question(text="Bitte Bohrung 1 oder 2 mm?", message_id="Q-1"):
    return StatusUpdate(status="on_hold", external_status="RUECKFRAGE", lab_text=text, lab_message_id=message_id)


def test_question_is_recorded_once_and_puts_the_order_on_hold(lab, order):
    at_lab(order, lab)
    assert apply_status_update(order, question())
    assert not apply_status_update(order, question())
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    message = OrderMessage.objects.get(order=order)
    assert (message.direction, message.text, message.lab_message_id) == ("from_lab", "Bitte Bohrung 1 oder 2 mm?", "Q-1")
    assert codes(order)[-1] == "lab_question"


def test_answer_through_the_interface_then_the_lab_resumes(lab, order, alice):
    at_lab(order, lab)
    apply_status_update(order, question())
    answer = lab_messages.answer(order, user=alice, text="2 mm bitte")
    assert (answer.channel, answer.state, answer.direction) == ("interface", "queued", "to_lab")
    lab.message_script.append(MessageResult(external_reference="A-1"))
    assert lab_messages.run(answer.pk) == "delivered"
    answer.refresh_from_db()
    assert (answer.state, answer.lab_message_id) == ("done", "A-1")
    assert lab.received[-1] == ("message", str(answer.pk), "2 mm bitte", "Q-1")
    assert order.attempts.get(purpose="message").subject == str(answer.pk)
    apply_status_update(order, StatusUpdate(status="in_production", external_status="FERTIGUNG"))
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PRODUCTION
    assert codes(order)[-2:] == ["lab_answer_sent", "lab_resumed"]


def test_answer_by_email_where_the_interface_has_no_messages(lab, order, alice, monkeypatch, customer):
    at_lab(order, lab)
    monkeypatch.setattr(CancellingLab, "supports_lab_messages", False)
    apply_status_update(order, question("Welche Farbe?\nBeige oder rot?"))
    answer = lab_messages.answer(order, user=alice, text="Beige.")
    assert answer.channel == "email"
    lab_messages.run(answer.pk)
    sent = mail.outbox[-1]
    assert sent.to == ["bestellung@dreve.test"]
    assert order.number in sent.subject and "Rückfrage" in sent.subject and "LAB-7" in sent.subject
    assert "> Welche Farbe?\n> Beige oder rot?" in sent.body and "Beige." in sent.body
    assert customer.last_name not in sent.body and customer.first_name not in sent.body
    assert sent.extra_headers["Message-ID"] == f"<{answer.pk}@otoorder>"


def test_answer_failing_is_retried_and_then_reported(lab, order, alice):
    at_lab(order, lab)
    apply_status_update(order, question())
    answer = lab_messages.answer(order, user=alice, text="Ja")
    lab.message_script += [TransientError("weg"), PermanentError("abgelehnt")]
    assert lab_messages.run(answer.pk) == "retry"
    make_due(OrderMessage, pk=answer.pk)
    assert lab_messages.run(answer.pk) == "failed"
    answer.refresh_from_db()
    assert answer.state == "failed" and "abgelehnt" in answer.last_error


def test_answer_needs_a_question_and_a_bounded_text(lab, order, alice):
    from django.core.exceptions import ValidationError

    at_lab(order, lab)
    with pytest.raises(lab_messages.NoQuestion):
        lab_messages.answer(order, user=alice, text="Hallo")
    apply_status_update(order, question())
    with pytest.raises(ValidationError) as exc:
        lab_messages.answer(order, user=alice, text="x" * 2001)
    assert "höchstens 2000 Zeichen" in exc.value.message_dict["text"][0]
    with pytest.raises(ValidationError):
        lab_messages.answer(order, user=alice, text="   ")


def test_phone_question_and_phone_answer_resume_the_order(lab, order, alice):
    at_lab(order, lab)
    lab_messages.record_staff_question(order, user=alice, text="Labor fragt nach der Schlauchgröße")
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    answer = lab_messages.answer(order, user=alice, text="Größe 13, telefonisch durchgegeben")
    assert (answer.channel, answer.state) == ("manual", "done")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert codes(order)[-3:] == ["lab_question", "lab_answer_sent", "lab_resumed"]


def test_question_during_a_cancellation_keeps_the_cancellation(lab, order, alice):
    at_lab(order, lab)
    services.cancel(order, user=alice)
    apply_status_update(order, question())
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    assert OrderMessage.objects.filter(order=order, direction="from_lab").count() == 1


# --- the order page ---------------------------------------------------------------------


def page(client, order):
    return client.get(reverse("orders:order_detail", kwargs={"pk": order.pk}))


def test_page_wording_for_immediate_and_requested_cancellation(lab, order, client_alice):
    assert "sofort storniert" in page(client_alice, order).text
    at_lab(order, lab)
    text = page(client_alice, order).text
    assert "Stornierung beim Labor anfragen" in text and 'id="cancel-order"' in text
    response = client_alice.post(reverse("orders:order_cancel", kwargs={"pk": order.pk}), {"reason": "zu spät"}, follow=True)
    assert "beim Labor angefragt" in response.text
    assert 'id="cancellation-requested"' in response.text and 'id="cancel-order"' not in response.text


def test_page_report_panel_shows_contacts_and_records(lab, order, client_alice, monkeypatch):
    at_lab(order, lab)
    monkeypatch.setattr(CancellingLab, "supports_cancellation", False)
    client_alice.post(reverse("orders:order_cancel", kwargs={"pk": order.pk}))
    text = page(client_alice, order).text
    assert 'id="cancellation-to-report"' in text
    assert "0451 123" in text and "0451 124" in text and "bestellung@dreve.test" in text
    url = reverse("orders:order_cancel_report", kwargs={"pk": order.pk})
    response = client_alice.post(url, {"reported_to": "", "outcome": "accepted"})
    assert response.status_code == 400 and "erforderlich" in response.text
    response = client_alice.post(
        url, {"reported_to": "Frau Berg, Telefon", "outcome": "refused", "lab_answer": "schon versandt"}, follow=True
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert 'id="cancellation-refused"' in response.text and "schon versandt" in response.text
    assert "Antwort des Labors: „schon versandt“" in response.text
    # The lab's words stay as written; the sentence around them (quotes included) is the reader's.
    english = client_alice.get(reverse("orders:order_detail", kwargs={"pk": order.pk}), HTTP_ACCEPT_LANGUAGE="en")
    assert "The lab's answer: “schon versandt”" in english.content.decode()


def test_page_thread_answer_and_read(lab, order, client_alice):
    at_lab(order, lab)
    apply_status_update(order, question())
    text = page(client_alice, order).text
    assert 'id="message-thread"' in text and "Bitte Bohrung 1 oder 2 mm?" in text and 'id="answer-form"' in text
    assert OrderMessage.objects.get(order=order).read_at is not None
    url = reverse("orders:order_message", kwargs={"pk": order.pk})
    response = client_alice.post(url, {"text": "x" * 2001})
    assert response.status_code == 400 and "2000" in response.text
    client_alice.post(url, {"text": "2 mm"})
    assert OrderMessage.objects.filter(order=order, direction="to_lab", text="2 mm").exists()


def test_other_branch_cannot_touch_cancellation_or_thread(lab, order, client_bob):
    for name in ("orders:order_cancel_report", "orders:order_message", "orders:order_question"):
        assert client_bob.post(reverse(name, kwargs={"pk": order.pk}), {"text": "x"}).status_code == 404


# --- the API ----------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_cancel_codes(lab, order, alice, transaction_obj, dreve):
    client = api(alice)
    response = client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "Kunde verzichtet"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    second = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item("right")], user=alice)
    at_lab(second, lab)
    response = client.post(f"/api/v1/orders/{second.pk}/cancel/", {}, format="json")
    assert (response.status_code, response.json()["status"]) == (202, "cancel_requested")
    response = client.post(f"/api/v1/orders/{second.pk}/cancel/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_cancellable"
    assert response.json()["detail"].startswith("Die Stornierung")
    response = client.post(f"/api/v1/orders/{second.pk}/cancel/", {"reason": "x" * 501}, format="json")
    assert response.status_code == 400


def test_api_messages(lab, order, alice, bob):
    client = api(alice)
    url = f"/api/v1/orders/{order.pk}/messages/"
    assert client.get(url).json()["results"] == []
    response = client.post(url, {"text": "Hallo"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "no_question"
    at_lab(order, lab)
    apply_status_update(order, question())
    response = client.post(url, {"text": "x" * 2001}, format="json")
    assert response.status_code == 400 and "text" in response.json()["errors"]
    response = client.post(url, {"text": "2 mm"}, format="json")
    assert response.status_code == 202
    assert (response.json()["direction"], response.json()["delivery"], response.json()["author"]) == ("to_lab", "queued", alice.get_full_name())
    thread = client.get(url).json()["results"]
    assert [m["direction"] for m in thread] == ["from_lab", "to_lab"]
    assert api(bob).get(url).status_code == 404
    assert api(bob).post(url, {"text": "x"}, format="json").status_code == 404


def test_question_by_email_is_answered_by_email(lab, order, alice):
    at_lab(order, lab)
    lab_messages.record_staff_question(order, user=alice, text="Farbe?", channel="email")
    answer = lab_messages.answer(order, user=alice, text="Beige")
    assert answer.channel == "email"
    lab_messages.run(answer.pk)
    assert "Farbe?" in mail.outbox[-1].body


def test_page_records_a_phone_question(lab, order, client_alice):
    at_lab(order, lab)
    url = reverse("orders:order_question", kwargs={"pk": order.pk})
    assert client_alice.post(url, {"text": "", "channel": "manual"}).status_code == 400
    assert client_alice.post(url, {"text": "Länge?", "channel": "fax"}).status_code == 400
    client_alice.post(url, {"text": "Länge?", "channel": "manual"})
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
