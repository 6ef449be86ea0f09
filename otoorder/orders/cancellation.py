"""Cancelling an order (Stornierung): at once before the lab has it, else by asking the lab.

- Not yet at a lab (``choices.CANCEL_AT_ONCE``): cancelled at once; the order's outbox row is
  cancelled in the same transaction, so a worker holding the Celery message fails its claim.
- Being sent (``sending``): the cancellation is *parked* (a ``Cancellation`` row that is not
  due) until the send ends. A send that did not reach the lab is then cancelled at once, one
  that did becomes a cancellation request (``cancel_parked``).
- At a lab (``choices.AT_LAB``): a ``Cancellation`` row and status ``cancel_requested`` in one
  transaction; the worker carries it to the lab through the backend's ``cancel`` hook with the
  outbox's guarantees (``outbox.py``; key ``<order uuid>-storno-<sequence>``). The lab's answer
  — at once, or later by callback, status poll or inbox file (``apply_answer``) — cancels the
  order or sends it back to where it was. An interface that cannot carry a cancellation, or a
  request that failed for good, leaves it to staff (``cancel_to_report``): they report it to
  the lab and record who, whom, when and the lab's answer (``report``).
- A refused cancellation can be requested again (the next ``sequence``).

Every event carries ``data["code"]`` (``cancel_requested``, ``cancel_accepted``,
``cancel_refused``, ``cancel_to_report``, ``cancel_reported``) and ``data["params"]``.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from otoorder.backends import registry
from otoorder.backends.document import CancellationDocument
from otoorder.backends.exceptions import ConfigurationError
from otoorder.backends.result import CancelResult, CancelStatus

from . import outbox
from .choices import (
    AT_LAB,
    CANCEL_AT_ONCE,
    CANCELLING,
    AttemptOutcome,
    AttemptPurpose,
    CancellationOutcome,
    DispatchState,
    EventSource,
    OrderStatus,
)
from .documents import build_document
from .lifecycle import CANCEL_RETURNS, TRANSITIONS, InvalidTransition
from .lifecycle import record_event as _event
from .models import Cancellation, Dispatch

logger = logging.getLogger(__name__)

CANCEL_TASK = "otoorder.orders.tasks.send_cancellation"
#: A parked cancellation (the order is being sent) is not due until the send ends.
PARKED = datetime(9999, 1, 1, tzinfo=UTC)
#: Send outcomes after which the lab does not have the order: a parked cancellation is
#: then carried out at once.
NOT_AT_LAB = {OrderStatus.AWAITING_MANUAL, OrderStatus.REJECTED_BY_LAB, OrderStatus.FAILED, OrderStatus.QUEUED}
REASON_MAX = 500
LAB_ANSWER_MAX = 2000
REPORTED_TO_MAX = Cancellation._meta.get_field("reported_to").max_length


class NotCancellable(InvalidTransition):
    code = "not_cancellable"


def supports_cancellation(order):
    try:
        return bool(registry.get_backend_class(order.backend).supports_cancellation)
    except ConfigurationError:
        return False


def pending(order):
    """The order's cancellation that waits for the lab's answer (parked ones included)."""
    return Cancellation.objects.filter(order=order, outcome=CancellationOutcome.PENDING).first()


def is_parked(cancellation):
    return cancellation is not None and cancellation.previous_status == OrderStatus.SENDING


def can_cancel(order):
    """Whether "Stornieren" applies (at once, parked, or as a request to the lab)."""
    return order.status in CANCEL_AT_ONCE or order.status in AT_LAB or order.status == OrderStatus.SENDING


def cancels_at_once(order):
    return order.status in CANCEL_AT_ONCE


def clean_reason(reason):
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Der Grund darf höchstens %(max)d Zeichen lang sein.") % {"max": REASON_MAX}}
        )
    return reason


def request(order, *, user, reason=""):
    """Cancel ``order``: at once, parked, or as a request to the lab. Returns the order.

    Raises ``NotCancellable`` (code ``not_cancellable``) when the order's status allows none.
    """
    reason = clean_reason(reason)
    with transaction.atomic():
        order = outbox.lock_order(order.pk)
        open_request = pending(order)
        if order.status in CANCEL_AT_ONCE and not is_parked(open_request):
            _cancel_now(order, user=user, reason=reason, source=EventSource.STAFF)
        elif order.status == OrderStatus.SENDING and open_request is None:
            _park(order, user=user, reason=reason)
        elif order.status in AT_LAB and open_request is None:
            _ask_lab(order, _new(order, user=user, reason=reason, previous_status=order.status), actor=user)
        elif is_parked(open_request) or order.status in CANCELLING:
            raise NotCancellable(_("Die Stornierung dieser Bestellung ist bereits angefragt."))
        else:
            raise NotCancellable(
                _("Eine Bestellung im Status „%(status)s“ kann nicht storniert werden.")
                % {"status": order.get_status_display()}
            )
    logger.info("order %s: cancellation by user %s -> %s", order.pk, getattr(user, "pk", None), order.status)
    return order


def _new(order, *, user, reason, previous_status, **fields):
    sequence = (order.cancellations.aggregate(last=Max("sequence"))["last"] or 0) + 1
    return Cancellation.objects.create(
        order=order,
        sequence=sequence,
        reason=reason,
        previous_status=previous_status,
        requested_by=user if user and user.is_authenticated else None,
        **fields,
    )


def _cancel_now(order, *, user, reason, source, params=None):
    """Not at a lab: cancelled, and the order's outbox row with it (one transaction)."""
    Dispatch.objects.filter(order=order).exclude(state=DispatchState.DONE).update(state=DispatchState.CANCELLED)
    _event(
        order,
        code="cancel_accepted",
        params={"immediate": True, "variant": "immediate", **(params or {}), **({"reason": reason} if reason else {})},
        source=source,
        actor=user,
        to_status=OrderStatus.CANCELLED,
    )


def _park(order, *, user, reason):
    """Being sent: keep the cancellation until the send ends (``cancel_parked``)."""
    cancellation = _new(order, user=user, reason=reason, previous_status=OrderStatus.SENDING, due_at=PARKED)
    _event(
        order,
        code="cancel_requested",
        params={"sequence": cancellation.sequence, "parked": True, "variant": "parked"},
        source=EventSource.STAFF,
        actor=user,
    )


def _ask_lab(order, cancellation, *, actor=None, source=EventSource.STAFF):
    """At a lab: through the interface (outbox) or, where it cannot, by staff."""
    params = {"sequence": cancellation.sequence, **({"reason": cancellation.reason} if cancellation.reason else {})}
    if supports_cancellation(order):
        Cancellation.objects.filter(pk=cancellation.pk).update(state=DispatchState.QUEUED, due_at=timezone.now())
        _event(
            order,
            code="cancel_requested",
            params=params,
            source=source,
            actor=actor,
            to_status=OrderStatus.CANCEL_REQUESTED,
        )
        transaction.on_commit(lambda: enqueue(cancellation.pk))
    else:
        Cancellation.objects.filter(pk=cancellation.pk).update(
            state=DispatchState.DONE, manual=True, due_at=timezone.now()
        )
        _event(
            order,
            code="cancel_to_report",
            params=params,
            source=source,
            actor=actor,
            to_status=OrderStatus.CANCEL_TO_REPORT,
        )


def cancel_parked(order, *, sent):
    """The send of ``order`` ended (the caller holds the order's lock): carry out a parked
    cancellation. ``sent``: the lab has the order now. Returns whether there was one."""
    parked = Cancellation.objects.filter(
        order=order, outcome=CancellationOutcome.PENDING, previous_status=OrderStatus.SENDING
    ).first()
    if parked is None:
        return False
    if sent:
        parked.previous_status = order.status
        parked.save(update_fields=["previous_status", "updated_at"])
        _ask_lab(order, parked, source=EventSource.WORKER)
        return True
    Cancellation.objects.filter(pk=parked.pk).update(
        outcome=CancellationOutcome.ACCEPTED,
        state=DispatchState.CANCELLED,
        previous_status=order.status,
        answered_at=timezone.now(),
    )
    if OrderStatus.CANCELLED in TRANSITIONS.get(order.status, ()):
        _cancel_now(
            order, user=parked.requested_by, reason=parked.reason, source=EventSource.WORKER,
            params={"sequence": parked.sequence},
        )
    return True


# --- the lab's answer -------------------------------------------------------------------


def accept(order, cancellation, *, lab_text="", source, actor=None, data=None):
    """The lab cancelled the order (the caller holds the order's lock)."""
    Cancellation.objects.filter(pk=cancellation.pk).update(
        outcome=CancellationOutcome.ACCEPTED, lab_answer=lab_text[:LAB_ANSWER_MAX], answered_at=timezone.now()
    )
    _event(
        order,
        code="cancel_accepted",
        params={"sequence": cancellation.sequence, "lab_text": lab_text},
        source=source,
        actor=actor,
        data=data,
        to_status=OrderStatus.CANCELLED if OrderStatus.CANCELLED in TRANSITIONS.get(order.status, ()) else None,
    )


def refuse(order, cancellation, *, lab_text="", source, actor=None, data=None):
    """The lab refused: the order goes back to where it was, with the lab's words."""
    Cancellation.objects.filter(pk=cancellation.pk).update(
        outcome=CancellationOutcome.REFUSED, lab_answer=lab_text[:LAB_ANSWER_MAX], answered_at=timezone.now()
    )
    back = cancellation.previous_status
    target = back if order.status in CANCELLING and back in TRANSITIONS.get(order.status, ()) else None
    _event(
        order,
        code="cancel_refused",
        params={"sequence": cancellation.sequence, "lab_text": lab_text, "back_to": back},
        source=source,
        actor=actor,
        data=data,
        to_status=target,
    )


def to_report(order, cancellation, *, params=None, source=EventSource.WORKER):
    """The interface cannot carry it (or gave up, ``params`` with the error): staff report it
    to the lab."""
    Cancellation.objects.filter(pk=cancellation.pk).update(manual=True)
    _event(
        order,
        code="cancel_to_report",
        params={"sequence": cancellation.sequence, **(params or {})},
        source=source,
        to_status=OrderStatus.CANCEL_TO_REPORT if order.status == OrderStatus.CANCEL_REQUESTED else None,
    )


def apply_answer(order, update, *, source, data):
    """A lab's report that answers a cancellation (``StatusUpdate.cancellation``) or cancels
    the order (``status="cancelled"``). The caller holds the lock; returns whether handled."""
    answer = update.cancellation or ("accepted" if update.status == OrderStatus.CANCELLED else "")
    open_request = pending(order)
    if is_parked(open_request):
        open_request = None
    if answer == "accepted":
        if open_request is not None:
            accept(order, open_request, lab_text=update.lab_text, source=source, data=data)
            return True
        if OrderStatus.CANCELLED in TRANSITIONS.get(order.status, ()):
            # The lab cancelled on its own.
            _event(
                order,
                code="cancel_accepted",
                params={"by_lab": True, "variant": "by_lab", "lab_text": update.lab_text},
                source=source,
                data=data,
                to_status=OrderStatus.CANCELLED,
            )
            return True
        return False
    if answer == "refused" and open_request is not None:
        refuse(order, open_request, lab_text=update.lab_text, source=source, data=data)
        return True
    return False


def remember_lab_status(order, status):
    """While a cancellation is under way, a lab's other report does not end it; a refusal
    then returns the order to the lab's latest status."""
    if status in CANCEL_RETURNS:
        Cancellation.objects.filter(order=order, outcome=CancellationOutcome.PENDING).exclude(
            previous_status=OrderStatus.SENDING
        ).update(previous_status=status)


def report(order, *, user, reported_to, reported_at=None, outcome=CancellationOutcome.PENDING, lab_answer=""):
    """Staff reported the cancellation to the lab (phone, fax, e-mail, portal) and record it,
    and the lab's answer when they have it (accepted → cancelled; refused → back)."""
    reported_to = (reported_to or "").strip()
    lab_answer = (lab_answer or "").strip()
    reported_at = reported_at or timezone.now()
    errors = {}
    if not reported_to:
        errors["reported_to"] = _("Bitte angeben, wem beim Labor die Stornierung gemeldet wurde (z. B. „Frau Berg, Telefon“).")
    elif len(reported_to) > REPORTED_TO_MAX:
        errors["reported_to"] = _("Höchstens %(max)d Zeichen.") % {"max": REPORTED_TO_MAX}
    if len(lab_answer) > LAB_ANSWER_MAX:
        errors["lab_answer"] = _("Höchstens %(max)d Zeichen.") % {"max": LAB_ANSWER_MAX}
    if outcome not in CancellationOutcome.values:
        errors["outcome"] = _("Bitte eine gültige Antwort des Labors wählen.")
    if reported_at > timezone.now() + timedelta(minutes=5):
        errors["reported_at"] = _("Der Zeitpunkt der Meldung liegt in der Zukunft: bitte prüfen.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = outbox.lock_order(order.pk)
        cancellation = pending(order)
        if cancellation is None or is_parked(cancellation) or order.status not in CANCELLING:
            raise NotCancellable(_("Für diese Bestellung ist keine Stornierung offen."))
        Cancellation.objects.filter(pk=cancellation.pk).update(
            reported_by=user if user and user.is_authenticated else None,
            reported_to=reported_to,
            reported_at=reported_at,
        )
        _event(
            order,
            code="cancel_reported",
            params={"sequence": cancellation.sequence, "channel": "manual", "to": reported_to, "at": reported_at.isoformat()},
            source=EventSource.STAFF,
            actor=user,
        )
        if outcome == CancellationOutcome.ACCEPTED:
            accept(order, cancellation, lab_text=lab_answer, source=EventSource.STAFF, actor=user)
        elif outcome == CancellationOutcome.REFUSED:
            refuse(order, cancellation, lab_text=lab_answer, source=EventSource.STAFF, actor=user)
    return order


# --- the worker ---------------------------------------------------------------------------


def document(cancellation, order):
    return CancellationDocument(
        order=build_document(order),
        idempotency_key=cancellation.idempotency_key,
        sequence=cancellation.sequence,
        reason=cancellation.reason,
        requested_at=cancellation.created_at,
        lab_reference=order.external_reference,
    )


CANCEL_OUTCOMES = {
    CancelStatus.ACCEPTED: AttemptOutcome.CANCEL_ACCEPTED,
    CancelStatus.REFUSED: AttemptOutcome.CANCEL_REFUSED,
    CancelStatus.PENDING: AttemptOutcome.DELIVERED,
    CancelStatus.MANUAL: AttemptOutcome.MANUAL,
}


class CancellationOutbox(outbox.Outbox):
    model = Cancellation
    task = CANCEL_TASK
    purpose = AttemptPurpose.CANCELLATION
    noun = "cancellation"

    def deliver(self, row, order, backend):
        if not backend.supports_cancellation:
            return CancelResult(CancelStatus.MANUAL)
        return backend.cancel(document(row, order))

    def succeeded(self, row, token, order, result, started_at, duration_ms):
        with transaction.atomic():
            order = outbox.lock_order(order.pk)
            outbox.record_attempt(
                self, row, order, started_at, duration_ms, CANCEL_OUTCOMES[result.status],
                summary={"idempotency_key": row.idempotency_key, **result.request_summary},
                response=result.raw_response,
            )
            outbox.release(self, row, token, state=DispatchState.DONE, last_error="")
            row.refresh_from_db()
            if row.outcome != CancellationOutcome.PENDING:
                return row.outcome  # answered meanwhile (a callback, or staff)
            if result.status == CancelStatus.ACCEPTED:
                accept(order, row, lab_text=result.lab_message, source=EventSource.LAB)
            elif result.status == CancelStatus.REFUSED:
                refuse(order, row, lab_text=result.lab_message, source=EventSource.LAB)
            elif result.status == CancelStatus.PENDING:
                _event(
                    order,
                    code="cancel_reported",
                    params={"sequence": row.sequence, "channel": "interface", "variant": "interface"},
                    source=EventSource.WORKER,
                    data={"backend_message": result.message},
                )
            else:
                to_report(order, row)
        return result.status.value

    def retrying(self, row, order, error, countdown):
        _event(
            order,
            code="cancel_requested",
            params={
                "sequence": row.sequence,
                "retry_in": int(countdown),
                **outbox.retry_params(row, error, countdown),
                "variant": "retry_ambiguous" if error.ambiguous else "retry",
            },
            source=EventSource.WORKER,
        )
        transaction.on_commit(lambda: enqueue(row.pk, countdown=countdown))
        return "retry"

    def given_up(self, row, order, error, reason):
        to_report(order, row, params={**reason, "variant": "gave_up"})
        return "to_report"


CANCELLATIONS = CancellationOutbox()


def enqueue(cancellation_id, countdown=None):
    return outbox.enqueue(CANCELLATIONS, cancellation_id, countdown=countdown)


def run(cancellation_id):
    """Carry one cancellation to the lab if it can be claimed."""
    return outbox.run(CANCELLATIONS, cancellation_id)


def sweep(now=None):
    return outbox.sweep(CANCELLATIONS, now)

