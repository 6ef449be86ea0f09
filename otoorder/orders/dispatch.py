"""Sending orders: the outbox, the claim, the attempt log and the retry policy.

How an order travels (DESIGN.md §3):

1. ``place_order`` stores the order as ``queued`` with its ``Dispatch`` row in one database
   transaction, and after commit ``enqueue`` publishes a Celery task carrying the row's id.
   If the broker is down the publish fails quietly: the row stays ``queued`` and the
   sweeper publishes it later. Nothing is lost.
2. The worker ``claim``s the row with one conditional UPDATE (``queued`` and due →
   ``sending``). Only one worker can win, however many copies of the message exist.
3. It builds the document, calls the backend with the order's UUID as idempotency key,
   records the attempt and moves the order on.
4. A transient error puts the row back to ``queued`` with a due time (exponential backoff
   with a floor and a cap) and publishes again with that countdown. Transient errors are
   retried for a time, ``RETRY_HORIZON`` from the round's first attempt; after it, or on a
   permanent error, the order is ``failed`` with the reason staff read. An attempt whose
   outcome nobody knows (``DeliveryUncertain``: the lab may have the order) is logged as
   ``ambiguous`` and retried the same way.
5. ``sweep`` (Celery beat) publishes rows left ``queued`` past their due time (lost
   message, broker down) and takes back rows left ``sending`` past the deadline (killed
   worker; its attempt is logged as ``ambiguous``). The lab sees the same idempotency key
   again and can drop the copy.
"""

import logging
import random
import socket
import time
import uuid
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _, gettext_lazy

from otoorder.backends import registry
from otoorder.backends.exceptions import BackendError
from otoorder.backends.result import ResultStatus

from .choices import AttemptOutcome, DispatchState, EventSource, OrderStatus
from .documents import build_document
from .lifecycle import set_status
from .models import Attempt, Dispatch, EarmouldOrder, OrderEvent

logger = logging.getLogger(__name__)

RESULT_TO_STATUS = {
    ResultStatus.ORDERED: OrderStatus.ORDERED,
    ResultStatus.CONFIRMED: OrderStatus.CONFIRMED,
    ResultStatus.AWAITING_PORTAL: OrderStatus.AWAITING_PORTAL,
    ResultStatus.AWAITING_MANUAL: OrderStatus.AWAITING_MANUAL,
    ResultStatus.REJECTED: OrderStatus.REJECTED_BY_LAB,
}
RESULT_MESSAGES = {
    ResultStatus.ORDERED: gettext_lazy("An das Labor gesendet."),
    ResultStatus.CONFIRMED: gettext_lazy("Vom Labor bestätigt."),
    ResultStatus.AWAITING_PORTAL: gettext_lazy("Portal-Übergabe bereit: Bestellung im Portal abschließen."),
    ResultStatus.AWAITING_MANUAL: gettext_lazy(
        "Bestellformular erstellt: bitte drucken/faxen/telefonisch bestellen und bestätigen."
    ),
    ResultStatus.REJECTED: gettext_lazy("Vom Labor abgelehnt."),
}

#: The Celery task that runs ``run`` (``tasks.dispatch_order``). It is published by name, so
#: this module does not import the task module, which imports it.
DISPATCH_TASK = "otoorder.orders.tasks.dispatch_order"


def policy():
    return settings.OTOORDER_DISPATCH


def enqueue(dispatch_id, countdown=None):
    """Publish the task; a broker that is down, or hangs, leaves the row to the sweeper.

    One try, bounded by the broker's socket timeouts (``BROKER_TIMEOUT``): the caller may be
    an API request whose order is already committed, and that answer must not wait for the
    broker nor turn into an error.
    """
    try:
        current_app.send_task(DISPATCH_TASK, args=(dispatch_id,), countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - any broker failure: the outbox row is the truth
        logger.warning("could not publish dispatch %s; the sweeper will retry", dispatch_id, exc_info=True)
        return False
    Dispatch.objects.filter(pk=dispatch_id).update(last_enqueued_at=timezone.now())
    return True


def claim(dispatch_id):
    """Atomically take a due ``queued`` row; returns the claim token or None.

    The round's first claim fixes how long transient failures are retried (``retry_until``).
    """
    token = uuid.uuid4()
    now = timezone.now()
    taken = Dispatch.objects.filter(pk=dispatch_id, state=DispatchState.QUEUED, due_at__lte=now).update(
        state=DispatchState.SENDING,
        claimed_at=now,
        claim_token=token,
        attempt_count=F("attempt_count") + 1,
        attempt_number=F("attempt_number") + 1,
        retry_until=Coalesce(
            F("retry_until"), Value(now + policy()["RETRY_HORIZON"], output_field=DateTimeField())
        ),
    )
    return token if taken else None


def backoff_seconds(attempt_count):
    """The wait before attempt ``attempt_count + 1``: exponential, jittered, floored and capped.

    With ``d = min(cap, base·2^(n−1))`` the wait is uniform in ``[max(base/2, d/2), d]``: the
    jitter spreads retries of many orders, and the floor (half the exponential step) keeps
    them from bunching in the first seconds, so the attempts cover the whole outage. Waits
    never exceed the cap (15 minutes), far below Redis' visibility timeout.
    """
    base, cap = policy()["BACKOFF_BASE_SECONDS"], policy()["BACKOFF_MAX_SECONDS"]
    step = min(cap, base * 2 ** min(max(attempt_count, 1) - 1, 30))
    return random.uniform(max(base / 2, step / 2), step)


def retry_delay(dispatch, now):
    """Seconds until the next attempt after a transient failure, or None past the horizon.

    The last wait is shortened so that one attempt falls on the horizon itself.
    """
    left = (dispatch.retry_until - now).total_seconds() if dispatch.retry_until else 0
    if left <= 0:
        return None
    return min(backoff_seconds(dispatch.attempt_count), left)


def run(dispatch_id):
    """Send one outbox row if it can be claimed. Returns the new order status or None."""
    # Claim and "sending" commit together: one durable write before the lab is contacted.
    with transaction.atomic():
        token = claim(dispatch_id)
        if token is None:
            return None
        dispatch = Dispatch.objects.select_related("order__interface_definition").get(pk=dispatch_id)
        order = dispatch.order
        if order.status == OrderStatus.QUEUED:
            _transition(order, OrderStatus.SENDING, message="")
    started_at, started = timezone.now(), time.monotonic()
    result = error = None
    try:
        backend = _backend_for(order)
        document = build_document(order)
        result = backend.send(document)
    except BackendError as exc:
        error = exc
    except (NotImplementedError, ImproperlyConfigured) as exc:
        # A backend that breaks the protocol: a programming error, not the definition's fault.
        logger.exception("programming error in backend %s sending order %s", order.backend, order.pk)
        error = BackendError(
            _("Programmfehler in der Schnittstelle (%(kind)s); bitte den Betreiber informieren.")
            % {"kind": type(exc).__name__},
            permanent=True,
            detail=f"{type(exc).__name__}: {exc}",
        )
    except Exception as exc:  # noqa: BLE001 - an unexpected bug must not lose the order
        logger.exception("unexpected error sending order %s", order.pk)
        error = BackendError(_("Unerwarteter Fehler beim Senden (%(kind)s).") % {"kind": type(exc).__name__})
    duration_ms = int((time.monotonic() - started) * 1000)
    if result is not None:
        return _succeed(dispatch, token, order, result, started_at, duration_ms)
    return _fail(dispatch, token, order, error, started_at, duration_ms)


def _backend_for(order):
    backend_class = registry.get_backend_class(order.backend)
    definition = order.interface_definition
    options = definition.configured_options() if definition else {}
    return backend_class(options, timeout=policy()["TRANSPORT_TIMEOUT"])


def _release(dispatch, token, **fields):
    """Write the outbox row's outcome.

    Normally the row is still ours (``sending`` with our claim token). If the sweeper took it
    back from this presumed-dead worker meanwhile, the outcome is written all the same: the lab
    has answered, and that answer is the truth about the order.
    """
    if not Dispatch.objects.filter(pk=dispatch.pk, state=DispatchState.SENDING, claim_token=token).update(
        claim_token=None, **fields
    ):
        logger.warning("dispatch %s was taken back while sending; writing the lab's answer anyway", dispatch.pk)
        Dispatch.objects.filter(pk=dispatch.pk).update(claim_token=None, **fields)


def _record_attempt(
    dispatch, order, started_at, duration_ms, outcome, *, permanent=False, error="", summary=None, response=""
):
    """Append to the attempt log, numbered per order across resends (by the claim).

    If the sweeper took the row back from this presumed-dead worker meanwhile, it logged the
    attempt as ``ambiguous``; the worker's answer replaces that guess with what happened.
    """
    Attempt.objects.update_or_create(
        order=order,
        number=dispatch.attempt_number,
        defaults={
            "started_at": started_at,
            "duration_ms": duration_ms,
            "outcome": outcome,
            "permanent": permanent,
            "error": error,
            "request_summary": summary or {},
            "response": (response or "")[:20000],
            "worker": socket.gethostname(),
        },
    )


def _succeed(dispatch, token, order, result, started_at, duration_ms):
    new_status = RESULT_TO_STATUS[result.status]
    with transaction.atomic():
        order = EarmouldOrder.objects.select_for_update().get(pk=order.pk)
        _record_attempt(
            dispatch,
            order,
            started_at,
            duration_ms,
            result.status.value,
            summary=result.request_summary,
            response=result.raw_response,
        )
        _release(dispatch, token, state=DispatchState.DONE, last_error="")
        fields = []
        if result.external_reference:
            order.external_reference = result.external_reference
            fields.append("external_reference")
        if result.external_status:
            order.external_status = result.external_status
            fields.append("external_status")
        if result.data.get("properties"):
            order.lab_properties = result.data["properties"]
            fields.append("lab_properties")
        if new_status in (OrderStatus.ORDERED, OrderStatus.CONFIRMED):
            order.ordered_at = timezone.now()
            fields.append("ordered_at")
        if order.status == OrderStatus.QUEUED:
            # The sweeper had taken the row back from this presumed-dead worker meanwhile.
            _transition(order, OrderStatus.SENDING, message=_("Verspätete Antwort eines Versandvorgangs."))
        if order.status == new_status:
            order.save(update_fields=[*fields, "updated_at"])
        else:
            _transition(
                order,
                new_status,
                message=result.message or str(RESULT_MESSAGES[result.status]),
                data={"external_reference": result.external_reference, **result.data},
                save_fields=fields,
            )
    logger.info("order %s sent: %s", order.pk, new_status)
    return new_status


def _fail(dispatch, token, order, error, started_at, duration_ms):
    countdown = None if error.permanent else retry_delay(dispatch, timezone.now())
    retry = countdown is not None
    if error.permanent:
        outcome = AttemptOutcome.PERMANENT_ERROR
    else:
        outcome = AttemptOutcome.AMBIGUOUS if error.ambiguous else AttemptOutcome.TRANSIENT_ERROR
    summary = {"idempotency_key": error.idempotency_key} if getattr(error, "idempotency_key", "") else None
    with transaction.atomic():
        order = EarmouldOrder.objects.select_for_update().get(pk=order.pk)
        _record_attempt(
            dispatch,
            order,
            started_at,
            duration_ms,
            outcome,
            permanent=error.permanent,
            error=error.message,
            summary=summary,
            response=str(error.response or error.detail or ""),
        )
        if retry:
            _release(
                dispatch,
                token,
                state=DispatchState.QUEUED,
                due_at=timezone.now() + timedelta(seconds=countdown),
                last_error=error.message,
            )
            if error.ambiguous:
                message = _(
                    "Versuch %(n)s ohne Antwort des Labors (%(reason)s): möglicherweise bereits zugestellt; "
                    "neuer Versuch unter demselben Schlüssel in %(s)s s."
                ) % {"n": dispatch.attempt_count, "reason": error.message, "s": int(countdown)}
            else:
                message = _("Versuch %(n)s fehlgeschlagen (%(reason)s); neuer Versuch in %(s)s s.") % {
                    "n": dispatch.attempt_count,
                    "reason": error.message,
                    "s": int(countdown),
                }
            if order.status == OrderStatus.QUEUED:  # taken back by the sweeper meanwhile
                OrderEvent.objects.create(order=order, source=EventSource.WORKER, message=message)
            else:
                _transition(order, OrderStatus.QUEUED, message=message)
            transaction.on_commit(lambda: enqueue(dispatch.pk, countdown=countdown))
        else:
            _release(dispatch, token, state=DispatchState.FAILED, last_error=error.message)
            reason = error.message
            if not error.permanent:
                now = timezone.now()
                reason = _("%(reason)s – nach %(n)s Versuchen in %(duration)s aufgegeben.") % {
                    "reason": error.message,
                    "n": dispatch.attempt_count,
                    "duration": timesince(now - policy()["RETRY_HORIZON"], now),
                }
            order.failure_reason = reason
            _transition(order, OrderStatus.FAILED, message=reason, save_fields=["failure_reason"])
    logger.info("order %s attempt %s failed (permanent=%s)", order.pk, dispatch.attempt_count, error.permanent)
    return OrderStatus.QUEUED if retry else OrderStatus.FAILED


def _transition(order, new_status, *, message, data=None, save_fields=()):
    """A worker's status change; callers hold the transaction (and the order's lock)."""
    return set_status(order, new_status, source=EventSource.WORKER, message=message, data=data, save_fields=save_fields)


def sweep(now=None):
    """Publish rows that should be moving and are not; returns how many were published."""
    now = now or timezone.now()
    queued_deadline, sending_deadline = policy()["QUEUED_DEADLINE"], policy()["SENDING_DEADLINE"]
    # Rows whose worker died mid-send: back to the queue (the lab dedupes by the UUID).
    stale = list(
        Dispatch.objects.filter(state=DispatchState.SENDING, claimed_at__lt=now - sending_deadline).values_list(
            "pk", "order_id", "attempt_number", "claimed_at"
        )
    )
    for dispatch_id, order_id, attempt_number, claimed_at in stale:
        with transaction.atomic():
            taken = Dispatch.objects.filter(
                pk=dispatch_id, state=DispatchState.SENDING, claimed_at__lt=now - sending_deadline
            ).update(state=DispatchState.QUEUED, claim_token=None, due_at=now)
            if taken:
                order = EarmouldOrder.objects.select_for_update().get(pk=order_id)
                # Nobody knows how far the dead worker got: the lab may have the order.
                Attempt.objects.get_or_create(
                    order=order,
                    number=attempt_number,
                    defaults={
                        "started_at": claimed_at,
                        "duration_ms": int((now - claimed_at).total_seconds() * 1000),
                        "outcome": AttemptOutcome.AMBIGUOUS,
                        "error": _("Der Versand wurde unterbrochen (Worker nicht mehr erreichbar), bevor das Labor antwortete."),
                        "request_summary": {"idempotency_key": str(order.pk)},
                        "worker": socket.gethostname(),
                    },
                )
                if order.status == OrderStatus.SENDING:
                    _transition(
                        order,
                        OrderStatus.QUEUED,
                        message=_(
                            "Der Versand wurde unterbrochen (Worker nicht mehr erreichbar); wird erneut gesendet."
                        ),
                    )
                transaction.on_commit(lambda dispatch_id=dispatch_id: enqueue(dispatch_id))
    # Rows due for a while whose message was never published, or got lost.
    overdue = Dispatch.objects.filter(state=DispatchState.QUEUED, due_at__lt=now - queued_deadline).filter(
        Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lt=now - queued_deadline)
    )
    published = 0
    for dispatch_id in overdue.values_list("pk", flat=True):
        published += enqueue(dispatch_id)
    return published
