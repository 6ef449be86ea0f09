"""The outbox in-process: claim, attempts, retries, failures, resend, sweeper, manual orders.

The lab here is a backend class of the test module registered for the test (it stands for a
lab, not for our transport code); the real SMTP path runs in tests/integration/.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from otoorder.backends import registry
from otoorder.backends.base import BaseBackend
from otoorder.backends.exceptions import DeliveryUncertain, PermanentError, TransientError
from otoorder.backends.result import DispatchResult, ResultStatus
from otoorder.orders import dispatch, lifecycle, services
from otoorder.orders.choices import AttemptOutcome, DispatchState, OrderStatus
from otoorder.orders.models import Dispatch, OrderEvent
from tests import factories as f
from tests.factories import bte_item
from tests.unavailable_backend import unavailable_backend  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


class ScriptedLab(BaseBackend):
    """Answers with the next entry of ``script``: an exception to raise or a result."""

    key = "scripted_lab"
    label = "Scripted lab"
    script = []
    received = []

    def send(self, document):
        type(self).received.append(document.order_id)
        answer = type(self).script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def scripted(monkeypatch, chain, dreve, dreve_supplier, settings):
    monkeypatch.setitem(registry.BACKENDS, "scripted_lab", (f"{__name__}.ScriptedLab", "Scripted lab"))
    registry.get_backend_class.cache_clear()
    ScriptedLab.script, ScriptedLab.received = [], []
    settings.OTOORDER_DISPATCH = {
        **settings.OTOORDER_DISPATCH,
        "RETRY_HORIZON": timedelta(hours=1),
        "BACKOFF_BASE_SECONDS": 10,
        "BACKOFF_MAX_SECONDS": 900,
    }
    f.InterfaceDefinitionFactory(chain=chain, backend="scripted_lab", companies=[dreve], supplier=dreve_supplier)
    yield ScriptedLab
    registry.get_backend_class.cache_clear()


@pytest.fixture
def order(transaction_obj, dreve, alice):
    return services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item("right")], user=alice)


def make_due(order):
    Dispatch.objects.filter(order=order).update(due_at=timezone.now() - timedelta(seconds=1))


def test_claim_is_exclusive(scripted, order):
    assert dispatch.claim(order.dispatch.pk) is not None
    assert dispatch.claim(order.dispatch.pk) is None


def test_success_records_attempt_and_reference(scripted, order):
    scripted.script = [DispatchResult(ResultStatus.CONFIRMED, external_reference="LAB-1", raw_response="{ok}")]
    assert dispatch.run(order.dispatch.pk) == OrderStatus.CONFIRMED
    order.refresh_from_db()
    assert (order.status, order.external_reference) == ("confirmed", "LAB-1")
    assert scripted.received == [str(order.pk)]
    attempt = order.attempts.get()
    assert (attempt.number, attempt.outcome, attempt.response) == (1, "confirmed", "{ok}")
    assert [e.to_status for e in order.events.all()] == ["queued", "sending", "confirmed"]
    assert dispatch.run(order.dispatch.pk) is None  # done rows are never sent again


def test_transient_error_retries_until_the_horizon_then_fails_visibly(scripted, order):
    scripted.script = [TransientError("Labor antwortet nicht")] * 3
    before = timezone.now()
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    row = Dispatch.objects.get(order=order)
    assert row.state == DispatchState.QUEUED and row.due_at > timezone.now()
    # The round's first claim fixed the horizon; later claims keep it.
    horizon = row.retry_until
    assert before + timedelta(hours=1) <= horizon <= timezone.now() + timedelta(hours=1)
    assert dispatch.run(row.pk) is None  # not due yet
    make_due(order)
    assert dispatch.run(row.pk) == OrderStatus.QUEUED
    assert Dispatch.objects.get(order=order).retry_until == horizon
    make_due(order)
    Dispatch.objects.filter(order=order).update(retry_until=timezone.now() - timedelta(seconds=1))
    assert dispatch.run(row.pk) == OrderStatus.FAILED
    order.refresh_from_db()
    assert order.status == "failed"
    assert "Labor antwortet nicht" in order.failure_reason and "3 Versuchen" in order.failure_reason
    assert "in 1\xa0Stunde aufgegeben" in order.failure_reason
    assert list(order.attempts.values_list("outcome", flat=True)) == ["transient_error"] * 3
    assert len(scripted.received) == 3 and set(scripted.received) == {str(order.pk)}


def test_attempts_are_not_counted_only_time_is(scripted, order):
    """More failures than the old limit of eight attempts: still queued within the horizon."""
    scripted.script = [TransientError("Labor antwortet nicht")] * 12 + [DispatchResult(ResultStatus.ORDERED)]
    for _ in range(12):
        make_due(order)
        assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    make_due(order)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert order.attempts.count() == 13


def test_backoff_has_a_floor_and_a_cap(settings):
    settings.OTOORDER_DISPATCH = {**settings.OTOORDER_DISPATCH, "BACKOFF_BASE_SECONDS": 15, "BACKOFF_MAX_SECONDS": 900}
    for n in range(1, 40):
        step = min(900, 15 * 2 ** (n - 1))
        waits = [dispatch.backoff_seconds(n) for _ in range(200)]
        assert all(max(7.5, step / 2) <= wait <= step <= 900 for wait in waits), n
    # Even at their shortest, eight waits cover more than a mail server's five-minute outage
    # (full jitter let them all fall within 22 seconds).
    assert sum(max(7.5, min(900, 15 * 2 ** (n - 1)) / 2) for n in range(1, 9)) > 20 * 60


def test_last_wait_is_shortened_to_the_horizon(scripted, order, settings):
    now = timezone.now()
    row = Dispatch.objects.get(order=order)
    row.attempt_count, row.retry_until = 10, now + timedelta(seconds=30)
    assert dispatch.retry_delay(row, now) == 30  # the cap would be 900 s
    row.retry_until = now
    assert dispatch.retry_delay(row, now) is None


def test_ambiguous_outcome_is_logged_and_retried_later_under_the_same_key(scripted, order):
    scripted.script = [
        DeliveryUncertain("Verbindung nach dem Senden abgebrochen", idempotency_key=f"<{order.pk}@otoorder>"),
        DispatchResult(ResultStatus.ORDERED),
    ]
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    attempt = order.attempts.get()
    assert attempt.outcome == AttemptOutcome.AMBIGUOUS and not attempt.permanent
    assert attempt.request_summary == {"idempotency_key": f"<{order.pk}@otoorder>"}
    assert str(attempt.get_outcome_display()) == "möglicherweise bereits zugestellt"
    with translation.override("en"):
        assert str(attempt.get_outcome_display()) == "possibly delivered already"
    assert "möglicherweise bereits zugestellt" in order.events.last().message
    assert "demselben Schlüssel" in order.events.last().message
    make_due(order)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert list(order.attempts.values_list("outcome", flat=True)) == ["ambiguous", "ordered"]
    assert scripted.received == [str(order.pk)] * 2


def test_permanent_error_fails_at_once_and_resend_works(scripted, order, alice):
    scripted.script = [PermanentError("Kundennummer unbekannt"), DispatchResult(ResultStatus.ORDERED)]
    assert dispatch.run(order.dispatch.pk) == OrderStatus.FAILED
    order.refresh_from_db()
    assert order.failure_reason == "Kundennummer unbekannt" and order.can_resend
    services.resend(order, user=alice)
    order.refresh_from_db()
    assert order.status == "queued" and order.failure_reason == ""
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert list(order.attempts.values_list("number", flat=True)) == [1, 2]


def test_resend_only_for_failed_orders(scripted, order, alice):
    with pytest.raises(lifecycle.InvalidTransition):
        services.resend(order, user=alice)


def test_unexpected_exception_is_retried_not_lost(scripted, order):
    scripted.script = [RuntimeError("bug")]
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    assert "RuntimeError" in order.attempts.get().error


def test_unavailable_interface_fails_with_reason(chain, transaction_obj, alice, dreve, dreve_supplier, unavailable_backend):
    definition = f.InterfaceDefinitionFactory(chain=chain, backend=unavailable_backend, companies=[dreve], supplier=dreve_supplier)
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item()], user=alice)
    assert order.interface_definition == definition
    assert dispatch.run(order.dispatch.pk) == OrderStatus.FAILED
    order.refresh_from_db()
    assert "noch nicht verfügbar" in order.failure_reason


def test_sweeper_takes_back_rows_of_dead_workers(scripted, order):
    token = dispatch.claim(order.dispatch.pk)
    assert token
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    long_ago = timezone.now() - timedelta(hours=1)
    Dispatch.objects.filter(order=order).update(claimed_at=long_ago)
    dispatch.sweep()
    row = Dispatch.objects.get(order=order)
    order.refresh_from_db()
    assert row.state == DispatchState.QUEUED and row.claim_token is None
    assert order.status == "queued"
    assert "unterbrochen" in order.events.last().message
    # Nobody knows whether the dead worker's send reached the lab.
    interrupted = order.attempts.get()
    assert (interrupted.number, interrupted.outcome) == (1, AttemptOutcome.AMBIGUOUS)
    assert interrupted.request_summary == {"idempotency_key": str(order.pk)}
    scripted.script = [DispatchResult(ResultStatus.ORDERED)]
    assert dispatch.run(row.pk) == OrderStatus.ORDERED
    assert list(order.attempts.values_list("number", "outcome")) == [(1, "ambiguous"), (2, "ordered")]


def test_late_result_after_takeback_is_still_recorded(scripted, order):
    """A worker that was presumed dead finishes after the sweeper took its row back."""
    token = dispatch.claim(order.dispatch.pk)
    row = Dispatch.objects.get(order=order)
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    Dispatch.objects.filter(order=order).update(claimed_at=timezone.now() - timedelta(hours=1))
    dispatch.sweep()
    assert order.attempts.get().outcome == AttemptOutcome.AMBIGUOUS
    dispatch._succeed(row, token, order, DispatchResult(ResultStatus.ORDERED), timezone.now(), 5)
    order.refresh_from_db()
    assert order.status == "ordered"
    assert Dispatch.objects.get(order=order).state == DispatchState.DONE
    # The worker's answer replaces the sweeper's guess.
    assert list(order.attempts.values_list("number", "outcome")) == [(1, "ordered")]


def test_email_supplier_through_standard_process(transaction_obj, dreve, dreve_supplier, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    (message,) = mail.outbox
    assert message.to == ["bestellung@dreve.test"]
    assert order.number in message.subject and "K-4711" in message.subject
    assert message.extra_headers["Message-ID"] == f"<{order.pk}@otoorder>"
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")


@pytest.mark.parametrize("method,field", [("print", {}), ("fax", {"fax_number": "+49 30 1234"}), ("phone", {})])
def test_manual_order_methods_wait_for_staff(transaction_obj, dreve, alice, settings, method, field):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    supplier = f.SupplierFactory(company=dreve, order_method=method, order_email="", **field)
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, supplier=supplier, items=[bte_item()], user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.AWAITING_MANUAL
    assert mail.outbox == []
    services.confirm_manual_order(order, user=alice)
    order.refresh_from_db()
    assert order.status == "ordered" and order.ordered_at
    assert order.events.last().actor == alice


def test_interface_supplier_without_definition_is_refused(transaction_obj, dreve, alice):
    supplier = f.SupplierFactory(company=dreve, order_method="interface", order_email="")
    with pytest.raises(ValidationError):
        services.place_order(transaction_obj=transaction_obj, company=dreve, supplier=supplier, items=[bte_item()], user=alice)


def test_order_events_are_append_only(scripted, order):
    event = order.events.first()
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(TypeError):
        OrderEvent.objects.filter(order=order).update(message="x")
    with pytest.raises(TypeError):
        OrderEvent.objects.filter(order=order).delete()


def test_invalid_items_create_nothing(transaction_obj, dreve, dreve_supplier, alice):
    with pytest.raises(ValidationError) as caught:
        services.place_order(
            transaction_obj=transaction_obj,
            company=dreve,
            supplier=dreve_supplier,
            items=[bte_item("right", tube=""), {"side": "left", "product_family": "ric", "style": "canal", "material": "silicone"}],
            user=alice,
        )
    right, left = caught.value.message_dict["items"]
    assert set(right) == {"tube"}
    assert set(left) == {"receiver_power", "receiver_length"}
    assert Dispatch.objects.count() == 0

