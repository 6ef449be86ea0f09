"""The outbox: what a worker must carry to a lab, with one set of guarantees for every kind.

An order (``Dispatch``), a cancellation (``Cancellation``) and staff's answer to a lab's
question (``OrderMessage``) are rows of an ``OutboxRow`` model and travel the same way
(DESIGN.md §3, docs/operations.md "The delivery guarantee"):

1. The row is stored ``queued`` in the transaction that decides it; after commit ``enqueue``
   publishes the kind's Celery task with the row's id. A broker that is down leaves the row
   to the sweeper: nothing is lost.
2. The worker ``claim``s the row with one conditional UPDATE (``queued`` and due →
   ``sending``), holding the order's row lock first: every writer of an order and its outbox
   rows takes the order's lock before the row's, so a cancellation and a claim never
   deadlock, and only one worker wins however many copies of the message exist.
3. It calls the backend with the row's idempotency key, appends to the attempt log (per
   order, ``purpose`` and ``subject``) and lets the kind (``Outbox`` subclass) move the order.
4. A transient error puts the row back to ``queued`` with a due time (exponential backoff with
   a floor and a cap) and publishes again with that countdown, until ``RETRY_HORIZON`` after
   the round's first attempt; after it, or on a permanent error, the kind gives up.
5. ``sweep`` publishes rows left ``queued`` past their due time and takes back rows left
   ``sending`` past the deadline (a killed worker; its attempt is logged as ``ambiguous``).
"""

import abc
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

from otoorder import logcontext
from otoorder.backends import registry
from otoorder.backends.exceptions import BackendError, render_error

from .choices import AttemptOutcome, DispatchState
from .models import Attempt, EarmouldOrder

logger = logging.getLogger(__name__)


def policy():
    return settings.OTOORDER_DISPATCH


class Outbox(abc.ABC):
    """One kind of outbox row: its model, task, attempt purpose and what its outcomes do.

    Subclasses implement ``deliver`` (the backend call) and ``succeeded`` (abstract); the hooks
    ``claimed``, ``retrying``, ``given_up`` and ``taken_back`` move the order and write its
    events. Hooks run inside the transaction that holds the order's lock.
    """

    model = None
    #: The Celery task's name; published by name, so this module imports no task module.
    task = ""
    purpose = ""
    #: What the log says of the row ("order %s", "cancellation %s", ...); no personal data.
    noun = "row"

    def subject(self, row):
        """The attempt log's ``subject``: "" for the order, else the row's identity."""
        return row.attempt_subject

    def idempotency_key(self, row):
        """The key every delivery of ``row`` carries (the model's ``idempotency_key``)."""
        return row.idempotency_key

    @abc.abstractmethod
    def deliver(self, row, order, backend):
        """Hand the row to the lab through ``backend``; return the result or raise BackendError."""

    @abc.abstractmethod
    def succeeded(self, row, token, order, result, started_at, duration_ms):
        """The lab took the row: write the attempt, release the row and move the order."""

    def claimed(self, row, order):
        """The claim's transaction: the order is locked and the row is ``sending``."""

    def retrying(self, row, order, error, countdown):
        """A transient failure: the row is ``queued`` again for ``countdown`` seconds."""

    def given_up(self, row, order, error, reason):
        """A permanent failure, or the horizon passed: the row is ``failed``."""

    def taken_back(self, row, order):
        """The sweeper took the row back from a presumed-dead worker (now ``queued``)."""


def enqueue(outbox, row_id, countdown=None, deferrals=0):
    """Publish the task; a broker that is down, or hangs, leaves the row to the sweeper.

    One try, bounded by the broker's socket timeouts (``BROKER_TIMEOUT``): the caller may be
    an API request whose decision is already committed, and that answer must not wait for the
    broker nor turn into an error. The queue is the lab's (``routing``); ``deferrals`` counts
    how often the row already waited for its lab's limits (``lanes``).
    """
    kwargs = {"deferrals": deferrals} if deferrals else None
    try:
        current_app.send_task(
            outbox.task,
            args=(row_id if isinstance(row_id, int) else str(row_id),),
            kwargs=kwargs,
            countdown=countdown,
            retry=False,
        )
    except Exception:  # noqa: BLE001 - any broker failure: the outbox row is the truth
        logger.warning("could not publish %s %s; the sweeper will retry", outbox.noun, row_id, exc_info=True)
        return False
    outbox.model.objects.filter(pk=row_id).update(last_enqueued_at=timezone.now())
    return True


#: What a send reads of the order besides its row: the interface, and the supplier and branch
#: of the ETA set when the lab has it. Read with the lock, so no statement is spent on them later.
ORDER_RELATIONS = ("interface_definition", "supplier", "branch")


def lock_order(order_id):
    """The order's row lock: taken before any of its outbox rows is written (no deadlock)."""
    return EarmouldOrder.objects.select_for_update(of=("self",)).select_related(*ORDER_RELATIONS).get(pk=order_id)


def claim(outbox, row_id):
    """Atomically take a due ``queued`` row; returns the claim token or None.

    The round's first claim fixes how long transient failures are retried (``retry_until``).
    """
    claimed = _claim(outbox, row_id)
    return claimed[0] if claimed else None


def _claim(outbox, row_id):
    """``claim`` for ``run``: ``(token, row, order)`` with the row as the claim left it and the
    order locked, or None. Two statements: the row joined with its order, the order's row
    locked (``FOR UPDATE OF`` the order: the order's lock first, as every writer takes it),
    and the conditional UPDATE of the row. Under the order's lock no other writer changes
    the row, so its new values are set here instead of being read again."""
    token = uuid.uuid4()
    # Inside ``run``'s transaction no savepoint of its own: one round trip less per send.
    with transaction.atomic(savepoint=False):
        row = (
            outbox.model.objects.select_related(*(f"order__{name}" for name in ORDER_RELATIONS))
            .select_for_update(of=("order",))
            .filter(pk=row_id)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        retry_until = row.retry_until or now + policy()["RETRY_HORIZON"]
        taken = outbox.model.objects.filter(pk=row_id, state=DispatchState.QUEUED, due_at__lte=now).update(
            state=DispatchState.SENDING,
            claimed_at=now,
            claim_token=token,
            attempt_count=F("attempt_count") + 1,
            attempt_number=F("attempt_number") + 1,
            retry_until=Coalesce(F("retry_until"), Value(retry_until, output_field=DateTimeField())),
        )
    if not taken:
        return None
    row.state, row.claimed_at, row.claim_token, row.retry_until = DispatchState.SENDING, now, token, retry_until
    row.attempt_count += 1
    row.attempt_number += 1
    return token, row, row.order


def backoff_seconds(attempt_count):
    """The wait before attempt ``attempt_count + 1``: exponential, jittered, floored and capped.

    With ``d = min(cap, base·2^(n−1))`` the wait is uniform in ``[max(base/2, d/2), d]``: the
    jitter spreads retries of many rows, and the floor (half the exponential step) keeps
    them from bunching in the first seconds, so the attempts cover the whole outage. Waits
    never exceed the cap (15 minutes), far below Redis' visibility timeout.
    """
    base, cap = policy()["BACKOFF_BASE_SECONDS"], policy()["BACKOFF_MAX_SECONDS"]
    step = min(cap, base * 2 ** min(max(attempt_count, 1) - 1, 30))
    return random.uniform(max(base / 2, step / 2), step)


def retry_delay(row, now):
    """Seconds until the next attempt after a transient failure, or None past the horizon.

    The last wait is shortened so that one attempt falls on the horizon itself.
    """
    left = (row.retry_until - now).total_seconds() if row.retry_until else 0
    if left <= 0:
        return None
    return min(backoff_seconds(row.attempt_count), left)


def backend_for(order):
    backend_class = registry.get_backend_class(order.backend)
    definition = order.interface_definition
    options = definition.configured_options() if definition else {}
    return backend_class(options, timeout=policy()["TRANSPORT_TIMEOUT"])


def run(outbox, row_id):
    """Carry one outbox row if it can be claimed: ``(row, order, result, error)`` or None.

    The claim and "sending" commit together, one durable write before the lab is contacted;
    then the kind's ``succeeded`` or the shared retry policy (``fail``) writes the outcome.
    """
    with transaction.atomic():
        claimed = _claim(outbox, row_id)
        if claimed is None:
            return None
        token, row, order = claimed
        logcontext.bind_order(order.pk)
        outbox.claimed(row, order)
    started_at, started = timezone.now(), time.monotonic()
    result = error = None
    try:
        result = outbox.deliver(row, order, backend_for(order))
    except BackendError as exc:
        error = exc
    except (NotImplementedError, ImproperlyConfigured) as exc:
        # A backend that breaks the protocol: a programming error, not the definition's fault.
        logger.exception("programming error in backend %s (%s %s)", order.backend, outbox.noun, row_id)
        error = BackendError(
            code="programming_error",
            params={"kind": type(exc).__name__},
            permanent=True,
            detail=f"{type(exc).__name__}: {exc}",
        )
    except Exception as exc:  # noqa: BLE001 - an unexpected bug must not lose the row
        logger.exception("unexpected error sending %s %s", outbox.noun, row_id)
        error = BackendError(code="unexpected", params={"kind": type(exc).__name__})
    duration_ms = int((time.monotonic() - started) * 1000)
    if result is not None:
        return outbox.succeeded(row, token, order, result, started_at, duration_ms)
    return fail(outbox, row, token, order, error, started_at, duration_ms)


def release(outbox, row, token, **fields):
    """Write the outbox row's outcome.

    Normally the row is still ours (``sending`` with our claim token). If the sweeper took it
    back from this presumed-dead worker meanwhile, the outcome is written all the same: the lab
    has answered, and that answer is the truth.

    Returns whether the row was still ours (then no attempt of this claim is logged yet:
    ``record_attempt(fresh=True)`` inserts it without looking).
    """
    model = outbox.model
    if model.objects.filter(pk=row.pk, state=DispatchState.SENDING, claim_token=token).update(claim_token=None, **fields):
        return True
    logger.warning("%s %s was taken back while sending; writing the lab's answer anyway", outbox.noun, row.pk)
    model.objects.filter(pk=row.pk).update(claim_token=None, **fields)
    return False


def attempt_key(outbox, row, order):
    """The attempt log's entry of the row's current claim."""
    return {"order": order, "purpose": outbox.purpose, "subject": outbox.subject(row), "number": row.attempt_number}


def record_attempt(
    outbox, row, order, started_at, duration_ms, outcome, *, permanent=False, error=None, summary=None, response="",
    fresh=False,
):
    """Append to the attempt log, numbered per order, purpose and subject (by the claim).

    If the sweeper took the row back from this presumed-dead worker meanwhile, it logged the
    attempt as ``ambiguous``; the worker's answer replaces that guess with what happened.
    ``error`` is the ``BackendError``: its code and params are kept to be rendered in the
    reader's language, its text (German, or the lab's words) beside them. ``fresh``: the
    claim was still ours when the row was released, so there is no such entry yet (one INSERT
    instead of a locking SELECT and an INSERT, each in a savepoint).
    """
    values = {
        "started_at": started_at,
        "duration_ms": duration_ms,
        "outcome": outcome,
        "permanent": permanent,
        "error": error.message if error is not None else "",
        "error_code": error.code if error is not None else "",
        "error_params": error.params if error is not None else {},
        "request_summary": summary or {},
        "response": (response or "")[:20000],
        "worker": socket.gethostname(),
    }
    if fresh:
        Attempt.objects.create(**attempt_key(outbox, row, order), **values)
    else:
        Attempt.objects.update_or_create(**attempt_key(outbox, row, order), defaults=values)


def fail(outbox, row, token, order, error, started_at, duration_ms):
    """The shared retry policy: back to ``queued`` with backoff, or give up.

    Returns what the kind's hook returned (``retrying`` or ``given_up``).
    """
    countdown = None if error.permanent else retry_delay(row, timezone.now())
    if error.permanent:
        outcome = AttemptOutcome.PERMANENT_ERROR
    else:
        outcome = AttemptOutcome.AMBIGUOUS if error.ambiguous else AttemptOutcome.TRANSIENT_ERROR
    summary = {"idempotency_key": error.idempotency_key} if getattr(error, "idempotency_key", "") else None
    with transaction.atomic():
        order = lock_order(order.pk)
        if countdown is not None:
            fields = {"state": DispatchState.QUEUED, "due_at": timezone.now() + timedelta(seconds=countdown)}
        else:
            fields = {"state": DispatchState.FAILED}
        ours = release(outbox, row, token, last_error=error.message, **fields)
        record_attempt(
            outbox,
            row,
            order,
            started_at,
            duration_ms,
            outcome,
            permanent=error.permanent,
            error=error,
            summary=summary,
            response=str(error.response or error.detail or ""),
            fresh=ours,
        )
        if countdown is not None:
            answer = outbox.retrying(row, order, error, countdown)
        else:
            reason = failure(row, error)
            answer = outbox.given_up(row, order, error, reason)
    logger.info(
        "%s %s of order %s attempt %s failed (permanent=%s)",
        outbox.noun, row.pk, order.pk, row.attempt_count, error.permanent,
    )
    return answer


def failure(row, error):
    """Why a row was given up, as event params: the error, and after retries how many and
    how long (``event_texts``: ``send_failed``)."""
    if error.permanent:
        return {"error": error.as_data()}
    return {
        "variant": "gave_up",
        "error": error.as_data(),
        "n": row.attempt_count,
        "duration": int(policy()["RETRY_HORIZON"].total_seconds()),
    }


def retry_params(row, error, countdown):
    """What staff read after a transient failure, as event params (``send_retry``)."""
    params = {"n": row.attempt_count, "error": error.as_data(), "s": int(countdown)}
    if error.ambiguous:
        params["variant"] = "ambiguous"
    return params


def sweep(outbox, now=None):
    """Publish the kind's rows that should be moving and are not; returns how many."""
    now = now or timezone.now()
    queued_deadline, sending_deadline = policy()["QUEUED_DEADLINE"], policy()["SENDING_DEADLINE"]
    model = outbox.model
    # Rows whose worker died mid-send: back to the queue (the lab dedupes by the key).
    stale = list(
        model.objects.filter(state=DispatchState.SENDING, claimed_at__lt=now - sending_deadline).values_list(
            "pk", "order_id"
        )
    )
    for row_id, order_id in stale:
        with transaction.atomic():
            order = lock_order(order_id)
            taken = model.objects.filter(
                pk=row_id, state=DispatchState.SENDING, claimed_at__lt=now - sending_deadline
            ).update(state=DispatchState.QUEUED, claim_token=None, due_at=now)
            if not taken:
                continue
            row = model.objects.get(pk=row_id)
            # Nobody knows how far the dead worker got: the lab may have it.
            Attempt.objects.get_or_create(
                **attempt_key(outbox, row, order),
                defaults={
                    "started_at": row.claimed_at,
                    "duration_ms": int((now - row.claimed_at).total_seconds() * 1000),
                    "outcome": AttemptOutcome.AMBIGUOUS,
                    "error": render_error("interrupted", language="de"),
                    "error_code": "interrupted",
                    "request_summary": {"idempotency_key": outbox.idempotency_key(row)},
                    "worker": socket.gethostname(),
                },
            )
            outbox.taken_back(row, order)
            transaction.on_commit(lambda row_id=row_id: enqueue(outbox, row_id))
    # Rows due for a while whose message was never published, or got lost.
    overdue = model.objects.filter(state=DispatchState.QUEUED, due_at__lt=now - queued_deadline).filter(
        Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lt=now - queued_deadline)
    )
    published = 0
    for row_id in overdue.values_list("pk", flat=True):
        published += enqueue(outbox, row_id)
    return published
